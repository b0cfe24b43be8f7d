from pathlib import Path

import pytest

from aion.config import ConfigError, Settings


def test_defaults_leave_infra_unset() -> None:
    s = Settings.load(env={})
    assert s.kafka_bootstrap is None
    assert s.redis_url is None
    assert s.partitions == 4


def test_env_overrides_yaml_with_typed_values() -> None:
    s = Settings.load(
        env={"AION_PARTITIONS": "8", "AION_WEB__PORT": "7001", "AION_KAFKA_BOOTSTRAP": "h:1"}
    )
    assert s.partitions == 8
    assert s.get("web.port") == 7001
    assert s.kafka_bootstrap == "h:1"


def test_empty_env_means_unset_and_unknown_names_ignored() -> None:
    s = Settings.load(env={"AION_KAFKA_BOOTSTRAP": "", "AION_NOT_A_SETTING": "x"})
    assert s.kafka_bootstrap is None
    assert s.get("not_a_setting") is None


def test_custom_file_merges_over_defaults(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("partitions: 2\nweb:\n  port: 9000\n")
    s = Settings.load(env={"AION_CONFIG": str(f)})
    assert s.partitions == 2
    assert s.get("web.port") == 9000
    assert s.get("web.host") == "127.0.0.1"


def test_bad_yaml_is_a_config_error(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("partitions: [\n")
    with pytest.raises(ConfigError):
        Settings.load(path=f, env={})


def test_missing_settings_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=f"cannot read settings file {missing}"):
        Settings.load(env={"AION_CONFIG": str(missing)})


@pytest.mark.parametrize("value", ["0", "-1", "abc", "2.5", "true"])
def test_partitions_must_be_a_positive_integer(value: str) -> None:
    s = Settings.load(env={"AION_PARTITIONS": value})
    with pytest.raises(ConfigError, match=r"partitions \(AION_PARTITIONS\) must be a positive"):
        _ = s.partitions
