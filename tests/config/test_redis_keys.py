import pytest

from aion.config import ConfigError, KeyLayout


def test_reference_examples() -> None:
    layout = KeyLayout.load()
    session = layout.key("session", tradingsymbol="HDFCBANK", date="2025-10-23")
    assert (session.name, session.db) == ("session:HDFCBANK:2025-10-23", 0)
    bucket = layout.key(
        "volume_bucket", resolution=1, tradingsymbol="SUNPHARMA25NOVFUT", hour="12", minute="54"
    )
    assert bucket.name == "volume:volume:bucket1:SUNPHARMA25NOVFUT:buckets:12:54"
    ind = layout.key("indicator", symbol="NFO:NIFTY25DEC26000CE", name="rsi")
    assert (ind.name, ind.db, ind.ttl) == ("indicators:NFO:NIFTY25DEC26000CE:rsi", 5, 300)
    avg = layout.key("volume_averages", exchange="NSE", tradingsymbol="HDFCBANK")
    assert (avg.name, avg.db, avg.ttl) == ("volume_averages:NSE_HDFCBANK", 5, None)
    poc = layout.key("volume_profile_poc", symbol="NFO:NIFTY25DECFUT")
    assert (poc.name, poc.db, poc.ttl) == ("volume_profile:poc:NFO:NIFTY25DECFUT", 2, 86400)


def test_missing_or_extra_placeholder_is_an_error() -> None:
    layout = KeyLayout.load()
    with pytest.raises(ConfigError):
        layout.key("session", tradingsymbol="X")
    with pytest.raises(ConfigError):
        layout.key("session", tradingsymbol="X", date="d", extra=1)
    with pytest.raises(ConfigError):
        layout.key("nope")


def test_databases_match_critical_schema() -> None:
    layout = KeyLayout.load()
    assert layout.databases == {
        "system": 0, "realtime": 1, "analytics": 2, "validator": 3, "indicators": 5,
    }


def test_url_for_db_overrides_path() -> None:
    from aion.config import url_for_db

    assert url_for_db("redis://127.0.0.1:6379/0", 5) == "redis://127.0.0.1:6379/5"
    assert url_for_db("redis://u:p@h:1", 2) == "redis://u:p@h:1/2"
