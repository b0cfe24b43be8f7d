import json

import pytest

from aion.agents.faust_emitter import size_chunks
from aion.tables.records import DeadLetter, RecordCodec


def test_size_chunks_keeps_order_and_stays_near_the_limit():
    records = [DeadLetter(reason="x" * (i * 37 % 300), index=i) for i in range(200)]
    chunks = size_chunks(records, 2000)
    codec = RecordCodec([DeadLetter])
    assert [r for c in chunks for r in codec.decode_many(c)] == records
    for c in chunks:
        assert len(c) <= 2000 + 2 or len(json.loads(c)) == 1
    assert size_chunks([], 10) == []
    big = [DeadLetter(reason="y" * 5000)]
    assert [codec.decode_many(c) for c in size_chunks(big, 100)] == [big]


def test_unknown_worker_role_is_a_config_error(tmp_path):
    from aion.agents.app import create_app
    from aion.config import ConfigError, Settings

    settings = Settings.load(env={"AION_WORKER__ROLE": "both", "AION_CACHE_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"worker\.role"):
        create_app(settings, "127.0.0.1:1", "redis://127.0.0.1:1")


def test_worker_timings_come_from_the_yaml(tmp_path):
    """One source of defaults: what create_app uses is what config/default.yaml says."""
    import yaml

    from aion.agents.app_settings import AppSettings
    from aion.config import Settings
    from aion.config.settings import DEFAULT_FILE

    yml = yaml.safe_load(DEFAULT_FILE.read_text())["worker"]
    s = AppSettings.from_settings(Settings.load(env={"AION_CACHE_DIR": str(tmp_path)}))
    assert (s.session_timeout_s, s.heartbeat_interval_s, s.rebalance_timeout_s,
            s.commit_interval_s) == (yml["session_timeout_s"], yml["heartbeat_interval_s"],
                                     yml["rebalance_timeout_s"], yml["commit_interval_s"])
