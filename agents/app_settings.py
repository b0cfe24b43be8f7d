"""The worker's settings, typed; every default lives in ``config/default.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aion.agents.writers.base import TtlPolicy
from aion.config import ConfigError, Settings

ROLES = ("all", "engine", "mirror")
"""``worker.role``: everything, or the engine (tick and chain agents, their tables) and
the Redis mirror in separate processes (its own consumer group ``{app_id}-mirror``)."""


@dataclass(frozen=True)
class AppSettings:
    """What :func:`aion.agents.app.create_app` needs, validated at construction.

    Attributes:
        app_id: Faust app id (without the run prefix).
        topic_prefix: Prefix of every topic.
        partitions: Partitions of the tick topic and everything co-partitioned with it.
        replicas: Replication factor of created topics.
        role: ``all``, ``engine`` or ``mirror``.
        session_timeout_s: Consumer-group session timeout.
        heartbeat_interval_s: Consumer heartbeat interval.
        rebalance_timeout_s: Rebalance timeout.
        commit_interval_s: Offset commit interval.
        table_standby_replicas: Standby replicas of the tables.
        web_enabled: Whether the web server runs.
        web_bind: Address the web server listens on.
        web_host: Address it advertises (URLs other workers are given).
        web_port: Its port.
        web_debug_views: Whether Faust's own table, router, graph and stats views run.
        cache_dir: Where the Faust data directory lives.
        mirror_ttl: Expiry policy of the Redis keys.
    """

    app_id: str
    topic_prefix: str
    partitions: int
    replicas: int
    role: str
    session_timeout_s: float
    heartbeat_interval_s: float
    rebalance_timeout_s: float
    commit_interval_s: float
    table_standby_replicas: int
    web_enabled: bool
    web_bind: str
    web_host: str
    web_port: int
    web_debug_views: bool
    cache_dir: Path
    mirror_ttl: TtlPolicy

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(f"worker.role must be one of {', '.join(ROLES)}, "
                              f"got {self.role!r}")
        if self.partitions < 1:
            raise ConfigError(f"partitions must be at least 1, got {self.partitions}")

    @property
    def engine(self) -> bool:
        """Whether this worker runs the tick and chain agents."""
        return self.role in ("all", "engine")

    @property
    def mirror(self) -> bool:
        """Whether this worker runs the Redis mirror."""
        return self.role in ("all", "mirror")

    @classmethod
    def from_settings(cls, settings: Settings) -> AppSettings:
        """Read and check every key (a key missing from the YAML is an error).

        Args:
            settings: Resolved settings.

        Returns:
            The typed settings.

        Raises:
            ConfigError: For a missing or invalid value.
        """
        missing = object()

        def need(key: str) -> Any:
            value = settings.get(key, missing)
            if value is missing or value is None:
                raise ConfigError(f"setting {key!r} is missing (config/default.yaml)")
            return value

        try:
            return cls(
                app_id=str(need("app_id")),
                topic_prefix=settings.topic_prefix,
                partitions=int(need("partitions")),
                replicas=int(need("replicas")),
                role=str(need("worker.role")),
                session_timeout_s=float(need("worker.session_timeout_s")),
                heartbeat_interval_s=float(need("worker.heartbeat_interval_s")),
                rebalance_timeout_s=float(need("worker.rebalance_timeout_s")),
                commit_interval_s=float(need("worker.commit_interval_s")),
                table_standby_replicas=int(need("worker.table_standby_replicas")),
                web_enabled=bool(need("web.enabled")),
                web_bind=str(need("web.bind")),
                web_host=str(need("web.host")),
                web_port=int(need("web.port")),
                web_debug_views=_flag(need("web.debug_views")),
                cache_dir=settings.cache_dir,
                mirror_ttl=TtlPolicy.parse(str(need("mirror.ttl"))),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"invalid worker setting: {exc}") from exc


def _flag(value: Any) -> bool:
    """A boolean setting (environment values are YAML scalars, so ``true`` is a bool)."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value
