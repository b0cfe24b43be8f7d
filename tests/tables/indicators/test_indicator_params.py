import pytest

from aion.tables.indicators import IndicatorParams, MacdParams


def test_defaults():
    p = IndicatorParams()
    assert p.ema_periods == (5, 10, 20, 50, 100, 200)
    assert p.ema_crossovers == ((5, 20), (20, 50))
    assert p.sma_periods == (20,)
    assert (p.macd.fast, p.macd.slow, p.macd.signal) == (12, 26, 9)
    periods = (p.adx, p.aroon, p.rsi, p.williams_r, p.cci, p.roc, p.atr)
    assert periods == (14, 14, 14, 14, 20, 10, 14)
    assert (p.stoch.fastk, p.stoch.slowk, p.stoch.slowd) == (14, 3, 3)
    assert (p.psar.acceleration, p.psar.maximum) == (0.02, 0.2)
    assert (p.bollinger_bands.period, p.bollinger_bands.nbdev_up) == (20, 2.0)
    assert (p.keltner.ema_period, p.keltner.atr_period, p.keltner.multiplier) == (20, 10, 2.0)
    assert (p.donchian, p.cmf, p.mfi) == (20, 20, 14)
    assert IndicatorParams.from_mapping(None) == p == IndicatorParams.from_mapping({})


def test_from_mapping_overrides_and_round_trip():
    m = {
        "ema_periods": [9, 21],
        "ema_crossovers": [[21, 9]],
        "sma_periods": [50, 20, 20],
        "macd": {"fast": 26, "slow": 12},
        "rsi": {"period": 7},
        "atr": 10,
        "psar": {"acceleration": 0.01},
        "keltner": {"multiplier": 1.5},
    }
    p = IndicatorParams.from_mapping(m)
    assert p.ema_periods == (9, 21)
    assert p.ema_crossovers == ((9, 21),)
    assert p.sma_periods == (20, 50)
    assert p.macd == MacdParams(12, 26, 9)
    assert (p.rsi, p.atr, p.psar.acceleration, p.psar.maximum) == (7, 10, 0.01, 0.2)
    assert p.keltner.multiplier == 1.5
    assert IndicatorParams.from_mapping(p.to_mapping()) == p


@pytest.mark.parametrize(
    "bad",
    [
        {"rsii": 14},
        {"rsi": 1},
        {"rsi": 14.0},
        {"rsi": True},
        {"rsi": {"periods": 3}},
        {"macd": {"fast": 12, "slow": 12}},
        {"macd": {"fats": 3}},
        {"macd": 12},
        {"ema_periods": "5,10"},
        {"ema_crossovers": [[5, 5]]},
        {"ema_crossovers": [[5, 10, 20]]},
        {"psar": {"acceleration": 0}},
        {"bollinger_bands": {"nbdev_up": -1}},
        {"stoch": {"fastk": 0}},
    ],
)
def test_bad_config_is_rejected(bad):
    with pytest.raises(ValueError):
        IndicatorParams.from_mapping(bad)
