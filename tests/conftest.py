"""Shared fixtures: a real Kafka-protocol broker and a real Redis for integration tests.

Resolution, per service: ``AION_KAFKA_BOOTSTRAP`` / ``AION_REDIS_URL`` if set; else
testcontainers (Redpanda, Redis) when a Docker engine answers; else the embedded Tansu
broker and Valkey server that ``aion`` itself uses.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aion import infra

FIXTURES = Path(__file__).parent / "fixtures"


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        return bool(client.ping())
    except Exception:  # no engine, no socket, no permission: all mean "not here"
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real Kafka-protocol broker."""
    if os.environ.get("AION_KAFKA_BOOTSTRAP"):
        yield os.environ["AION_KAFKA_BOOTSTRAP"]
        return
    if _docker_answers():
        from testcontainers.kafka import RedpandaContainer

        with RedpandaContainer() as container:
            yield container.get_bootstrap_server()
        return
    service = infra.start_kafka()
    try:
        yield service.address
    finally:
        infra.stop(service)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL (DB 0) of a real Redis-protocol server."""
    if os.environ.get("AION_REDIS_URL"):
        yield os.environ["AION_REDIS_URL"]
        return
    if _docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    service = infra.start_redis()
    try:
        yield service.address
    finally:
        infra.stop(service)


@pytest.fixture()
def redis_flushed(redis_url: str) -> Iterator[str]:
    """The Redis URL with every database emptied before the test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()
    yield redis_url
    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(redis_url)
        client.flushall()
        client.close()


def pytest_report_header(config: pytest.Config) -> str:
    """Name the oracle versions in the run's header (tests/test_oracle_versions.py pins)."""
    from importlib import metadata

    names = ("kiteconnect", "ta-lib", "vollib", "lets-be-rational", "pandas-market-calendars")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    return "oracles: " + ", ".join(found)
