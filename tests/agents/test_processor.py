"""The bundle processor without Kafka: bundles in, records and states out."""

from __future__ import annotations

import asyncio
import base64
from datetime import date, time
from pathlib import Path

import pytest

from aion.agents.context import analytics_config, build_context
from aion.agents.direct import run_direct
from aion.agents.outputs import OUTPUTS
from aion.agents.processor import BundleProcessor, BundleResult, DictStore
from aion.config import Settings
from aion.streams.bundle import encode_bundle
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import END_MARKER, iter_bundles
from aion.streams.simulator import simulate
from aion.tables.records import BarClosed, BucketClosed, DeadLetter, SessionSnapshot, encode

PARTITIONS = 2


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("s") / "s.parquet"
    simulate(date(2025, 11, 18), 11, path, start=time(9, 15), end=time(9, 18))
    return path


@pytest.fixture(scope="module")
def master(session: Path) -> InstrumentMaster:
    return InstrumentMaster.from_csv(session.with_suffix(".instruments.csv"))


class ListEmitter:
    """The simplest emitter: keep everything."""

    def __init__(self) -> None:
        self.results: list[BundleResult] = []

    async def emit(self, result: BundleResult) -> None:
        self.results.append(result)


def processor(master: InstrumentMaster) -> tuple[BundleProcessor, DictStore]:
    # What a worker (and run_direct by default) runs: the settings' analytics, patterns on.
    ctx = build_context(master, {}, PARTITIONS, analytics_config(Settings.load().get))
    known = {i.instrument_token for i in master}
    store = DictStore({}, PARTITIONS)
    return BundleProcessor(store, lambda: ctx, known.__contains__, PARTITIONS), store


def test_records_equal_the_direct_drivers(session: Path, master: InstrumentMaster) -> None:
    proc, store = processor(master)
    offsets = dict.fromkeys(range(PARTITIONS), 0)
    records = []
    emitter = ListEmitter()
    for bundle in iter_bundles(session, PARTITIONS, 300):
        result = proc.process(bundle.partition, offsets[bundle.partition], bundle.encode())
        asyncio.run(emitter.emit(result))
        store.put(result.touched)
        records.extend(result.records)
        offsets[bundle.partition] += 1
    for p in range(PARTITIONS):
        result = proc.process(p, offsets[p], END_MARKER)  # end of stream closes the bars
        store.put(result.touched)
        records.extend(result.records)
    direct = run_direct(session, master, partitions=PARTITIONS, bundle_packets=300)
    assert records == [r for r in direct.records if r.tag() not in ("chain/1", "alert_greeks/1")]
    # Every record survives its wire form with its declared types (the mirror decodes
    # strictly: a None where the schema says str would be refused there).
    assert [OUTPUTS.codec.decode(encode(r)) for r in direct.records] == direct.records
    # Three minutes: no detector is past its 10-bar warm-up, so no alerts or validations
    # (tests/integration/test_pipeline.py runs a window that has them).
    assert {type(r) for r in direct.records} >= {
        o.record for o in OUTPUTS
        if o.name not in ("deadletter", "vix_regime", "volume_averages", "alerts",
                          "alert_greeks", "validations")}
    assert [r for res in emitter.results for r in res.records] == records[:len(
        [r for res in emitter.results for r in res.records])]
    # The records' explicit constructors agree with the documented dict forms.
    assert all(b.to_record("NSE:X") == BarClosed(symbol="NSE:X", **b.to_dict())
               for b in direct.bars)
    assert all(b.to_record("NSE:X", "X") == BucketClosed(symbol="NSE:X", tradingsymbol="X",
                                                         **b.to_dict())
               for b in direct.buckets)
    bars = [r for r in records if isinstance(r, BarClosed)]
    assert len(bars) == len(direct.bars) > 0 and all(b.symbol for b in bars)
    assert {r.token for r in records if isinstance(r, SessionSnapshot)} == set(store.states)


def test_a_corrupt_bundle_is_one_dead_letter_and_changes_nothing(
        master: InstrumentMaster) -> None:
    proc, store = processor(master)
    result = proc.process(1, 5, b"AB\x01garbage")
    assert result.touched == {} and store.states == {}
    (dead,) = result.records
    assert isinstance(dead, DeadLetter) and dead.reason.startswith("bad_bundle:")
    assert (dead.partition, dead.offset, dead.key()) == (1, 5, b"bundle")
    assert base64.b64decode(dead.packet_b64) == b"AB\x01garbage"


def test_an_unknown_token_costs_exactly_its_packet(session: Path,
                                                   master: InstrumentMaster) -> None:
    proc, _ = processor(master)
    bundle = next(iter(iter_bundles(session, PARTITIONS, 50)))
    stranger = (999_999 << 8 | 1).to_bytes(4, "big") + bundle.packets[0][4:]
    packets = [*bundle.packets, stranger]
    recv = [*bundle.recv_ns.tolist(), int(bundle.recv_ns[-1])]
    result = proc.process(bundle.partition, 0, encode_bundle(packets, recv))
    dead = [r for r in result.records if isinstance(r, DeadLetter)]
    assert [(d.reason, d.index, d.token) for d in dead] == [
        ("unknown_token", len(packets) - 1, 999_999 << 8 | 1)]
    assert base64.b64decode(dead[0].packet_b64) == stranger
    assert result.outcome is not None and result.outcome.applied == len(bundle.packets)


def _poison(monkeypatch: pytest.MonkeyPatch, at_call: int) -> None:
    """Make the analytics raise on their ``at_call``-th call (earlier states mutated)."""
    from aion.tables import engine

    real = engine.an_mod.update
    calls = []

    def update(*args, **kwargs):
        calls.append(1)
        if len(calls) == at_call:
            raise RuntimeError("poison\nbundle")
        return real(*args, **kwargs)

    monkeypatch.setattr(engine.an_mod, "update", update)


@pytest.mark.parametrize("kind", ["dict", "table"])
def test_a_failing_bundle_is_rolled_back_dead_lettered_and_the_next_applied(
        session: Path, master: InstrumentMaster, monkeypatch: pytest.MonkeyPatch,
        kind: str) -> None:
    from aion.agents.table_store import TableStore

    # What a worker (and run_direct by default) runs: the settings' analytics, patterns on.
    ctx = build_context(master, {}, PARTITIONS, analytics_config(Settings.load().get))
    known = {i.instrument_token for i in master}.__contains__
    table: dict[bytes, bytes] = {}
    store = DictStore({}, PARTITIONS, ctx.config) if kind == "dict" else TableStore(
        table, PARTITIONS, ctx.config)
    proc = BundleProcessor(store, lambda: ctx, known, PARTITIONS)
    control_store = DictStore({}, PARTITIONS)
    control = BundleProcessor(control_store, lambda: ctx, known, PARTITIONS)
    bundles = [b for b in iter_bundles(session, PARTITIONS, 300) if b.partition == 0]
    assert len(bundles) >= 4

    def state_bytes() -> dict[int, bytes]:
        if kind == "dict":
            return {t: s.to_bytes() for t, s in store.states.items()}
        return {int(k): v for k, v in table.items() if not k.startswith(b"p:")}

    for off, b in enumerate(bundles[:2]):
        store.put(proc.process(0, off, b.encode()).touched)
        control_store.put(control.process(0, off, b.encode()).touched)
    before = state_bytes()
    poison = bundles[2].encode()
    with monkeypatch.context() as m:
        _poison(m, at_call=3)
        result = proc.process(0, 2, poison)
    assert result.error is not None
    assert result.error.startswith("RuntimeError: poison bundle at agents/test_processor.py:")
    assert result.outcome is None and result.touched == {} and result.chain == []
    assert result.records == [DeadLetter(
        reason=f"engine_error:{result.error}", partition=0, offset=2,
        packet_b64=base64.b64encode(poison).decode())]
    store.put(result.touched)
    assert state_bytes() == before  # two instruments had been updated: rolled back
    # The worker moves on: the next bundles apply as if the poison one had been dropped.
    for off, b in enumerate(bundles[3:], start=3):
        res = proc.process(0, off, b.encode())
        assert res.error is None and res.outcome is not None and res.outcome.applied > 0
        store.put(res.touched)
        control_store.put(control.process(0, off, b.encode()).touched)
    assert state_bytes() == {t: s.to_bytes() for t, s in control_store.states.items()}


def test_without_a_journal_a_failing_bundle_raises_engine_error(
        session: Path, master: InstrumentMaster, monkeypatch: pytest.MonkeyPatch) -> None:
    from aion.agents.processor import EngineError

    # What a worker (and run_direct by default) runs: the settings' analytics, patterns on.
    ctx = build_context(master, {}, PARTITIONS, analytics_config(Settings.load().get))
    known = {i.instrument_token for i in master}.__contains__
    proc = BundleProcessor(DictStore({}, PARTITIONS, journal=False), lambda: ctx, known,
                           PARTITIONS)
    bundle = next(iter_bundles(session, PARTITIONS, 300))
    _poison(monkeypatch, at_call=2)
    with pytest.raises(EngineError, match=r"bundle 0/0: RuntimeError: poison bundle at "):
        proc.process(0, 0, bundle.encode())
