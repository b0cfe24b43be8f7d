"""A live worker meets a poison bundle: it is dead-lettered whole, the worker moves on.

The engine has no known input that raises any more, so the fault is injected: the worker
subprocess starts with a ``sitecustomize`` (on ``PYTHONPATH``, written by this test only)
that wraps the processor's ``apply_bundle`` to raise *after* the engine has mutated the
states of one chosen bundle (partition 0, offset 1). The direct driver runs in-process
with the same fault (monkeypatched). Before issue 11 the worker crashed on that bundle
and on every retry; now:

* the poison bundle is one ``engine_error`` dead letter with its bytes, the exception's
  type and text and ``file:line``, counted in the worker's ``failed_bundles``;
* the bundles after it are applied: every state in the changelog equals the direct
  driver's, which rolled the poison bundle back as well.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import date
from datetime import time as dtime
from pathlib import Path

import pytest

from aion.agents import processor
from aion.agents.backtest import STATE_CHANGELOG, faust_run, instruments_csv_for, worker_stats
from aion.agents.direct import run_direct
from aion.agents.outputs import OUTPUTS
from aion.config import Settings
from aion.infra import Infra, Service
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import iter_bundles, replay
from aion.streams.simulator import simulate
from aion.streams.topics import read_all
from aion.tables.records import DeadLetter

pytestmark = pytest.mark.integration

PARTITIONS = 2
BUNDLE = 150
POISON = (0, 1)
"""(partition, offset) of the bundle that raises."""
MESSAGE = "injected poison"

SITECUSTOMIZE = f'''
import aion.agents.processor as _processor

_real = _processor.apply_bundle


def _poisoned(lookup, ticks, recv_ns, partition, offset, **kwargs):
    out = _real(lookup, ticks, recv_ns, partition, offset, **kwargs)  # states mutated
    if (partition, offset) == {POISON!r}:
        raise RuntimeError({MESSAGE!r})
    return out


_processor.apply_bundle = _poisoned
'''


def _poisoned_apply_bundle(real):  # the same fault, in-process
    def apply(lookup, ticks, recv_ns, partition, offset, **kwargs):
        out = real(lookup, ticks, recv_ns, partition, offset, **kwargs)
        if (partition, offset) == POISON:
            raise RuntimeError(MESSAGE)
        return out
    return apply


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("session") / "s.parquet"
    simulate(date(2025, 11, 18), 5, out, start=dtime(9, 15), end=dtime(9, 18))
    return out


def test_poison_bundle_is_dead_lettered_and_the_worker_moves_on(
        session: Path, kafka_bootstrap: str, redis_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    bundles = [b for b in iter_bundles(session, PARTITIONS, BUNDLE) if b.partition == 0]
    assert len(bundles) >= 3  # a good bundle before the poison one and after it
    poison_bytes = bundles[POISON[1]].encode()
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    monkeypatch.setenv("PYTHONPATH", str(hook))
    infra = Infra(Service("kafka", kafka_bootstrap), Service("redis", redis_url))
    settings = Settings.load(env={"AION_CACHE_DIR": str(tmp_path / "cache"),
                                  "AION_PARTITIONS": str(PARTITIONS)})

    async def run() -> tuple[dict[int, bytes], list[DeadLetter], dict]:
        async with faust_run(settings, infra, session) as fr:
            await replay(session, infra.bootstrap, fr.names.ticks_raw, PARTITIONS,
                         bundle_packets=BUNDLE)
            await fr.wait(timeout_s=300)
            boot = infra.bootstrap
            states = {int(k): v for _, _, k, v in
                      await read_all(boot, STATE_CHANGELOG.format(app_id=fr.app_id))
                      if v is not None and not k.startswith(b"p:")}
            letters = [OUTPUTS.codec.decode(v) for _, _, _, v in
                       await read_all(boot, OUTPUTS["deadletter"].topic_name(fr.names))]
            return states, letters, worker_stats(fr.web_ports[0]) or {}

    states, letters, stats = asyncio.run(run())
    engine_errors = [d for d in letters if d.reason_group == "engine_error"]
    assert len(engine_errors) == 1
    dead = engine_errors[0]
    assert (dead.partition, dead.offset, dead.index, dead.token) == (*POISON, None, None)
    assert dead.reason.startswith(f"engine_error:RuntimeError: {MESSAGE} at hook/"
                                  "sitecustomize.py:")
    assert dead.packet_b64 == base64.b64encode(poison_bytes).decode()
    assert stats["failed_bundles"] == 1
    assert stats["bundles"] == sum(1 for _ in iter_bundles(session, PARTITIONS, BUNDLE)) + \
        PARTITIONS  # every bundle handled, end-of-stream markers included

    # The direct driver with the same fault: the same states, bundle for bundle.
    monkeypatch.setattr(processor, "apply_bundle",
                        _poisoned_apply_bundle(processor.apply_bundle))
    master = InstrumentMaster.from_csv(instruments_csv_for(session))
    direct = run_direct(session, master, partitions=PARTITIONS, bundle_packets=BUNDLE)
    assert {t: s.to_bytes() for t, s in direct.states.items()} == states
    # And the poison bundle did change something when rolled back (a real test of it).
    monkeypatch.undo()
    clean = run_direct(session, master, partitions=PARTITIONS, bundle_packets=BUNDLE)
    assert {t: s.to_bytes() for t, s in clean.states.items()} != states
