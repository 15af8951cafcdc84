"""End to end: PII never reaches the database or the logs.

Every line of ``tests/data/pii_corpus.jsonl`` goes through the real core (MiniLM, Chroma, the shipped model and rules)
as a customer and as an agent, with a handler on the root logger capturing everything at DEBUG. Then every text value
of every table, the SQLite file's bytes and the captured log output are searched for each secret and for any 12-digit
run of its digits. Card numbers must still show their last four digits in the stored text.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from automations.models import Action, Channel, Contact
from bot.settings import Settings
from tests.plugins.postgres import fresh_database

pytestmark = pytest.mark.slow

CORPUS = [json.loads(line) for line in (Path(__file__).parent / "data" / "pii_corpus.jsonl").read_text().splitlines()]
_DIGIT_RUN = re.compile(r"\d(?:[ ()\-./]{0,3}\d)*")
WINDOW = 12


class Capture(logging.Handler):
    """Keeps the fully formatted output of every record it handles (message, exception and stack text)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """A DEBUG handler on the root logger, installed before the core is built (as a deployment configures logging
    before starting the service)."""
    root, product = logging.getLogger(), logging.getLogger("autopilot")
    handler, level, product_level = Capture(), root.level, product.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    product.setLevel(logging.DEBUG)  # a CLI test in this process may have left it at INFO: every record counts here
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        product.setLevel(product_level)


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def leaks(haystack: str) -> list[str]:
    """Secrets of the corpus found in ``haystack``: verbatim (case-insensitive) or as a 12-digit run of their digits,
    with or without separators."""
    folded = haystack.casefold()
    runs = [_digits(m.group()) for m in _DIGIT_RUN.finditer(haystack)]
    runs = [run for run in runs if len(run) >= WINDOW]
    found = []
    for line in CORPUS:
        for secret in line["secrets"]:
            digits = _digits(secret)
            windows = {digits[i : i + WINDOW] for i in range(len(digits) - WINDOW + 1)}
            if secret.casefold() in folded or any(w in run for run in runs for w in windows):
                found.append(secret)
    return found


def test_leak_detector_finds_what_it_must() -> None:
    assert {"4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111"} <= set(leaks("card 4111-1111-1111-1111"))
    assert "GB82 WEST 1234 5698 7654 32" in leaks("iban gb82 west 1234 5698 7654 32")
    assert "021000021" in leaks("routing 021000021")
    assert "123456789012" in leaks("acct 1234 5678 9012")
    assert leaks("[CARD ****1111] on 2026-10-01T12:30:00, ref 4821, £1,250.00") == []


async def _all_text(engine: Any) -> dict[str, list[str]]:
    """Every text value of every table (as JSON for structured values), by table."""

    def reflect(sync_conn: Any) -> MetaData:
        metadata = MetaData()
        metadata.reflect(sync_conn)
        return metadata

    out: dict[str, list[str]] = {}
    async with engine.connect() as conn:
        metadata = await conn.run_sync(reflect)
        for table in metadata.sorted_tables:
            values = out.setdefault(table.name, [])
            for row in (await conn.execute(select(table))).all():
                for value in row:
                    if isinstance(value, str):
                        values.append(value)
                    elif isinstance(value, dict | list):
                        values.append(json.dumps(value))
    return out


async def _run_corpus(core: Any) -> dict[str, Any]:
    """Every corpus line as a customer (in batches) and as an agent; returns decisions by contact id."""
    run = uuid.uuid4().hex[:8]
    customers = [
        Contact(id=f"pii-{run}-c{i}", text=line["text"], customer_id=f"cus_pii_{run}_{i}", source="privacy-test")
        for i, line in enumerate(CORPUS)
    ]
    decisions = {}
    for start in range(0, len(customers), 16):
        for decision in await core.pipeline.handle_many(customers[start : start + 16]):
            decisions[decision.contact_id] = decision
    for i, line in enumerate(CORPUS):
        contact = Contact(id=f"pii-{run}-a{i}", text=line["text"], channel=Channel.AGENT, source="privacy-test")
        decisions[contact.id] = await core.pipeline.handle(contact)
    assert len(decisions) == 2 * len(CORPUS)
    return decisions


async def _check(core: Any, captured: Capture) -> dict[str, list[str]]:
    decisions = await _run_corpus(core)
    assert any(d.action is Action.HANDOFF for d in decisions.values())
    tables = await _all_text(core.store.engine)
    assert {"contacts", "decisions", "outcomes", "outcome_transitions"} <= set(tables)
    assert len(tables["contacts"]) >= 2 * len(CORPUS)
    for name, values in tables.items():
        found = {secret for value in values for secret in leaks(value)}
        assert not found, f"table {name} holds {sorted(found)}"
    # cards keep their last four digits in what is stored
    for i, line in enumerate(CORPUS):
        cards = [s for s, kind in zip(line["secrets"], line["kinds"], strict=True) if kind == "card"]
        for contact_id in (d.contact_id for d in decisions.values() if d.contact_id.endswith((f"-c{i}", f"-a{i}"))):
            stored = await core.store.get_decision(contact_id)
            assert stored is not None
            for card in cards:
                assert f"****{_digits(card)[-4:]}" in stored.text, (line["text"], stored.text)
            if stored.handoff is not None:
                assert not leaks(stored.handoff.summary)
    logs = "\n".join(captured.lines)
    assert "decision contact=pii-" in logs  # the handler really saw the pipeline's records
    assert not leaks(logs), sorted(set(leaks(logs)))
    return tables


async def test_no_pii_in_sqlite_tables_file_or_logs(make_core, settings: Settings, captured: Capture) -> None:  # type: ignore[no-untyped-def]
    core = await make_core(settings)
    assert core.store.engine.dialect.name == "sqlite"
    tables = await _check(core, captured)
    await core.close()
    files = _files(settings.data_dir, "autopilot*.db*")
    assert files
    raw = b"".join(path.read_bytes() for path in files)
    assert b"[CARD ****1111]" in raw  # the redacted text really is in these bytes
    text = raw.decode("latin-1")
    assert not leaks(text), sorted(set(leaks(text)))
    assert sum(len(v) for v in tables.values()) > 0


@pytest.mark.postgres
async def test_no_pii_in_postgres_tables_or_logs(  # type: ignore[no-untyped-def]
    make_core, postgres_url: str, postgres_server, kb_dir: Path, tmp_path: Path, captured: Capture
) -> None:
    # a database of its own (on the session's cluster), so rows written by other tests cannot interfere
    with fresh_database(postgres_server) as url:
        assert url.rsplit("/", 1)[0] == postgres_url.rsplit("/", 1)[0]
        settings = Settings(  # type: ignore[call-arg]
            AUTOPILOT_DATA_DIR=tmp_path, CHROMA_PATH=kb_dir / "chroma", DATABASE_URL=url
        )
        core = await make_core(settings)
        assert core.store.engine.dialect.name == "postgresql"
        try:
            await _check(core, captured)
        finally:
            await core.close()
    assert not _files(tmp_path, "*.db")
