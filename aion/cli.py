"""The ``aion`` command line.

Every subcommand has ``--help``. Errors a user can fix (bad input, busy port, no broker)
print one ``error:`` line and exit with status 2; any other failure prints one line too
(exit 1) with a hint to rerun with ``--debug`` (or ``AION_DEBUG=1``) for the traceback.
Progress goes to the terminal via rich.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time as time_module
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from aion.config import ConfigError, Settings

if TYPE_CHECKING:
    from aion.streams.topics import TopicNames
    from aion.tables.records import Record

console = Console(stderr=False, soft_wrap=True)
err = Console(stderr=True)


class UserError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types whose message is meant for the user (imported lazily)."""
    from aion import infra
    from aion.agents.daily_history import DailyHistoryError
    from aion.streams.instruments import InstrumentFileError
    from aion.streams.replay import ReplayError
    from aion.streams.session_file import SessionFileError
    from aion.streams.simulator import SimulationError

    return (UserError, infra.InfraError, ConfigError, ReplayError, SessionFileError,
            InstrumentFileError, SimulationError, DailyHistoryError)


def _output_topics(names: TopicNames) -> list[str]:
    """The output registry's topics under ``names``' prefix (imported lazily)."""
    from aion.agents.outputs import OUTPUTS

    return OUTPUTS.topics(names)

@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A rich progress bar for long work (refreshes on the terminal, quiet in pipes).

    Yields:
        The running bar. Its final state stays on screen after success; after a
        failure it is removed, so the error is the only line left.
    """
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    bar.start()
    try:
        yield bar
    except BaseException:
        # Erase it on a terminal; in a pipe even the erase writes a line, so write nothing.
        bar.live.transient = True
        quiet, err.quiet = err.quiet, not err.is_terminal
        try:
            bar.stop()
        finally:
            err.quiet = quiet
        raise
    bar.stop()


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.load()
    overrides = {}
    if getattr(args, "partitions", None):
        overrides["partitions"] = args.partitions
    if getattr(args, "topic_prefix", None) is not None:
        overrides["topic_prefix"] = args.topic_prefix
    settings = settings.with_overrides(**overrides) if overrides else settings
    settings.partitions  # noqa: B018 - validates it before anything starts
    return settings


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parse_time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time (HH:MM): {text!r}") from None


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


# --- infra -------------------------------------------------------------------------------


def cmd_infra(args: argparse.Namespace) -> int:
    """Start, stop or show the background embedded broker and Redis."""
    from aion import infra

    settings = _settings(args)
    if args.action == "up":
        running = infra.infra_up(settings)
        console.print(f"kafka  {running.bootstrap}  (pid {running.kafka.pid})")
        console.print(f"redis  {running.redis_url}  (pid {running.redis.pid})")
        console.print("other aion commands use these until `aion infra down`; for other tools:")
        for key, value in running.env().items():
            console.print(f"export {key}={value}")
    elif args.action == "status":
        running = infra.infra_status(settings)
        if running is None:
            console.print("embedded infrastructure: not running")
            return 1
        console.print(f"kafka  {running.bootstrap}  (pid {running.kafka.pid})  up")
        console.print(f"redis  {running.redis_url}  (pid {running.redis.pid})  up")
    else:
        stopped = infra.infra_down(settings)
        console.print(
            "stopped " + ", ".join(f"{s.name} (pid {s.pid})" for s in stopped)
            if stopped else "nothing was running"
        )
    return 0


# --- simulate / sample -------------------------------------------------------------------


def _calendar_note(day: date) -> str | None:
    """Why ``day`` has no calendar (a one-line note), or None when the calendar covers it."""
    from aion.config.nse_calendar import NseCalendar

    cal = NseCalendar.load()
    if cal.covers(day):
        return None
    return (f"{day} is outside the NSE calendar ({cal.first_year}-{cal.last_year}, "
            f"config/nse_calendar.yaml)")


def _warn_outside_calendar(path: Path) -> None:
    """Say up front when a session's date has no calendar: its options get no Greeks."""
    from aion.streams.session_file import read_meta

    note = _calendar_note(read_meta(path).trading_date)
    if note:
        err.print(f"[yellow]warning:[/yellow] {escape(note)}: options get no time to expiry, "
                  f"so no IV or Greeks (reason calendar_range)", soft_wrap=True)


def _check_simulation_date(day: date, allow_non_trading_day: bool) -> None:
    """Refuse dates the calendar does not cover, and closed days unless allowed."""
    from aion.config.nse_calendar import NseCalendar
    from aion.tables.expiry import TradingCalendar

    note = _calendar_note(day)
    if note:
        raise UserError(f"{note}; cannot simulate it")
    cal = NseCalendar.load()
    if not allow_non_trading_day and not TradingCalendar(cal).is_trading_day(day):
        why = cal.holidays.get(day) or day.strftime("%A")
        raise UserError(f"{day} is not an NSE trading day ({why}); pass "
                        f"--allow-non-trading-day to simulate it anyway")


def cmd_simulate(args: argparse.Namespace) -> int:
    """Generate a deterministic simulated session file."""
    from aion.streams.simulator import simulate

    _check_simulation_date(args.date, args.allow_non_trading_day)
    with progress_bar() as bar:
        task = bar.add_task("simulating", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = simulate(args.date, args.seed, args.output, start=args.start, end=args.end,
                          progress=update)
    console.print(f"wrote {result.packets:,} packets for {len(result.instruments)} instruments "
                  f"to {result.path}")
    console.print(f"instruments: {result.instruments_path}")
    console.print(f"ground truth events: {result.events_path}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Print a session's calibration statistics beside the real-day figures (issue 12)."""
    from aion.calibration_view import calibration_table
    from aion.streams.instruments import InstrumentFileError, InstrumentMaster
    from aion.streams.simulator.calibration import calibration_report, load_session

    try:
        master = InstrumentMaster.from_csv(args.instruments) if args.instruments else None
        with err.status(f"reading {args.file}..."):
            report = calibration_report(load_session(args.file, master))
    except (FileNotFoundError, InstrumentFileError) as exc:
        raise UserError(f"{exc} (pass --instruments CSV for a session without sidecars)") from None
    console.print(calibration_table({args.file.name: report},
                                    title=f"calibration statistics of {args.file}"))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Print (generating on first use) the bundled sample session's path."""
    from aion.streams.sample import sample_session_path

    settings = _settings(args)
    with err.status("preparing the sample session (first use generates it)..."):
        path = sample_session_path(settings.cache_dir)
    console.print(str(path))
    return 0


# --- replay ------------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    """Produce a recorded session to aion.ticks.raw as partition bundles."""
    from aion import infra
    from aion.streams.replay import parse_speed, replay
    from aion.streams.session_file import count_rows
    from aion.streams.topics import TopicNames, ensure_topics, topic_partitions

    settings = _settings(args)
    speed = parse_speed(args.speed)
    if not 1 <= args.bundle <= 65535:
        raise UserError(f"--bundle must be 1..65535, got {args.bundle}")
    total = count_rows(args.file)  # validates the file before we look for a broker
    _warn_outside_calendar(args.file)
    bootstrap = settings.kafka_bootstrap
    if not bootstrap:
        running = infra.infra_status(settings)
        if running is None:
            raise UserError(
                "no broker: set AION_KAFKA_BOOTSTRAP or start one with `aion infra up`"
            )
        bootstrap = running.bootstrap
    names = TopicNames(settings.topic_prefix)

    async def run() -> object:
        await ensure_topics(bootstrap, names, settings.partitions,
                            outputs=_output_topics(names))
        partitions = await topic_partitions(bootstrap, names.ticks_raw)
        with progress_bar() as bar:
            task = bar.add_task(f"replay → {names.ticks_raw}", total=total)
            return await replay(
                args.file, bootstrap, names.ticks_raw, partitions,
                bundle_packets=args.bundle, speed=speed,
                progress=lambda n: bar.advance(task, n),
            )

    stats = asyncio.run(run())
    console.print(
        f"sent {stats.packets:,} packets in {stats.bundles:,} bundles "
        f"({stats.bytes / 1e6:.1f} MB) in {stats.seconds:.1f}s "
        f"= {stats.packets / max(stats.seconds, 1e-9):,.0f} packets/s"
    )
    return 0


# --- worker / backtest / instruments ----------------------------------------------------


def _configured_infra(settings: Settings) -> tuple[str, str]:
    from aion import infra

    bootstrap, url = settings.kafka_bootstrap, settings.redis_url
    if not (bootstrap and url):
        running = infra.infra_status(settings)
        if running is None:
            raise UserError("no broker/Redis: set AION_KAFKA_BOOTSTRAP and AION_REDIS_URL, "
                            "or start embedded ones with `aion infra up`")
        bootstrap, url = bootstrap or running.bootstrap, url or running.redis_url
    return bootstrap, url


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a Faust worker against the configured (or `infra up`) broker and Redis."""
    from aion.agents.worker import run_worker

    settings = _settings(args)
    bootstrap, url = _configured_infra(settings)
    run_worker(settings, bootstrap, url, loglevel=args.loglevel)
    return 0


def _print_summary(summary: object) -> None:
    from rich.table import Table

    table = Table(title=f"backtest summary ({summary.driver} driver)", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("ticks", f"{summary.ticks:,}")
    table.add_row("instruments", f"{summary.instruments:,}")
    table.add_row("1-minute bars", f"{summary.bars:,}")
    table.add_row("volume buckets closed", f"{summary.buckets:,}")
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.deadletter_reasons.items()))
    table.add_row("dead letters", f"{summary.deadletters:,}" + (f" ({reasons})" if reasons else ""))
    table.add_row("wall time", f"{summary.wall_seconds:.1f} s")
    for stage in summary.stages:
        table.add_row(f"{stage.name}", f"{stage.rate:,.0f} ticks/s")
    if summary.redis_keys:
        table.add_row("redis keys by db", ", ".join(f"db{k}: {v:,}"
                                                      for k, v in summary.redis_keys.items()))
    cov = summary.coverage
    if cov:
        table.add_row("instruments with indicators", f"{cov['instruments']:,}")
        table.add_row("indicator coverage (instruments with a value at the end)",
                      ", ".join(f"{k} {v}" for k, v in cov["indicators"].items()) or "none")
        table.add_row("volume profiles / volume ratios",
                      f"{cov['profiles']:,} / {cov['volume_ratios']:,}")
        table.add_row("option chains (options with Greeks)",
                      ", ".join(_chain_line(k, v, cov.get("no_greeks", {}).get(k, {}))
                                for k, v in cov["chains"].items()) or "none")
        table.add_row("chain snapshots", f"{cov['chain_snapshots']:,}")
    console.print(table)


_NO_GREEKS_TEXT = {
    "calendar_range": "calendar_range: date outside the NSE calendar",
    "no_underlying_price": "no underlying price",
}


def _chain_line(underlying: str, with_greeks: int, without: dict[str, int]) -> str:
    """``NSE:NIFTY 50 40``, plus why the others have none: ``(without: no_time_value 2)``."""
    why = ", ".join(f"{_NO_GREEKS_TEXT.get(reason, reason)} {n}"
                    for reason, n in without.items())
    return f"{underlying} {with_greeks}" + (f" (without: {why})" if why else "")


def _averages_for(args: argparse.Namespace, settings: Settings) -> dict | None:
    """Volume averages for a backtest: ``--daily FILE``, else the sample's own history."""
    from aion.agents.daily_history import DailyHistoryError, build_averages, load_daily_history
    from aion.streams.sample import sample_daily_history_path

    daily = args.daily
    if daily is None and args.file is None:
        daily = sample_daily_history_path(settings.cache_dir)
    if daily is None:
        return None
    try:
        return build_averages(load_daily_history(daily))
    except (DailyHistoryError, OSError, ValueError) as exc:
        raise UserError(str(exc)) from None


def _backtest_settings(settings: Settings) -> Settings:
    """A backtest's keys never expire unless ``AION_MIRROR__TTL`` says otherwise."""
    import os

    if "AION_MIRROR__TTL" in os.environ:
        return settings
    raw = dict(settings.raw)
    raw["mirror"] = {**(raw.get("mirror") or {}), "ttl": "none"}
    return settings.with_overrides(mirror=raw["mirror"])


def _results_redis(settings: Settings, keep: bool) -> tuple[str | None, str]:
    """Where a backtest's results go, and a line that tells the user how to reach them.

    ``--keep`` (the default): ``AION_REDIS_URL`` if set, else the Redis of ``aion infra``
    (started in the background if it is not running). ``--no-keep``: none here (the
    Faust driver then uses a throwaway embedded Redis; the direct driver writes none).
    """
    from aion import infra

    if not keep:
        return None, "results were not kept (--no-keep)"
    if settings.redis_url:
        return settings.redis_url, f"results in {settings.redis_url} (AION_REDIS_URL)"
    running = infra.infra_status(settings)
    if running is None:
        with err.status("starting the background broker and Redis (aion infra up)..."):
            try:
                running = infra.infra_up(settings)
            except infra.InfraError as exc:
                raise UserError(str(exc)) from None
        started = "started for this backtest; "
    else:
        started = ""
    return running.redis_url, (f"results in {running.redis_url} (DB 0 sessions and buckets, "
                               f"1 bars, 2 volume profile, 5 indicators and chains; keys do not "
                               f"expire); {started}stop it with `aion infra down`")


def _report_path(requested: Path | None, session: Path) -> Path:
    """Where the HTML report goes: ``--report PATH``, else ``<session>.report.html`` beside it.

    Checked before the run, so a bad path costs no backtest.

    Args:
        requested: ``--report`` (None: the default).
        session: The session file.

    Returns:
        The report's path.

    Raises:
        UserError: The path is a directory, or its directory does not exist.
    """
    path = requested if requested is not None else session.with_suffix(".report.html")
    if path.is_dir():
        raise UserError(f"report {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise UserError(f"no such directory for the report: {path.parent}")
    return path


def _report(records: Iterable[Record], path: Path, title: str, top: int | None) -> None:
    """Print the per-pattern table, write the HTML report and say where it is.

    Args:
        records: The run's bars, alerts and validation windows (other records ignored).
        path: Where the report goes (checked by :func:`_report_path`).
        title: Its heading (the session file's name).
        top: Instruments charted (None: the report's default).

    Raises:
        UserError: The file cannot be written.
    """
    from aion.report import (
        DEFAULT_TOP,
        ReportData,
        ReportOptions,
        pattern_summaries,
        summary_table,
        write_report,
    )

    data = ReportData.from_records(records)
    console.print(summary_table(pattern_summaries(data)))
    options = ReportOptions(title=title, top=DEFAULT_TOP if top is None else top)
    try:
        write_report(path, data, options)
    except OSError as exc:
        raise UserError(f"cannot write the report {path}: {exc.strerror or exc} "
                        f"(choose another place with --report PATH)") from None
    console.print(f"report: {path}", soft_wrap=True)


def cmd_backtest(args: argparse.Namespace) -> int:
    """Replay a session through the engine (Faust or direct) and print a summary."""
    from aion import infra, processes
    from aion.agents.backtest import (
        BacktestError,
        BacktestSummary,
        StageRate,
        analytics_coverage,
        instruments_csv_for,
        redis_key_counts,
        run_faust_backtest,
    )
    from aion.agents.context import analytics_config
    from aion.agents.writers.base import TtlPolicy
    from aion.report import REPORT_RECORD_TYPES
    from aion.streams.instruments import InstrumentMaster
    from aion.streams.sample import sample_session_path
    from aion.streams.session_file import count_rows
    from aion.tables.chain import ChainParams

    processes.terminate_as_interrupt()  # SIGTERM unwinds like Ctrl-C: children stopped
    settings = _backtest_settings(_settings(args))
    path = args.file
    if path is None:
        with err.status("preparing the bundled sample session (first use generates it)..."):
            path = sample_session_path(settings.cache_dir)
    report_path = _report_path(args.report, path)
    averages = _averages_for(args, settings)
    bundle = args.bundle
    try:
        instruments = instruments_csv_for(path)  # checked before anything starts
    except BacktestError as exc:
        raise UserError(str(exc)) from None
    _warn_outside_calendar(path)
    try:  # engine settings checked before anything starts
        analytics = analytics_config(settings.get)
        chain_params = ChainParams.from_mapping(settings.get("chain", None))
        ttl = TtlPolicy.parse(settings.get("mirror.ttl", "none"))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad engine setting (chain, mirror or analytics): {exc}") from None
    # Configured services that do not answer: one line now, not a silent wait later.
    faust = args.driver == "faust"
    infra.require_reachable(settings.kafka_bootstrap if faust else None,
                            settings.redis_url if faust or args.keep else None)
    redis_url, where = _results_redis(settings, args.keep)
    try:
        if args.driver == "direct":
            from aion.agents.direct import run_direct

            master = InstrumentMaster.from_csv(instruments)
            with progress_bar() as bar:
                task = bar.add_task("direct driver", total=count_rows(path))
                result = run_direct(path, master, partitions=settings.partitions,
                                    bundle_packets=bundle,
                                    progress=lambda n: bar.advance(task, n),
                                    averages=averages,
                                    config=analytics, chain_params=chain_params,
                                    redis_url=redis_url, ttl=ttl)
            summary = BacktestSummary(
                driver="direct", ticks=result.packets, instruments=len(result.states),
                bars=len(result.bars), buckets=len(result.buckets),
                deadletters=len(result.rejects), deadletter_reasons=dict(result.reject_counts),
                wall_seconds=result.seconds + result.redis_seconds,
                stages=[StageRate("direct driver (decode + apply)", result.packets,
                                  result.seconds)],
                coverage=analytics_coverage(result.records), outputs=result.outputs(),
                report_records=[r for r in result.records
                                if isinstance(r, REPORT_RECORD_TYPES)],
            )
            if redis_url:
                summary.stages.append(StageRate("direct driver Redis writes", result.packets,
                                                result.redis_seconds))
                summary.redis_keys = redis_key_counts(redis_url)
        else:
            started = time_module.monotonic()
            if redis_url:
                settings = settings.with_overrides(redis_url=redis_url)
            with infra.infrastructure(settings) as running, progress_bar() as bar:
                summary = asyncio.run(run_faust_backtest(
                    settings, running, path, bundle_packets=bundle, workers=args.workers,
                    progress=bar, averages=averages))
            summary.wall_seconds = time_module.monotonic() - started
    except BacktestError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: what outlives us is still announced
        if args.keep:
            err.print(where)
        raise
    _print_summary(summary)
    try:
        _report(summary.report_records, report_path, path.name, args.report_top)
    except UserError:  # the results are still where they are
        console.print(where)
        raise
    console.print(where)
    return 0


def cmd_instruments(args: argparse.Namespace) -> int:
    """Publish an instruments CSV to aion.instruments, or resolve tokens/symbols."""
    from aion.streams.instruments import InstrumentFileError, InstrumentMaster, UnknownInstrument

    try:
        master = InstrumentMaster.from_csv(args.csv, strict=False)
    except InstrumentFileError as exc:
        raise UserError(str(exc)) from None
    for bad in master.rejected:
        err.print(f"[yellow]skipped[/yellow] line {bad.line}: {bad.reason} {bad.detail}")
    if args.action == "lookup":
        status = 0
        for item in args.items:
            try:
                if item.isdigit():
                    console.print(f"{item} -> {master.symbol_for(int(item))}")
                else:
                    console.print(f"{item} -> {master.token_for(item)}")
            except UnknownInstrument as exc:
                err.print(f"[red]unknown:[/red] {exc}")
                status = 1
        return status
    from aion.agents.backtest import publish_instruments
    from aion.streams.topics import TopicNames, ensure_topics

    settings = _settings(args)
    bootstrap, _ = _configured_infra(settings)
    names = TopicNames(settings.topic_prefix)

    async def run() -> int:
        await ensure_topics(bootstrap, names, settings.partitions,
                            outputs=_output_topics(names))
        return await publish_instruments(bootstrap, names.instruments, master)

    sent = asyncio.run(run())
    console.print(f"published {sent:,} instruments to {names.instruments} "
                  f"(digest {master.digest()[:12]})")
    return 0


def cmd_baselines(args: argparse.Namespace) -> int:
    """Build 20/55-day volume averages from daily history; write JSON, Redis and the topic."""
    from aion.agents.daily_history import (
        AveragesFileError,
        DailyHistoryError,
        build_averages,
        load_daily_history,
        write_averages_json,
    )
    from aion.tables.volume_averages import AveragesParams

    settings = _settings(args)
    try:
        params = AveragesParams.from_mapping(settings.get("volume_averages", None))
    except (TypeError, ValueError) as exc:
        raise UserError(f"bad volume_averages settings: {exc}") from None
    if args.output.is_dir():
        raise UserError(f"output {args.output} is a directory; give a file name")
    try:
        with progress_bar() as bar:
            task = bar.add_task("reading daily history", total=None)

            def read_progress(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            history = load_daily_history(args.file, progress=read_progress)
            task2 = bar.add_task("computing averages", total=len(history))
            averages = build_averages(history, params, as_of=args.as_of,
                                      progress=lambda d, t: bar.update(task2, completed=d))
    except (DailyHistoryError, AveragesFileError, OSError, ValueError) as exc:
        raise UserError(str(exc)) from None
    if not averages:
        raise UserError(f"{args.file}: no symbol has history on or before the as-of date")
    try:
        write_averages_json(averages, args.output)
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    ready = sum(1 for e in averages.values() if e.get("turtle_ready"))
    console.print(f"wrote averages of {len(averages):,} symbols to {args.output} "
                  f"({ready:,} turtle-ready)")
    if args.json_only:
        return 0
    from aion.agents.baselines import publish_averages, write_averages_redis
    from aion.config import KeyLayout
    from aion.streams.topics import TopicNames, ensure_topics

    bootstrap, url = _configured_infra(settings)
    names = TopicNames(settings.topic_prefix)

    async def run() -> tuple[int, int]:
        hashes = await write_averages_redis(url, KeyLayout.load(), averages)
        await ensure_topics(bootstrap, names, settings.partitions,
                            outputs=_output_topics(names))
        return hashes, await publish_averages(bootstrap, names.volume_averages, averages)

    hashes, sent = asyncio.run(run())
    console.print(f"wrote {hashes:,} volume_averages hashes to Redis and published {sent:,} "
                  f"records to {names.volume_averages}")
    return 0


# --- evaluate ----------------------------------------------------------------------------


def _parse_seeds(text: str) -> list[int]:
    """``5,6,7`` -> [5, 6, 7] (non-negative, no repeats)."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit():
            raise argparse.ArgumentTypeError(
                f"seeds must be non-negative integers separated by commas, got {text!r}")
        if int(part) in seeds:
            raise argparse.ArgumentTypeError(f"seed {int(part)} is repeated in {text!r}")
        seeds.append(int(part))
    return seeds


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Simulate sessions (or take recorded ones), run every detector and score them."""
    import json
    import tempfile

    from aion.agents.backtest import BacktestError, instruments_csv_for
    from aion.agents.context import analytics_config
    from aion.agents.evaluate import evaluate_sessions, simulate_sessions
    from aion.evaluate_view import print_report

    if (args.date is None) == (not args.sessions):
        raise UserError("pass either --date with --seeds (simulated sessions) or "
                        "--sessions FILE ... (recorded sessions), not both")
    if args.date is not None and not args.seeds:
        raise UserError("--date needs --seeds, e.g. --seeds 5,6,7")
    if args.sessions and (args.seeds or args.start or args.end):
        raise UserError("--seeds, --start and --end apply to simulated sessions only "
                        "(--date), not to --sessions")
    if args.json is not None and not args.json.parent.is_dir():
        raise UserError(f"--json: no such directory: {args.json.parent}")
    settings = _settings(args)
    try:
        config = analytics_config(settings.get)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad analytics or pattern setting: {exc}") from None
    if not config.alerts.active:
        raise UserError("every pattern is disabled (patterns.enabled or config/patterns.yaml)"
                        "; nothing to evaluate")
    bundle = settings.positive_int("producer.replay_bundle_packets")
    if args.sessions:
        for path in args.sessions:
            try:
                instruments_csv_for(path)
            except BacktestError as exc:
                raise UserError(str(exc)) from None
    else:
        try:
            _check_simulation_date(args.date, False)
        except UserError as exc:  # evaluate has no --allow-non-trading-day: alerts need one
            raise UserError(str(exc).split("; pass")[0]) from None
        start, end = args.start or time(9, 15), args.end or time(15, 30)
        if not time(9, 15) <= start < end <= time(15, 30):
            raise UserError(f"--start {start:%H:%M} / --end {end:%H:%M}: the window must "
                            f"lie within 09:15-15:30 and end after it starts")
    with progress_bar() as bar, tempfile.TemporaryDirectory(prefix="aion-evaluate-") as tmp:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        if args.sessions:
            paths, labelled = list(args.sessions), False
        else:
            paths = simulate_sessions(args.date, args.seeds, Path(tmp), start=start, end=end,
                                      progress=update)
            labelled = True
        report = evaluate_sessions(paths, labelled=labelled, config=config,
                                   partitions=settings.partitions, bundle_packets=bundle,
                                   progress=update)
    print_report(report, console)
    if args.json is not None:
        doc = report.to_json()
        if not args.sessions:
            doc["sessions"] = [f"simulated {args.date} seed {s}" for s in args.seeds]
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {args.json}")
    return 0


# --- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (one subparser per command)."""
    parser = argparse.ArgumentParser(
        prog="aion",
        description="AION Stream: real-time and replayable NSE/NFO market-data engine.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging (-v info, -vv debug)")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an unexpected error (also AION_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("infra", help="start/stop the embedded broker and Redis in the background",
                       description="Manage embedded Tansu (Kafka protocol) and Valkey (Redis "
                       "protocol) servers on free loopback ports. Other aion commands use them "
                       "when AION_KAFKA_BOOTSTRAP / AION_REDIS_URL are unset.")
    p.add_argument("action", choices=["up", "down", "status"])
    p.set_defaults(func=cmd_infra)

    p = sub.add_parser("simulate", help="generate a deterministic simulated trading session",
                       description="Simulate an NSE/NFO session (NIFTY 50 stocks, indices, "
                       "futures, weekly options) as raw Kite packets in a session Parquet file, "
                       "with its instruments CSV and labelled ground-truth events.")
    p.add_argument("--date", type=_parse_date, required=True, help="trading date YYYY-MM-DD")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .parquet file")
    p.add_argument("--start", type=_parse_time, default=time(9, 15), help="IST start (09:15)")
    p.add_argument("--end", type=_parse_time, default=time(15, 30), help="IST end (15:30)")
    p.add_argument("--allow-non-trading-day", action="store_true",
                   help="simulate a weekend or NSE holiday too (refused by default)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("stats", help="calibration statistics of a session vs a real NSE day",
                       description="Compute the statistics of issue 12 (5-min moves in local "
                       "sigma, volume bursts, volume/|return| correlation, kurtosis, "
                       "autocorrelation, trade sizes, tick rates, volume shares, option vs "
                       "future, liquid strike, injected events) for a session file and print "
                       "them beside the real-day figures and the calibration bands.")
    p.add_argument("file", type=_existing_file, help="session .parquet file")
    p.add_argument("--instruments", type=_existing_file, default=None,
                   help="Kite instruments CSV (default: the FILE.instruments.csv sidecar)")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("sample", help="print the path of the bundled sample session",
                       description="Generate (on first use) and print the sample session.")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("replay", help="replay a session file into aion.ticks.raw",
                       description="Produce a recorded session's raw packets to the tick topic "
                       "as partition bundles, in arrival order per partition.")
    p.add_argument("file", type=_existing_file, help="session .parquet file")
    p.add_argument("--speed", default="max", help="max (default), 1x (recorded pace), Nx")
    p.add_argument("--bundle", type=int, default=None,
                   help="packets per bundle (default: producer.replay_bundle_packets)")
    p.add_argument("--partitions", type=_positive_int, help="partitions when creating topics")
    p.add_argument("--topic-prefix", help="prefix for topic names")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("worker", help="run a Faust worker (scale out: run more of them)",
                       description="Run the stream processor: per-instrument agent, Redis mirror "
                       "and Faust web views. Needs AION_KAFKA_BOOTSTRAP/AION_REDIS_URL or "
                       "`aion infra up`.")
    p.add_argument("--partitions", type=_positive_int, help="partitions when creating topics")
    p.add_argument("--topic-prefix", help="prefix for topic names")
    p.add_argument("--loglevel", default="warn", choices=["crit", "error", "warn", "info", "debug"])
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("backtest", help="replay a session through the engine and summarise",
                       description="Replay a session file (default: the bundled sample) at max "
                       "speed through the full topology on the embedded broker and Redis (unless "
                       "configured), wait until every stage has consumer lag 0, print a summary "
                       "and a per-pattern table of the alerts, write an HTML report (candles with "
                       "alerts, success by window, calibration) and say where the results are. "
                       "--driver direct runs in-process without Kafka and writes the same Redis "
                       "keys.")
    p.add_argument("file", nargs="?", type=_existing_file,
                   help="session .parquet (default: the bundled sample)")
    p.add_argument("--driver", choices=["faust", "direct"], default="faust")
    p.add_argument("--bundle", type=_positive_int, default=None, help="packets per bundle")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="worker processes (faust driver)")
    p.add_argument("--partitions", type=_positive_int, help="partitions of the run's topics")
    p.add_argument("--daily", type=_existing_file, default=None,
                   help="daily OHLCV history for volume averages (default for the sample: "
                   "its bundled 60-day history; otherwise none, so no volume ratios)")
    p.add_argument("--keep", action=argparse.BooleanOptionalAction, default=True,
                   help="keep the results in a Redis that outlives the command (default): "
                   "AION_REDIS_URL, else the `aion infra` Redis (started if needed; `aion "
                   "infra down` stops it). Keys do not expire unless AION_MIRROR__TTL=layout."
                   " --no-keep: a throwaway Redis (faust driver) or none (direct driver)")
    p.add_argument("--report", type=Path, default=None, metavar="PATH",
                   help="HTML report (default: beside the session file as "
                   "NAME.report.html; for the sample, beside the cached sample)")
    p.add_argument("--report-top", type=_non_negative_int, default=None, metavar="N",
                   help="instruments charted in the report, most alerts first (default 6)")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("evaluate", help="score the pattern detectors on simulated or recorded "
                       "sessions",
                       description="Simulate one session per seed of --date (or take recorded "
                       "session files with --sessions), run every enabled detector through the "
                       "direct driver and print per pattern: labelled events, alerts, precision "
                       "and recall against the simulator's labels (simulated sessions only), "
                       "the forward-validation hit rate per window beside a random-entry "
                       "baseline with 95% bootstrap intervals, and a calibration table.")
    p.add_argument("--date", type=_parse_date, default=None,
                   help="trading date YYYY-MM-DD of the simulated sessions")
    p.add_argument("--seeds", type=_parse_seeds, default=None,
                   help="comma-separated simulator seeds, one session each (e.g. 5,6,7)")
    p.add_argument("--sessions", type=_existing_file, nargs="+", default=None, metavar="FILE",
                   help="recorded session .parquet files (with their .instruments.csv), "
                   "instead of --date/--seeds: no labels, so forward validation and the "
                   "baseline only")
    p.add_argument("--start", type=_parse_time, default=None,
                   help="IST start of the simulated window (default 09:15)")
    p.add_argument("--end", type=_parse_time, default=None,
                   help="IST end of the simulated window (default 15:30)")
    p.add_argument("--json", type=Path, default=None, metavar="FILE",
                   help='also write the figures as JSON: {"patterns": {"<name>": {"labelled", '
                   '"alerts", "precision", "recall", ...}}}')
    p.add_argument("--partitions", type=_positive_int, help="partitions of the direct driver")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("instruments", help="instrument master: publish or look up",
                       description="Publish a Kite instruments CSV to the compacted "
                       "aion.instruments topic, or resolve tokens and symbols.")
    isub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = isub.add_parser("publish", help="publish a CSV to aion.instruments",
                       description="Publish a Kite instruments CSV to aion.instruments.")
    q.add_argument("csv", type=_existing_file)
    q.add_argument("--topic-prefix", help="prefix for topic names")
    q.set_defaults(func=cmd_instruments)
    q = isub.add_parser("lookup", help="resolve tokens or symbols from a CSV",
                       description="Resolve tokens or symbols from a Kite instruments CSV.")
    q.add_argument("csv", type=_existing_file)
    q.add_argument("items", nargs="+", help="tokens (digits) or EXCHANGE:SYMBOL")
    q.set_defaults(func=cmd_instruments)

    p = sub.add_parser("baselines", help="volume averages (20/55-day) for the volume baseline",
                       description="Volume averages used by the time-aware volume baseline "
                       "and volume ratios.")
    bsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = bsub.add_parser("build", help="compute averages from a daily OHLCV file",
                        description="Read daily OHLCV history (CSV or Parquet with columns "
                        "date, symbol, open, high, low, close, volume), compute avg_volume_20d/"
                        "55d, avg_price_20d/55d and turtle_ready per symbol, write them as JSON "
                        "(the reference's volume_averages_20d.json shape), as Redis hashes "
                        "volume_averages:{EXCHANGE}_{SYMBOL} in DB 5 and to the compacted "
                        "aion.volume.averages topic that workers follow.")
    q.add_argument("file", type=_existing_file, help="daily OHLCV .csv / .parquet")
    q.add_argument("-o", "--output", type=Path, default=Path("volume_averages_20d.json"),
                   help="JSON output (default ./volume_averages_20d.json)")
    q.add_argument("--as-of", type=_parse_date, default=None,
                   help="use only sessions on or before this date (default: all)")
    q.add_argument("--json-only", action="store_true",
                   help="write the JSON file only (no Redis, no topic)")
    q.add_argument("--topic-prefix", help="prefix for topic names")
    q.set_defaults(func=cmd_baselines)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aion`` console script.

    Args:
        argv: Arguments (default ``sys.argv[1:]``).

    Returns:
        Process exit status.
    """
    import os

    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    debug = args.debug or os.environ.get("AION_DEBUG", "") not in ("", "0")
    from aiokafka.errors import KafkaError

    func: Callable[[argparse.Namespace], int] = args.func
    try:
        if getattr(args, "bundle", "absent") is None:
            args.bundle = Settings.load().positive_int("producer.replay_bundle_packets")
        return func(args)
    except _user_errors() as exc:
        _error(str(exc))
        return 2
    except KafkaError as exc:
        _error(f"broker unreachable or refused the request: {exc}")
        return 2
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:
        if debug:
            raise
        _error(f"unexpected {type(exc).__name__}{_origin(exc.__traceback__)}: {exc} "
               f"(rerun with --debug or AION_DEBUG=1 for the traceback)")
        return 1


def _error(message: str) -> None:
    """Print one ``error:`` line on stderr (newlines folded: one line, always)."""
    err.print(f"[red]error:[/red] {escape(' '.join(message.split()))}", soft_wrap=True)


def _origin(tb: TracebackType | None) -> str:
    """`` at FILE:LINE`` of the innermost frame of a traceback ("" without one)."""
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


if __name__ == "__main__":
    sys.exit(main())
