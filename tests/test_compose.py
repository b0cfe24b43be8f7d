"""The docker-compose wiring (nothing here can run Docker, so check the file itself)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def load() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_present() -> None:
    services = load()["services"]
    assert {"redpanda", "redis", "worker"} <= set(services)


def test_every_aion_command_exists() -> None:
    """A service may only run an ``aion`` subcommand the CLI really has."""
    import argparse

    from aion.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, service in load()["services"].items():
        command = service.get("command") or []
        if command[:1] == ["aion"]:
            assert command[1] in sub.choices, f"{name}: 'aion {command[1]}' does not exist"
            # Its options parse too (a typo in the compose file fails here, not in prod).
            sub.choices[command[1]].parse_args(command[2:])


def test_worker_scales_and_points_at_broker_and_redis() -> None:
    worker = load()["services"]["worker"]
    env = worker["environment"]
    assert env["AION_KAFKA_BOOTSTRAP"] == "redpanda:9092"
    assert env["AION_REDIS_URL"].startswith("redis://redis:6379")
    # `--scale worker=N` fails when a service publishes a fixed host port or names its container.
    assert "ports" not in worker
    assert "container_name" not in worker
    assert worker["command"][:2] == ["aion", "worker"]
    assert set(worker["depends_on"]) == {"redpanda", "redis"}


def test_redpanda_advertises_internal_address_used_by_worker() -> None:
    cmd = " ".join(load()["services"]["redpanda"]["command"])
    assert "internal://redpanda:9092" in cmd
    assert "--smp=1" in cmd


def test_redis_is_7_or_newer() -> None:
    image = load()["services"]["redis"]["image"]
    major = int(image.split(":")[1].split(".")[0])
    assert major >= 7


def test_env_names_are_settings_the_code_reads() -> None:
    from aion.config import Settings

    for service in load()["services"].values():
        for name in service.get("environment") or ():
            if not name.startswith("AION_"):
                continue
            path = name[len("AION_") :].lower().replace("__", ".")
            assert Settings.load(env={}).get(path, "<missing>") != "<missing>", name


def test_no_default_passwords() -> None:
    text = (ROOT / "docker-compose.yml").read_text().lower()
    for word in ("admin123", "password:", "changeme"):
        assert word not in text
