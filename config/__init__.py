"""aion.config: settings (YAML + ``AION_*`` env) and the Redis key layout."""

from aion.config.redis_keys import KeyLayout, RedisKey, url_for_db
from aion.config.settings import ConfigError, Settings

__all__ = ["ConfigError", "KeyLayout", "RedisKey", "Settings", "url_for_db"]
