"""The workers' web views on a real running worker: loopback only, 400/404 never 500.

One backtest topology (real broker, real Redis, real ``aion worker`` processes) replays a
short session; one worker has the defaults, one has ``web.debug_views`` on.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest

from aion.agents.backtest import FaustRun, faust_run, instruments_csv_for
from aion.agents.web_views import TOKEN_MAX, BadTokenError, parse_token
from aion.config import Settings
from aion.infra import Infra, Service
from aion.streams.instruments import InstrumentMaster
from aion.streams.replay import replay
from aion.streams.simulator import simulate

pytestmark = pytest.mark.integration

PARTITIONS = 2


# --- the token parser, alone ----------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "7", "256265", "4294967295", "0000000256265"[-10:]])
def test_parse_token_accepts_u32_decimal(text: str) -> None:
    assert parse_token(text) == int(text)


@pytest.mark.parametrize("text", [
    "", "²", "١٢٣", "p:0", "p:1", "-5", "+5", " 5", "5 ", "1.5", "0x10", "abc",
    str(TOKEN_MAX + 1), "9" * 11, "9" * 5000,
])
def test_parse_token_refuses_everything_else(text: str) -> None:
    with pytest.raises(BadTokenError):
        parse_token(text)


# --- a real worker ----------------------------------------------------------------------


def get(port: int, path: str) -> tuple[int, object]:
    """GET ``path`` (already quoted) from a worker; (status, decoded JSON or text)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


def listeners(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        lines = Path(table).read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:  # IPv4, little-endian bytes
                    found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add("::" if set(address) == {"0"} else address)
    return found


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("session") / "s.parquet"
    simulate(date(2025, 11, 18), 5, out, start=time(9, 15), end=time(9, 18))
    return out


@pytest.fixture(scope="module")
def run(kafka_bootstrap: str, redis_url: str, session: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaustRun]:
    """A replayed session; workers[0] has the defaults, workers[1] debug views on."""
    cache = tmp_path_factory.mktemp("cache")
    # Even with an environment asking for every interface, backtest workers bind loopback.
    settings = Settings.load(env={"AION_CACHE_DIR": str(cache),
                                  "AION_PARTITIONS": str(PARTITIONS)})
    infra = Infra(Service("kafka", kafka_bootstrap), Service("redis", redis_url))
    loop = asyncio.new_event_loop()
    context = faust_run(settings, infra, session, workers=1)
    handles = loop.run_until_complete(context.__aenter__())
    try:
        handles.add_worker("mirror", {"AION_WEB__DEBUG_VIEWS": "true"})
        loop.run_until_complete(replay(session, kafka_bootstrap, handles.names.ticks_raw,
                                       PARTITIONS, bundle_packets=200))
        loop.run_until_complete(handles.wait(timeout_s=300))
        yield handles
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


@pytest.fixture(scope="module")
def held(run: FaustRun, session: Path) -> int:
    """A token whose state the engine worker holds (it owns every partition)."""
    master = InstrumentMaster.from_csv(instruments_csv_for(session))
    for token in (instrument.instrument_token for instrument in master):
        if get(run.web_ports[0], f"/aion/instrument/{token}/")[0] == 200:
            return token
    raise AssertionError("no instrument state served at all")


def test_web_servers_listen_on_loopback_only(run: FaustRun) -> None:
    for port in run.web_ports:
        assert listeners(port) == {"127.0.0.1"}, port


def test_instrument_view_serves_a_held_token(run: FaustRun, held: int) -> None:
    status, body = get(run.web_ports[0], f"/aion/instrument/{held}/")
    assert status == 200 and body["token"] == held and body["ticks_applied"] > 0
    # A zero-padded spelling is the same token.
    assert get(run.web_ports[0], f"/aion/instrument/00{held}/") == (status, body)


@pytest.mark.parametrize("token", [
    "²", "١٢٣", "p:0", "p:1", "9" * 5000, "-5", "+5", "1.5", "abc", " 5",
    str(TOKEN_MAX + 1), "%", "\x00",
], ids=lambda t: repr(t[:12]) + (f"...{len(t)}chars" if len(t) > 12 else ""))
def test_instrument_view_refuses_malformed_tokens_with_400(run: FaustRun, token: str) -> None:
    status, body = get(run.web_ports[0], f"/aion/instrument/{urllib.parse.quote(token)}/")
    assert status == 400, body
    assert "token" in body["error"]


def test_instrument_view_unknown_token_is_404_with_its_partition(run: FaustRun) -> None:
    status, body = get(run.web_ports[0], f"/aion/instrument/{TOKEN_MAX}/")
    assert status == 404
    # (token >> 8) % partitions, computed by hand: 0xFFFFFF % 2 == 1.
    assert body["partition"] == 1


@pytest.mark.parametrize("path", ["/table/", "/table/instrument-state/",
                                  "/table/instrument-state/p:0/", "/router/",
                                  "/router/ticks/", "/graph/"])
def test_faust_debug_views_are_off_by_default(run: FaustRun, path: str) -> None:
    assert get(run.web_ports[0], path)[0] == 404


def test_faust_debug_views_with_the_debug_setting(run: FaustRun) -> None:
    status, body = get(run.web_ports[1], "/router/")
    assert status == 200 and isinstance(body, dict)
    assert get(run.web_ports[1], "/table/")[0] == 200


def test_stats_view_answers(run: FaustRun) -> None:
    status, body = get(run.web_ports[0], "/aion/stats/")
    assert status == 200 and body["bundles"] > 0
