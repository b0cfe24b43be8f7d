"""Owned child processes: stopped with a bounded grace, their whole group with them."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from aion import processes


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry of this test's children only: ``stop_all`` must not reach the session's
    broker and Redis (started through the same module by tests/conftest.py)."""
    monkeypatch.setattr(processes, "_owned", {})


def test_a_child_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    # The shell ignores SIGTERM and has a child of its own (sleep) in its process group.
    script = f"trap '' TERM; sleep 300 & echo $! > {ready}.tmp; mv {ready}.tmp {ready}; wait"
    proc = processes.spawn(["sh", "-c", script], tmp_path / "child.log")
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline and proc.poll() is None, "child never got ready"
        time.sleep(0.02)
    grandchild = int(ready.read_text())
    processes.stop(proc, grace=0.5)
    assert proc.returncode == -signal.SIGKILL  # it ignored SIGTERM, so the grace ran out
    # SIGKILL went to the whole group; the orphaned grandchild dies as soon as it is
    # scheduled (polled, not slept for).
    deadline = time.monotonic() + 10
    while processes.alive(grandchild):
        assert time.monotonic() < deadline, "the grandchild outlived its group's SIGKILL"
        time.sleep(0.02)
    assert proc.pid not in processes._owned


def test_stop_all_stops_what_is_still_running(tmp_path: Path) -> None:
    procs = [processes.spawn(["sleep", "300"], tmp_path / f"sleep{i}.log") for i in range(2)]
    processes.stop_all(grace=5)
    assert [p.poll() for p in procs] == [-signal.SIGTERM, -signal.SIGTERM]


def test_a_handed_over_child_is_not_stopped(tmp_path: Path) -> None:
    proc = processes.spawn(["sleep", "300"], tmp_path / "kept.log", owned=False)
    try:
        processes.stop_all(grace=1)
        assert proc.poll() is None
    finally:
        processes.stop(proc, grace=1)
