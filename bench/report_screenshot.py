"""Screenshot a backtest report in headless Chromium (checks that its charts render).

Usage::

    .venv/bin/python bench/report_screenshot.py REPORT.html OUT.png [--width 1400 --height 2400]

Runs ``chromium`` (``/usr/bin/chromium``, else ``chromium`` / ``chromium-browser`` /
``google-chrome`` on PATH; ``--chromium PATH`` to choose) headless with no sandbox, no GPU,
no background networking, component updates or first-run work, writes the PNG and prints
its path. The report is self-contained, so the browser fetches nothing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium executable to run.

    Args:
        explicit: A path given by the user (used as is when set).

    Returns:
        The executable.

    Raises:
        SystemExit: None found.
    """
    if explicit:
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("error: no chromium found (apt-get install -y chromium, or --chromium)")


def screenshot(report: Path, out: Path, *, width: int = 1400, height: int = 2400,
               chromium: str | None = None, timeout_s: float = 120.0) -> Path:
    """Render ``report`` headless and save a PNG of its first ``width`` x ``height`` pixels.

    Args:
        report: The HTML report.
        out: PNG to write.
        width: Window width, pixels.
        height: Window height, pixels.
        chromium: Executable (default: :func:`find_chromium`).
        timeout_s: Give up after this long.

    Returns:
        ``out``.

    Raises:
        SystemExit: The browser failed or wrote no file.
    """
    exe = find_chromium(chromium)
    out = out.resolve()
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="aion-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
               f"--screenshot={out}", f"--window-size={width},{height}",
               report.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    if not out.is_file():
        raise SystemExit(f"error: chromium wrote no screenshot (exit {proc.returncode}): "
                         f"{proc.stderr.strip()[-500:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: ``REPORT.html OUT.png``; prints the PNG's path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2400)
    parser.add_argument("--chromium", default=None, help="browser executable")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        raise SystemExit(f"error: no such file: {args.report}")
    print(screenshot(args.report, args.out, width=args.width, height=args.height,
                     chromium=args.chromium))
    return 0


if __name__ == "__main__":
    sys.exit(main())
