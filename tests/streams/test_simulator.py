from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time
from pathlib import Path

import kiteconnect
import numpy as np
import pytest

from aion.streams.codec import (
    DepthLevel,
    PacketKind,
    Tick,
    decode_packet,
    encode_packet,
    join_frame,
)
from aion.streams.instruments import InstrumentMaster
from aion.streams.session_file import iter_batches, read_meta
from aion.streams.simulator import (
    GENERATOR_VERSION,
    encode_full_packets,
    encode_index_packets,
    sidecar_paths,
    simulate,
)
from aion.streams.simulator.packets import FULL_DTYPE, INDEX_FULL_DTYPE
from aion.streams.simulator.universe import build_universe, monthly_expiry, weekly_expiry

DAY = date(2025, 11, 18)
IST_OPEN = int(datetime.fromisoformat("2025-11-18T09:15:00+05:30").timestamp())


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A 30-minute whole-universe session from the open (all event types appear)."""
    out = tmp_path_factory.mktemp("sim") / "day.parquet"
    seen: list[tuple[int, int]] = []
    result = simulate(DAY, 42, out, end=time(9, 45), progress=lambda a, b: seen.append((a, b)))
    recv, tokens, packets = [], [], []
    for r, t, p in iter_batches(out):
        recv.append(r)
        tokens.append(t)
        packets += p
    lengths = np.array([len(p) for p in packets])
    full_idx = np.flatnonzero(lengths == 184)
    index_idx = np.flatnonzero(lengths == 32)
    full = np.frombuffer(b"".join(packets[i] for i in full_idx), dtype=FULL_DTYPE)
    index = np.frombuffer(b"".join(packets[i] for i in index_idx), dtype=INDEX_FULL_DTYPE)
    return {
        "result": result,
        "progress": seen,
        "recv": np.concatenate(recv),
        "tokens": np.concatenate(tokens),
        "packets": packets,
        "full_idx": full_idx,
        "index_idx": index_idx,
        "full": full,
        "index": index,
    }


def test_result_and_sidecars(session: dict) -> None:
    result = session["result"]
    assert result.packets == len(session["packets"]) > 100_000
    assert session["progress"][-1] == (result.packets, result.packets)
    meta = read_meta(result.path)
    assert meta.source == "simulator" and meta.seed == 42 and meta.trading_date == DAY
    assert meta.extra["aion.generator_version"] == GENERATOR_VERSION
    master = InstrumentMaster.from_csv(result.instruments_path)
    assert meta.instrument_master_digest == master.digest() == result.instruments.digest()
    assert (result.instruments_path, result.events_path) == sidecar_paths(result.path)
    n_opts = sum(1 for i in master if i.segment == "NFO-OPT")
    assert len(master) == 50 + 3 + 2 + n_opts and n_opts >= 2 * 21 * 2
    assert set(np.unique(session["tokens"]).tolist()) == {i.instrument_token for i in master}


def test_option_strikes_cover_five_percent_of_the_previous_close() -> None:
    # So that a strong trend day cannot run the market past the edge of the chain.
    u = build_universe(DAY)
    prev = {m.symbol: m.prev_close for m in u.members}
    for name, index, step in (("NIFTY", "NIFTY 50", 50), ("BANKNIFTY", "NIFTY BANK", 100)):
        opts = [m.instrument for m in u.members
                if m.instrument.segment == "NFO-OPT" and m.instrument.name == name]
        strikes = sorted({o.strike for o in opts})
        assert len(opts) == 2 * len(strikes)  # a CE and a PE per strike
        assert np.all(np.diff(strikes) == step)
        p = prev[index]
        assert strikes[0] <= 0.95 * p and strikes[-1] >= 1.05 * p
        assert strikes[0] > 0.95 * p - 2 * step and strikes[-1] < 1.05 * p + 2 * step


def test_universe_calendar() -> None:
    assert weekly_expiry(DAY) == DAY  # 2025-11-18 is a Tuesday expiry
    assert weekly_expiry(date(2025, 11, 19)) == date(2025, 11, 25)
    assert monthly_expiry(DAY) == date(2025, 11, 25)
    assert monthly_expiry(date(2025, 11, 26)) == date(2025, 12, 30)
    # 2026-03-31 (last Tuesday of March) is a holiday: expiry moves to Monday the 30th.
    assert monthly_expiry(date(2026, 3, 2)) == date(2026, 3, 30)
    u = build_universe(DAY)
    syms = {m.symbol for m in u.members}
    assert {"RELIANCE", "NIFTY 50", "NIFTY BANK", "INDIA VIX", "NIFTY25NOVFUT"} <= syms
    assert "BANKNIFTY25NOVFUT" in syms and "NIFTY25N1825900CE" in syms
    tok = {m.symbol: m.token for m in u.members}
    assert (tok["RELIANCE"], tok["INFY"], tok["TCS"], tok["HDFCBANK"]) == (
        738561,
        408065,
        2953217,
        341249,
    )
    assert tok["NIFTY 50"] & 0xFF == 9 and tok["NIFTY25NOVFUT"] & 0xFF == 2


def test_deterministic(tmp_path: Path) -> None:
    runs = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        (tmp_path / name).mkdir()
        out = tmp_path / name / "s.parquet"
        runs.append(simulate(DAY, seed, out, start=time(11, 0), end=time(11, 3)))
    a, b, c = runs
    assert a.packets == b.packets > 0
    for fa, fb in zip(
        (a.path, *sidecar_paths(a.path)), (b.path, *sidecar_paths(b.path)), strict=True
    ):
        assert _sha(fa) == _sha(fb)
    assert _sha(c.path) != _sha(a.path)


def test_every_packet_decodes_with_kiteconnect_and_ours(session: dict) -> None:
    packets = session["packets"]
    kt = kiteconnect.KiteTicker("k", "t")
    n = 0
    for i in range(0, len(packets), 5000):
        chunk = packets[i : i + 5000]
        parsed = kt._parse_binary(join_frame(chunk))
        assert len(parsed) == len(chunk)
        assert all(d["mode"] == "full" for d in parsed)
        n += len(parsed)
        ours = [decode_packet(p) for p in chunk]
        assert [d["last_price"] for d in parsed] == [t.last_price for t in ours]
    assert n == len(packets)
    assert set(np.unique([len(p) for p in packets]).tolist()) == {32, 184}


def test_vectorised_encoding_matches_codec(session: dict) -> None:
    packets = session["packets"]
    rng = np.random.default_rng(1)
    for i in rng.choice(len(packets), 3000, replace=False):
        assert encode_packet(decode_packet(packets[i])) == packets[i]
    # And directly, from the same field values.
    n = 50
    f = {name: rng.integers(1, 2**31, n) for name in FULL_DTYPE.names if name != "depth"}
    f["instrument_token"] = rng.integers(1, 2**24, n) << 8 | 1
    dq, dp, do = (
        rng.integers(0, 2**31, (n, 10)),
        rng.integers(0, 2**31, (n, 10)),
        rng.integers(0, 2**16, (n, 10)),
    )
    ours = encode_full_packets(f, dq, dp, do)
    for k in range(n):
        lv = [DepthLevel(int(dq[k, j]), int(dp[k, j]) / 100, int(do[k, j])) for j in range(10)]
        tick = Tick(
            int(f["instrument_token"][k]), PacketKind.FULL, f["last_price"][k] / 100,
            int(f["last_traded_quantity"][k]), f["average_traded_price"][k] / 100,
            int(f["volume_traded"][k]), int(f["total_buy_quantity"][k]),
            int(f["total_sell_quantity"][k]), f["open"][k] / 100, f["high"][k] / 100,
            f["low"][k] / 100, f["close"][k] / 100, int(f["last_trade_time"][k]),
            int(f["oi"][k]), int(f["oi_day_high"][k]), int(f["oi_day_low"][k]),
            int(f["exchange_timestamp"][k]), tuple(lv[:5]), tuple(lv[5:]),
        )  # fmt: skip
        assert ours[k].tobytes() == encode_packet(tick)
    g = {name: rng.integers(0, 2**31, n) for name in INDEX_FULL_DTYPE.names}
    g["instrument_token"] = rng.integers(1, 2**24, n) << 8 | 9
    ours = encode_index_packets(g)
    for k in range(n):
        tick = Tick(
            int(g["instrument_token"][k]), PacketKind.INDEX_FULL, g["last_price"][k] / 100,
            open=g["open"][k] / 100, high=g["high"][k] / 100, low=g["low"][k] / 100,
            close=g["close"][k] / 100, exchange_timestamp=int(g["exchange_timestamp"][k]),
            net_change_raw=int(g["net_change"][k]),
        )  # fmt: skip
        assert ours[k].tobytes() == encode_packet(tick)


def test_receive_order_and_times(session: dict) -> None:
    recv = session["recv"]
    assert np.all(np.diff(recv) >= 0)
    ts = np.concatenate(
        [session["full"]["exchange_timestamp"], session["index"]["exchange_timestamp"]]
    )
    assert ts.min() >= IST_OPEN and ts.max() < IST_OPEN + 30 * 60
    # Receive time = exchange second + sub-second event time + small positive latency.
    idx = np.concatenate([session["full_idx"], session["index_idx"]])
    lag = recv[idx] - ts.astype(np.int64) * 1_000_000_000
    assert lag.min() > 0 and lag.max() < 2_000_000_000


def test_prices_on_tick_and_ohlc_consistent(session: dict) -> None:
    full, index = session["full"], session["index"]
    for arr, names in (
        (full, ("last_price", "open", "high", "low", "close")),
        (index, ("last_price", "open", "high", "low", "close")),
    ):
        for name in names:
            assert np.all(arr[name].astype(np.int64) % 5 == 0), name
        ltp, hi, lo, op = (arr[k].astype(np.int64) for k in ("last_price", "high", "low", "open"))
        assert np.all(lo <= ltp) and np.all(ltp <= hi)
        assert np.all(lo <= op) and np.all(op <= hi)
    assert np.all(full["depth"]["price"].astype(np.int64) % 5 == 0)
    assert np.all(full["volume_traded"] > 0) and np.all(full["average_traded_price"] > 0)
    lo, hi = full["low"].astype(np.int64), full["high"].astype(np.int64)
    atp = full["average_traded_price"].astype(np.int64)
    assert np.all((lo - 5 <= atp) & (atp <= hi + 5))


def test_cumulative_fields_monotone_per_token(session: dict) -> None:
    full = session["full"]
    tok = full["instrument_token"]
    for t in np.unique(tok):
        rows = full[tok == t]
        for name in (
            "volume_traded",
            "high",
            "oi_day_high",
            "last_trade_time",
            "exchange_timestamp",
        ):
            assert np.all(np.diff(rows[name].astype(np.int64)) >= 0), (t, name)
        for name in ("low", "oi_day_low"):
            assert np.all(np.diff(rows[name].astype(np.int64)) <= 0), (t, name)
        assert len(np.unique(rows["open"])) == 1 and len(np.unique(rows["close"])) == 1


def test_depth_sane(session: dict) -> None:
    d = session["full"]["depth"]
    bid, ask = d["price"][:, :5].astype(np.int64), d["price"][:, 5:].astype(np.int64)
    has_bid = bid[:, 0] > 0
    assert has_bid.mean() > 0.95
    assert np.all(ask[:, 0] > 0)
    assert np.all(bid[has_bid, 0] < ask[has_bid, 0])
    assert np.all(np.diff(ask, axis=1) > 0)
    filled = bid[:, 1:] > 0
    assert np.all(np.diff(bid, axis=1)[filled] < 0)
    assert np.all((d["quantity"] > 0) == (d["price"] > 0))
    assert np.all((d["orders"] > 0) == (d["price"] > 0))


def _last_by_second(arr: np.ndarray, token: int) -> dict[int, int]:
    rows = arr[arr["instrument_token"] == token]
    return dict(
        zip(
            rows["exchange_timestamp"].tolist(),
            rows["last_price"].astype(np.int64).tolist(),
            strict=True,
        )
    )


def test_futures_and_options_consistent_with_spot(session: dict) -> None:
    master: InstrumentMaster = session["result"].instruments
    full, index = session["full"], session["index"]
    spot = _last_by_second(index, master.token_for("NSE:NIFTY 50"))
    fut = _last_by_second(full, master.token_for("NFO:NIFTY25NOVFUT"))
    common = sorted(set(spot) & set(fut))
    basis = np.array([fut[s] / spot[s] for s in common])
    # 7 days of carry at 6.5%: ~0.12%; allow for the bid/ask of the future.
    assert np.median(basis) > 1.0005 and np.all(basis > 1.0)
    # Options: >= intrinsic (less a small tolerance) and put-call parity on quote mids.
    atm = round(spot[common[-1]] / 100 / 50) * 50
    for k in range(-5, 6):
        strike = atm + 50 * k
        ce = full[full["instrument_token"] == master.token_for(f"NFO:NIFTY25N18{strike}CE")]
        pe = full[full["instrument_token"] == master.token_for(f"NFO:NIFTY25N18{strike}PE")]
        for rows, sign in ((ce, 1), (pe, -1)):
            s = np.array([spot.get(int(ts), 0) for ts in rows["exchange_timestamp"]]) / 100
            ok = s > 0  # seconds with an index print
            intrinsic = np.maximum(sign * (s - strike), 0)
            assert np.all(rows["last_price"][ok] / 100 >= intrinsic[ok] - 0.002 * s[ok])
        ce_last, pe_last = ce[-1], pe[-1]
        last = max(int(ce_last["exchange_timestamp"]), int(pe_last["exchange_timestamp"]))
        s = spot[max(x for x in spot if x <= last)] / 100

        def mid(r: np.void) -> float:
            return (int(r["depth"]["price"][0]) + int(r["depth"]["price"][5])) / 200

        assert abs(mid(ce_last) - mid(pe_last) - (s - strike)) < 0.002 * s


def test_index_tracks_constituents_and_vix_inverse(session: dict) -> None:
    master: InstrumentMaster = session["result"].instruments
    index = session["index"]
    nifty = _last_by_second(index, master.token_for("NSE:NIFTY 50"))
    vix = _last_by_second(index, master.token_for("NSE:INDIA VIX"))
    secs = sorted(set(nifty) & set(vix))
    n = np.log(np.array([nifty[s] for s in secs], dtype=float))
    v = np.log(np.array([vix[s] for s in secs], dtype=float))
    step = 60
    rn, rv = np.diff(n[::step]), np.diff(v[::step])
    assert np.corrcoef(rn, rv)[0, 1] < -0.3


def test_events_visible(session: dict) -> None:
    result = session["result"]
    events = json.loads(result.events_path.read_text())
    master: InstrumentMaster = result.instruments
    kinds = {e["event_type"] for e in events}
    # Stocks from the open (a gap first), both futures, an option and a chain event.
    assert "gap" in kinds and "iv_crush" in kinds and len(kinds) >= 4
    roles = {master.by_token(e["token"]).segment for e in events}
    assert {"NSE", "NFO-FUT", "NFO-OPT", "INDICES"} <= roles
    full = session["full"]
    for e in events:
        assert master.by_token(e["token"]).tradingsymbol == e["symbol"]
        assert e["start"].endswith("+05:30") and e["direction"] in ("up", "down", None)
        assert e["volume_multiple"] > 0 and e["magnitude_sigma"] >= 0
        assert (e["mimics"] is not None) == (e["event_type"] == "near_miss")
        if e["event_type"] in ("volume_breakout", "momentum", "reversal",
                               "volume_price_divergence", "failed_breakout"):
            assert 1.5 <= e["magnitude_sigma"] <= 6.0, e
        t0 = int(datetime.fromisoformat(e["start"]).timestamp())
        t1 = int(datetime.fromisoformat(e["end"]).timestamp())
        rows = full[full["instrument_token"] == e["token"]]
        ts = rows["exchange_timestamp"].astype(np.int64)
        px = rows["last_price"].astype(np.int64)
        sign = {"up": 1, "down": -1, None: 0}[e["direction"]]
        if e["event_type"] == "volume_spike" and e["volume_multiple"] >= 4:
            minute = (ts - IST_OPEN) // 60
            vol = rows["volume_traded"].astype(np.int64)
            per_min = np.array(
                [vol[minute == m].max() - vol[minute == m].min() for m in np.unique(minute)]
            )
            ev = (ts >= t0) & (ts < t1)
            rate = (vol[ev].max() - vol[ev].min()) / max((ts[ev].max() - ts[ev].min()) / 60, 1e-9)
            assert rate >= 2 * np.median(per_min), e
        elif e["event_type"] == "gap":
            close = int(rows["close"][0])
            assert sign * (int(rows["open"][0]) - close) / close > 0.01, e
        elif e["event_type"] in ("volume_breakout", "momentum") and e["magnitude_sigma"] >= 3:
            # Large moves stand out of the noise: the price ends the window on their side.
            before = px[ts < t0 + 5][-1] if (ts < t0 + 5).any() else px[0]
            assert sign * (px[ts < t1][-1] - before) > 0, e


def test_sample_session_cached_and_regenerated(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from aion.streams.sample import sample_session_path

    path = sample_session_path(tmp_path)
    assert path.parent == tmp_path and all(p.exists() for p in sidecar_paths(path))
    meta = read_meta(path)
    assert meta.seed == 42 and meta.extra["aion.generator_version"] == GENERATOR_VERSION
    rows = pq.ParquetFile(path).metadata.num_rows
    assert 100_000 < rows < 600_000
    mtime = path.stat().st_mtime_ns
    assert sample_session_path(tmp_path) == path and path.stat().st_mtime_ns == mtime
    # A stale generator version is regenerated (atomically: no temp files left behind).
    table = pq.read_table(path)
    kv = dict(table.schema.metadata)
    kv[b"aion.generator_version"] = b"0"
    pq.write_table(table.replace_schema_metadata(kv), path)
    assert sample_session_path(tmp_path) == path
    assert read_meta(path).extra["aion.generator_version"] == GENERATOR_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name, *(p.name for p in sidecar_paths(path))]
    )
