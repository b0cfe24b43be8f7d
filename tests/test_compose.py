"""The docker-compose wiring (nothing here can run Docker, so check the file itself)."""

import re
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
    url = env["AION_REDIS_URL"]
    assert url.startswith("redis://")
    assert url.removeprefix("redis://").rpartition("@")[2].startswith("redis:6379/")
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
    for word in ("admin123", "changeme"):
        assert word not in text
    assert not re.search(r"password:\s", text), "a password given as a YAML value"


PASSWORD = re.compile(r"\$\{REDIS_PASSWORD:\?[^}]+\}")
"""Compose's required-variable form: no default, an error message when unset."""


def test_published_ports_listen_on_loopback_only() -> None:
    published = {name: service.get("ports") or []
                 for name, service in load()["services"].items()}
    assert published["redis"] and published["redpanda"]
    for name, ports in published.items():
        for port in ports:
            # Short syntax "HOST_IP:HOST:CONTAINER" or long syntax with host_ip.
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"


def test_redis_requires_a_password_from_the_environment() -> None:
    redis = load()["services"]["redis"]
    command = redis["command"]
    password = command[command.index("--requirepass") + 1]
    assert PASSWORD.fullmatch(password), password
    # Its health check authenticates (REDISCLI_AUTH) and wants PONG, not NOAUTH.
    assert PASSWORD.fullmatch(redis["environment"]["REDISCLI_AUTH"])
    assert "PONG" in " ".join(redis["healthcheck"]["test"])


def test_workers_reach_redis_with_that_password() -> None:
    url = load()["services"]["worker"]["environment"]["AION_REDIS_URL"]
    auth = url.removeprefix("redis://").rpartition("@")[0]
    assert PASSWORD.fullmatch(auth.removeprefix(":")), url


def test_no_secret_has_a_default() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    secrets = re.findall(r"\$\{(\w*(?:PASSWORD|SECRET|TOKEN)\w*)([^}]*)\}", text)
    assert secrets, "no secret comes from the environment"
    for name, rest in secrets:
        assert rest.startswith(":?"), f"${{{name}}} must be required, not defaulted"


def test_worker_web_views_are_not_published() -> None:
    worker = load()["services"]["worker"]
    assert "ports" not in worker and worker["expose"] == ["6066"]


def test_image_runs_as_a_non_root_user() -> None:
    instructions = [line.strip().split(None, 1) for line in
                    (ROOT / "Dockerfile").read_text().splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    users = [args for word, args in instructions if word.upper() == "USER"]
    assert users, "the Dockerfile has no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # The user is created in the image (a USER naming nobody fails at run time).
    assert any(word.upper() == "RUN" and "useradd" in args and user in args.split()
               for word, args in instructions)
