"""Benchmark: ``autopilot report`` over a million logged contacts.

Generates ``--contacts`` contacts (bulk inserts, the demo-history generator) spread over ``--days`` days into
``--url`` (default ``DATABASE_URL``), then times building and rendering the report for each ``--period``
(the incremental refresh of the fact table and its rollups, the two periods' metrics, the daily series, the
findings, Markdown and JSON rendering; the charts are timed separately with ``--chart``). The first refresh after
loading builds the fact table and its rollups and is timed on its own (``--rebuild`` forces it on a database that
already has them).

    .venv/bin/python bench/report_bench.py --url sqlite:///var/bench/report.db --contacts 1000000 --days 90
    .venv/bin/python bench/report_bench.py --url postgresql://postgres@127.0.0.1:5432/bench \
        --copy-from sqlite:///var/bench/report.db   # same rows, loaded with COPY instead of generated again
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, func, select

from automations.reports.markdown import render_markdown
from automations.reports.narrative import build_report
from automations.reports.periods import parse_period
from automations.taxonomy import load_taxonomy
from bot.history import TABLES, WEEKDAY, bulk_history, load_texts
from store import SqlEventStore, SqlReportSource
from store.tables import Base


def copy_tables(source_url: str, target: str) -> None:
    """Copy the generated history from a SQLite file into an empty PostgreSQL database with ``COPY``."""
    import sqlite3

    import psycopg
    from sqlalchemy import make_url

    src = sqlite3.connect(make_url(source_url).database or "")
    url = make_url(target).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as pg:
        pg.execute("SET TIME ZONE 'UTC'")
        pg.execute("TRUNCATE " + ", ".join(reversed(TABLES)) + " CASCADE")
        for name in TABLES:
            columns = [c.name for c in Base.metadata.tables[name].columns]
            quoted = ", ".join(f'"{c}"' for c in columns)
            started = time.perf_counter()
            with pg.cursor().copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {quoted} FROM {name}"):
                    copy.write_row(row)
            if "id" in columns and name != "contacts":
                pg.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
            print(f"copied {name} in {time.perf_counter() - started:.1f}s", flush=True)
        pg.execute("ANALYZE")
        pg.commit()


async def main(args: argparse.Namespace) -> None:
    store = await SqlEventStore.open(args.url)
    engine = store.engine
    reports = SqlReportSource(engine)
    now = datetime.now(UTC)
    if args.copy_from:
        await asyncio.to_thread(copy_tables, args.copy_from, args.url)
        args.skip_generate = True
    try:
        async with engine.connect() as conn:
            existing = int(await conn.scalar(select(func.count()).select_from(Base.metadata.tables["contacts"])) or 0)
        if not args.skip_generate and existing < args.contacts:
            per_day = round((args.contacts - existing) / args.days / float(WEEKDAY.mean()))
            started = time.perf_counter()
            summary = await bulk_history(
                engine, load_taxonomy(), load_texts(), now=now, days=args.days, per_day=per_day, seed=args.seed,
                prefix=f"bench{now:%Y%m%d%H%M%S}",
            )  # fmt: skip
            took = time.perf_counter() - started
            print(f"generated {summary.contacts:,} contacts ({summary.rows}) in {took:.1f}s", flush=True)
        async with engine.connect() as conn:
            total = int(await conn.scalar(select(func.count()).select_from(Base.metadata.tables["contacts"])) or 0)
        print(f"database {engine.dialect.name}: {total:,} contacts", flush=True)
        if args.rebuild:
            async with engine.begin() as conn:
                await conn.execute(delete(Base.metadata.tables["report_state"]))
        started = time.perf_counter()
        refreshed = await reports.refresh()
        print(
            f"fact table and rollups refresh: {refreshed:,} contacts in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        started = time.perf_counter()
        refreshed = await reports.refresh()
        print(f"refresh with nothing new: {refreshed} contacts in {time.perf_counter() - started:.3f}s", flush=True)
        results = {}
        for spec in args.period:
            period = parse_period(spec, now)
            times, cpu, contacts = [], [], 0
            for _ in range(args.repeat):
                started, started_cpu = time.perf_counter(), time.process_time()
                report = await build_report(reports, period, now=now)
                render_markdown(report)
                json.dumps(report.to_json())
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                contacts = report.current.contacts + report.previous.contacts
            results[spec] = times
            print(
                f"report --period {spec}: {contacts:,} contacts in the two periods; "
                f"wall best {min(times):.3f}s, median {statistics.median(times):.3f}s; "
                f"CPU (this process, all threads) best {min(cpu):.3f}s over {args.repeat} runs; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
                flush=True,
            )
        if args.chart:
            from bot.charts import render_chart, render_trend_chart

            started = time.perf_counter()
            render_chart(report)
            render_trend_chart(report)
            print(f"charts (overview and daily trends): {time.perf_counter() - started:.3f}s")
    finally:
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL"), help="database URL [DATABASE_URL]")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--period", action="append", help="repeatable; default 7d, 30d and 90d")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-generate", action="store_true", help="time only (the data is already there)")
    parser.add_argument("--chart", action="store_true", help="also time the charts")
    parser.add_argument("--rebuild", action="store_true", help="clear the watermarks: the first refresh rebuilds all")
    parser.add_argument("--copy-from", help="PostgreSQL only: load the rows of this SQLite bench database with COPY")
    arguments = parser.parse_args()
    if not arguments.url:
        parser.error("give --url or set DATABASE_URL")
    arguments.period = arguments.period or ["7d", "30d", "90d"]
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    asyncio.run(main(arguments))
