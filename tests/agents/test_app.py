import json

from aion.agents.app import size_chunks


def test_size_chunks_keeps_order_and_stays_near_the_limit():
    docs = [{"i": i, "pad": "x" * (i * 37 % 300)} for i in range(200)]
    chunks = size_chunks(docs, 2000)
    assert [json.loads(d) for c in chunks for d in c] == docs
    for c in chunks:
        assert sum(len(d) for d in c) <= 2000 or len(c) == 1
        assert json.loads(b"[" + b",".join(c) + b"]") == [json.loads(d) for d in c]
    assert size_chunks([], 10) == []
    big = [{"pad": "y" * 5000}]
    assert [[json.loads(d) for d in c] for c in size_chunks(big, 100)] == [big]


def test_unknown_worker_role_is_a_config_error(tmp_path):
    import pytest

    from aion.agents.app import create_app
    from aion.config import ConfigError, Settings

    settings = Settings.load(env={"AION_WORKER__ROLE": "both", "AION_CACHE_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"worker\.role"):
        create_app(settings, "127.0.0.1:1", "redis://127.0.0.1:1")
