"""``aion backtest`` fails fast on unreachable services and leaves no process behind.

Every process the command starts inherits a marker in its environment, so the tests find
them in /proc whoever their parent is now (an orphan is re-parented to PID 1). Redis
rewrites its process title over its environment, so the command's direct children are
also recorded by parent pid while it runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from datetime import time as dtime
from pathlib import Path
from typing import TypeVar

import pytest

from aion import processes
from aion.agents.backtest import worker_stats
from aion.infra import free_port
from aion.streams.simulator import simulate

REPO = Path(__file__).resolve().parents[2]
MARKER = "AION_TEST_PROBE"  # an AION_ name the settings do not know, so they ignore it
DEADLINE_S = 120.0
T = TypeVar("T")


def marked(tag: str) -> dict[int, str]:
    """Live (non-zombie) processes whose environment carries ``MARKER=tag``: pid -> argv."""
    needle = f"{MARKER}={tag}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if needle in env and processes.alive(int(entry.name)):
            found[int(entry.name)] = argv
    return found


def children_of(parent: int) -> set[int]:
    """Live processes whose parent is ``parent``."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.add(int(entry.name))
    return found


def survivors(tag: str, started: set[int]) -> set[int]:
    """What is still alive of what the command started (marked, or recorded children)."""
    return set(marked(tag)) | {pid for pid in started if processes.alive(pid)}


def wait_for(what: str, check: Callable[[], T], deadline_s: float = DEADLINE_S) -> T:
    """Poll ``check`` until it returns something truthy; fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {deadline_s:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("session") / "s.parquet"
    simulate(date(2025, 11, 18), 11, path, start=dtime(9, 15), end=dtime(9, 45))
    return path


@pytest.fixture()
def probe(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A marker and a clean environment for the command (private cache, nothing set)."""
    tag = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items()
           if k not in ("AION_KAFKA_BOOTSTRAP", "AION_REDIS_URL", "AION_TOPIC_PREFIX")}
    env.update({"AION_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200", MARKER: tag})
    yield tag, env
    for pid in marked(tag):  # never leave a failed test's processes to the next one
        processes.stop_pid(pid, grace=1.0)


def backtest(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "aion.cli", "backtest", *args], env=env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def assert_one_error_line(code: int, err: str, *mentions: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    for word in mentions:
        assert word.lower() in lines[0].lower(), lines[0]


UNREACHABLE = {
    # name: (arguments, setting, value with {port}, words the error line must hold)
    "redis-faust": (["--driver", "faust"], "AION_REDIS_URL", "redis://127.0.0.1:{port}/0",
                    ("Redis", "redis://127.0.0.1:{port}/0")),
    "redis-direct": (["--driver", "direct"], "AION_REDIS_URL", "redis://127.0.0.1:{port}/0",
                     ("Redis", "redis://127.0.0.1:{port}/0")),
    "broker": (["--no-keep"], "AION_KAFKA_BOOTSTRAP", "127.0.0.1:{port}",
               ("broker", "127.0.0.1:{port}")),
    # A password in the URL is never printed.
    "redis-password": (["--no-keep"], "AION_REDIS_URL", "redis://:hunter2@127.0.0.1:{port}/0",
                       ("Redis", ":***@127.0.0.1:{port}")),
}


@pytest.mark.parametrize("case", list(UNREACHABLE))
def test_unreachable_service_fails_fast_in_one_line(session: Path, probe, case: str) -> None:
    tag, env = probe
    args, setting, value, words = UNREACHABLE[case]
    port = free_port()
    started = time.monotonic()
    proc = backtest([*args, str(session)], {**env, setting: value.format(port=port)})
    _, err = proc.communicate(timeout=60)
    print(f"unreachable {case}: exit after {time.monotonic() - started:.1f}s")
    assert_one_error_line(proc.returncode, err, "unreachable",
                          *(word.format(port=port) for word in words))
    assert "hunter2" not in err
    assert not marked(tag)


def web_port(pid: int) -> int | None:
    """An engine worker's web port (from its environment), None for other processes."""
    env = dict(item.split(b"=", 1) for item in
               Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in item)
    if env.get(b"AION_WORKER__ROLE") != b"engine":
        return None
    return int(env[b"AION_WEB__PORT"])


def _mid_run(proc: subprocess.Popen[str], tag: str) -> set[int]:
    """Wait until the broker, Redis and both workers run and bundles are being applied.

    Returns:
        The command's child processes.
    """
    def started() -> set[int] | None:
        assert proc.poll() is None, proc.communicate()
        workers = [pid for pid, argv in marked(tag).items() if "aion.cli worker" in argv]
        children = children_of(proc.pid)
        if len(workers) != 2 or len(children) != 4:
            return None
        ports = [port for port in map(web_port, workers) if port is not None]
        applied = sum((worker_stats(port) or {}).get("bundles", 0) for port in ports)
        return children if applied > 0 else None

    return wait_for("the broker, Redis and two workers applying bundles", started)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_signal_mid_run_stops_every_process_it_started(session: Path, probe,
                                                       sig: signal.Signals) -> None:
    tag, env = probe
    proc = backtest(["--no-keep", str(session)], env)
    children = _mid_run(proc, tag)
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    print(f"{sig.name}: exit {proc.returncode} after {time.monotonic() - sent:.1f}s")
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert "interrupted" in err
    assert survivors(tag, children) == set(), "outlived the backtest"


def test_kept_infra_is_the_only_survivor_and_is_announced(session: Path, probe,
                                                          tmp_path: Path) -> None:
    """With --keep (the default) the `aion infra` services stay, and the user is told."""
    tag, env = probe
    proc = backtest([str(session)], env)
    children = _mid_run(proc, tag)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    state = json.loads((tmp_path / "cache" / "infra.json").read_text())
    kept = {state["kafka"]["pid"], state["redis"]["pid"]}
    try:
        assert proc.returncode == 130, err
        assert "aion infra down" in err
        assert survivors(tag, children) == kept
    finally:
        subprocess.run([sys.executable, "-m", "aion.cli", "infra", "down"], env=env,
                       cwd=REPO, capture_output=True, timeout=60, check=False)
    assert survivors(tag, children) == set()


def test_children_die_with_a_killed_backtest(session: Path, probe) -> None:
    """Even SIGKILL (no handler runs) leaves nothing behind: the kernel kills the children."""
    tag, env = probe
    proc = backtest(["--no-keep", str(session)], env)
    children = _mid_run(proc, tag)
    proc.kill()
    proc.communicate(timeout=60)
    wait_for("the children to die with their parent",
             lambda: not survivors(tag, children), 30)
