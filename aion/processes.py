"""Child processes a command owns, and how they are stopped on every exit.

An owned child (the embedded broker and Redis of a backtest, its workers) runs in its
own process group, is recorded here, and is stopped (SIGTERM to its group, a bounded
grace, then SIGKILL) when the command exits by any path: normally, by an exception, by
Ctrl-C, or by SIGTERM once :func:`terminate_as_interrupt` is installed. If the command
itself is killed outright (SIGKILL), the kernel kills its owned children
(``PR_SET_PDEATHSIG``), so none is left to PID 1. Services handed over on purpose
(``aion infra up``) are started with ``owned=False`` and outlive the command.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

GRACE_S = 10.0
"""How long a child may take to stop after SIGTERM before it is killed."""

_PR_SET_PDEATHSIG = 1
_owned: dict[int, subprocess.Popen[bytes]] = {}
try:  # resolved here, not in the forked child (no dynamic loading between fork and exec)
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: children are still stopped on every exit
    _prctl = None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` runs and children are stopped."""


def _die_with_parent(parent: int) -> None:
    """In the child before exec: SIGKILL when the parent goes (Linux), or now if it went."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent died between fork and prctl
        os._exit(1)


def spawn(argv: Sequence[str], log_path: Path, *, env: Mapping[str, str] | None = None,
          owned: bool = True) -> subprocess.Popen[bytes]:
    """Start a child in its own process group, output appended to ``log_path``.

    Its own group, so a terminal's Ctrl-C reaches this process first and children are
    stopped in order. Must be called from the main thread when ``owned`` (the kernel ties
    the death signal to the thread that forked).

    Args:
        argv: Program and arguments.
        log_path: Its stdout and stderr (the directory is created).
        env: Its environment (default: ours).
        owned: Stop it when this process exits; False hands it over (it outlives us).

    Returns:
        The process.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    parent = os.getpid()
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            list(argv), env=None if env is None else dict(env), stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=(lambda: _die_with_parent(parent)) if owned else None,
        )
    if owned:
        _owned[proc.pid] = proc
    return proc


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count).

    Args:
        pid: Process id.

    Returns:
        True while it exists and is not a zombie.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal ``pid``'s process group when it leads one (our children do), else ``pid``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _reaped(pid: int) -> bool:
    """Reap ``pid`` if it is our child; True once it is gone."""
    proc = _owned.get(pid)
    if proc is not None:
        return proc.poll() is not None
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return True
    except ChildProcessError:  # not our child (an `aion infra up` service)
        pass
    return not alive(pid)


def stop_pid(pid: int, grace: float = GRACE_S) -> None:
    """Stop a process and its group: SIGTERM, then SIGKILL after ``grace`` seconds.

    Args:
        pid: Process (group leader) to stop.
        grace: Seconds it may take to exit cleanly.
    """
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while not _reaped(pid):
        if time.monotonic() >= deadline:
            log.warning("pid %s ignored SIGTERM for %.0fs: killing it", pid, grace)
            _signal_group(pid, signal.SIGKILL)
            proc = _owned.get(pid)
            if proc is not None:
                proc.wait()
            break
        time.sleep(0.05)
    if _owned.pop(pid, None) is not None:
        # The group's other members (a child's own children) go with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def stop(proc: subprocess.Popen[bytes], grace: float = GRACE_S) -> None:
    """Stop a child started by :func:`spawn` (see :func:`stop_pid`)."""
    stop_pid(proc.pid, grace)
    proc.wait()


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a child started by :func:`spawn` and its group at once (crash tests)."""
    _owned.pop(proc.pid, None)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def stop_all(grace: float = GRACE_S) -> None:
    """Stop every owned child still running, the latest started first."""
    for pid in reversed(list(_owned)):
        stop_pid(pid, grace)


def terminate_as_interrupt() -> None:
    """Make SIGTERM act as Ctrl-C in the main thread.

    It runs the current SIGINT handler (Python's, which raises ``KeyboardInterrupt``, or
    asyncio's, which cancels the main task); where SIGINT is ignored (a background job
    of a non-interactive shell) it raises :class:`Terminated`.

    Without it SIGTERM ends the interpreter at once: no ``finally``, no ``atexit``, so
    nothing would stop the children in order or delete a run's topics.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        # Hand over to the SIGINT handler: inside asyncio.run that one cancels the main
        # task (an orderly unwind, then KeyboardInterrupt), where an exception raised in
        # a suspended coroutine would leave half-closed generators behind.
        on_interrupt = signal.getsignal(signal.SIGINT)
        if callable(on_interrupt) and on_interrupt is not handler:
            on_interrupt(signal.SIGINT, frame)
            return
        raise Terminated(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


atexit.register(stop_all)
