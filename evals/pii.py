"""``autopilot eval pii``: raw personal data left in the database and the logs after a full pipeline run.

Every message of the blind PII corpus (``evals/data/pii_corpus.jsonl``, generated with Faker across en_US, en_GB,
ZA, es_MX and pt_BR by :mod:`evals.pii_corpus`, written without sight of the redactor) goes through the real service:
a signed Intercom webhook, the inbox, the worker, the pipeline, the decision and the outbox, on a scratch SQLite
database, with every log record (DEBUG and up, through the product's redacting filter) captured. Then every text
column of every table and the whole log are searched for each value (verbatim, or its digits with separators removed).

It also reports false redactions on Banking77 train: the share of ordinary questions the redactor changes at all.
"""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from automations.redaction import redact
from bot.composition import build_web
from bot.http import create_app
from bot.settings import Settings
from evals.intercom_payloads import BOT_ADMIN_ID, SECRET, signed, user_created
from evals.pii_corpus import PiiItem, find_raw, read_jsonl

__all__ = ["CORPUS", "false_redactions", "run_pii"]

CORPUS = Path(__file__).parent / "data" / "pii_corpus.jsonl"
BANKING77_TRAIN = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "banking77" / "train.csv"


def _database_text(folder: Path) -> str:
    """Every value of every row of every table of every SQLite file in ``folder`` (the inbox has its own), one per
    line."""
    values: list[str] = []
    for path in sorted(folder.glob("*.db")):
        with sqlite3.connect(path) as conn:
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            values += [str(v) for table in tables for row in conn.execute(f'SELECT * FROM "{table}"') for v in row]
    return "\n".join(values)


async def _through_the_service(settings: Settings, items: list[PiiItem]) -> int:
    """Post each message as a signed Intercom webhook and let the worker decide it; returns the number accepted."""
    service = await build_web(settings, parts=None)
    app = create_app(service, manage_lifecycle=False)
    accepted = 0
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pii.test") as http:
            for n, item in enumerate(items):
                body, headers = signed(user_created(f"pii-{n}", item.text, contact_id=f"contact-{n}"), SECRET)
                response = await http.post("/intercom/webhooks", content=body, headers=headers)
                accepted += response.status_code == 200
            while await service.processor.run_once():
                pass
    finally:
        await service.stop()
    return accepted


def false_redactions(path: Path = BANKING77_TRAIN) -> dict[str, Any]:
    """Share of Banking77 train questions the redactor changes (none of them holds personal data)."""
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    changed = [t for t in texts if redact(t) != t]
    return {"questions": len(texts), "changed": len(changed), "rate": round(len(changed) / len(texts), 4),
            "examples": changed[:10]}  # fmt: skip


async def run_pii(settings: Settings, corpus: Path = CORPUS, *, limit: int | None = None) -> dict[str, Any]:
    """The whole measurement; the report lists raw values by type for the database and the logs."""
    items = read_jsonl(corpus)[:limit]
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root, product = logging.getLogger(), logging.getLogger("autopilot")
    level, product_level = root.level, product.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    product.setLevel(logging.DEBUG)  # the CLI sets it to INFO for long-running commands; every record counts here
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            scratch = settings.scratch(Path(tmp)).model_copy(
                update={"intercom_client_secret": SECRET, "intercom_bot_admin_id": BOT_ADMIN_ID, "workers": 0,
                        "intercom_access_token": None, "slack_bot_token": None}
            )  # fmt: skip
            accepted = await _through_the_service(scratch, items)
            database = _database_text(scratch.data_dir)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        product.setLevel(product_level)
    logs = captured.getvalue()
    in_db, in_logs = find_raw(items, database), find_raw(items, logs)
    kinds = sorted(set(in_db) | set(in_logs))
    totals = Counter({k: in_db.get(k, (0, 0))[1] for k in kinds})
    return {
        "command": "autopilot eval pii",
        "messages": len(items),
        "accepted": accepted,
        "values": sum(totals.values()),
        "raw_in_database": sum(found for found, _ in in_db.values()),
        "raw_in_logs": sum(found for found, _ in in_logs.values()),
        "by_type": {
            k: {"values": totals[k], "database": in_db.get(k, (0, 0))[0], "logs": in_logs.get(k, (0, 0))[0]}
            for k in kinds
        },
        "log_lines": logs.count("\n"),
        "false_redactions_banking77_train": false_redactions(),
        "seconds": round(time.perf_counter() - started, 1),
    }
