"""Finding and anonymising one data subject's rows in every table of :data:`store.schema.METADATA` (export, erasure,
retention).

Generic over the schema, so tables added later are covered without a change here:

- a *keyed* table has a ``customer_id``, ``contact_id``, ``last_contact_id`` or ``conversation_id`` column (or is
  ``contacts``/``conversations``, whose own ``id`` is one, or ``audit_events``, whose ``subject`` may be any, alone
  or first in a compound ``<id>:<more>``); its rows whose key is in the :class:`Scope` are the subject's;
- a *free-form* table has none of them (``inbox``, ``outbox``, and ``audit_events`` too): a row is the subject's when
  one of its string values mentions one of the scope's identifiers as a whole word.

Anonymising a row replaces each identifier by its token (:attr:`Scope.tokens`), in key columns and inside every
other string, and, when :attr:`Scope.blank`, empties each free text: every ``Text`` or ``JSON`` column except
:data:`KEEP_TEXT` (codes and system messages the reports read, whose identifiers are replaced instead). A pending
queue row of the subject is given up (``dead``), not sent. A primary key that other tables reference is changed
by inserting the new row and deleting the old one once its children point to the new one (foreign keys are not
deferrable), the parents first, in the metadata's dependency order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from automations.privacy import id_pattern
from store.schema import METADATA

__all__ = [
    "ANY",
    "CONTACT",
    "CONVERSATION",
    "CUSTOMER",
    "KEEP_TEXT",
    "QUEUES",
    "Scope",
    "anonymise",
    "chunks",
    "jsonable",
    "key_columns",
    "subject_rows",
]

CUSTOMER, CONTACT, CONVERSATION, ANY = "customer", "contact", "conversation", "any"
KEY_COLUMNS: dict[str, str] = {
    "customer_id": CUSTOMER,
    "contact_id": CONTACT,
    "last_contact_id": CONTACT,
    "conversation_id": CONVERSATION,
}
OWN_KEYS: dict[tuple[str, str], str] = {
    ("contacts", "id"): CONTACT,
    ("conversations", "id"): CONVERSATION,
    ("audit_events", "subject"): ANY,
}
MENTION_SCANNED = frozenset({"audit_events"})
"""Keyed tables that are also searched for mentions (an audit detail may name a customer under another subject)."""
KEEP_TEXT = frozenset(
    {
        ("decisions", "reason"),
        ("decisions", "handoff_reason"),
        ("decisions", "article_url"),
        ("outcomes", "reason"),
        ("outcome_transitions", "reason"),
        ("audit_events", "detail"),
        ("regulatory_clocks", "basis"),
        ("regulatory_clocks", "reason"),
    }
)
"""Text columns written by the system (codes the reports group by, or messages naming contacts by id): their
identifiers are replaced, the rest is kept."""
QUEUES = frozenset({"inbox", "outbox"})
ERASED = "erased"
CHUNK = 500


def chunks(values: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    """``values`` sorted, in lists of at most ``size`` (bounded ``IN`` lists)."""
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


@dataclass(frozen=True)
class Scope:
    """Whose rows: keys in ``contacts``, ``conversations`` or ``customers``; what to do with them: replace each
    identifier of ``tokens`` by its token, and empty free texts when ``blank``. Rows naming an ``excluded``
    identifier (records under a legal hold) are left alone. Without ``scan``, only keys are matched (a retention
    run's thousands of identifiers would each cost a scan of the free-form tables)."""

    contacts: frozenset[str] = frozenset()
    conversations: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()
    tokens: Mapping[str, str] = field(default_factory=dict)
    blank: bool = False
    excluded: frozenset[str] = frozenset()
    scan: bool = True

    def ids(self, kind: str) -> frozenset[str]:
        """The scope's identifiers of one kind (:data:`ANY`: all of them)."""
        if kind == CUSTOMER:
            return self.customers
        if kind == CONTACT:
            return self.contacts
        if kind == CONVERSATION:
            return self.conversations
        return self.contacts | self.conversations | self.customers

    @property
    def empty(self) -> bool:
        """Nothing is in scope."""
        return not (self.contacts or self.conversations or self.customers)


def key_columns(table: Table) -> list[tuple[Column[Any], str]]:
    """The table's identifier columns and their kinds."""
    found = [(c, KEY_COLUMNS[c.name]) for c in table.columns if c.name in KEY_COLUMNS]
    found += [(table.c[col], kind) for (name, col), kind in OWN_KEYS.items() if name == table.name]
    return found


def _strings(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, String | JSON)]


def _values(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _mentions(values: Mapping[str, Any], columns: Sequence[Column[Any]], pattern: re.Pattern[str] | None) -> bool:
    return pattern is not None and any(
        values[c.name] is not None and pattern.search(_text_of(values[c.name])) for c in columns
    )


async def subject_rows(conn: AsyncConnection, table: Table, scope: Scope) -> list[dict[str, Any]]:
    """The rows of ``table`` that belong to the scope (by key, or by mention in free-form tables), minus those
    naming an excluded identifier."""
    keys, strings = key_columns(table), _strings(table)
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    pk = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]

    def keep(row: Any) -> None:
        values = _values(row)
        found[tuple(values[name] for name in pk)] = values

    for column, kind in keys:
        for part in chunks(scope.ids(kind)):
            for row in await conn.execute(select(table).where(column.in_(part))):
                keep(row)
        if kind == ANY:  # a subject may also be a compound id, such as a clock's "<contact id>:<rule>"
            for part in chunks(scope.ids(kind), 100):
                clause = or_(*(column.startswith(f"{i}:", autoescape=True) for i in part))
                for row in await conn.execute(select(table).where(clause)):
                    keep(row)
    if scope.scan and (not keys or table.name in MENTION_SCANNED) and strings:
        pattern = id_pattern(scope.ids(ANY))
        for part in chunks(scope.ids(ANY), 20):
            text_columns = [c for c in strings if isinstance(c.type, String)]
            clause = or_(*(c.contains(i, autoescape=True) for c in text_columns for i in part))
            for row in await conn.execute(select(table).where(clause)):
                if _mentions(_values(row), strings, pattern):
                    keep(row)
    excluded = id_pattern(scope.excluded)
    key_names = {c.name for c, _ in keys}
    return [
        values
        for values in found.values()
        if not any(values.get(name) in scope.excluded for name in key_names)
        and not (not keys and _mentions(values, strings, excluded))
    ]


def _referenced(table: Table) -> bool:
    return any(fk.column.table is table for other in METADATA.tables.values() for fk in other.foreign_keys)


def _rewrite(table: Table, values: dict[str, Any], scope: Scope, pattern: re.Pattern[str] | None) -> dict[str, Any]:
    new = dict(values)

    def swap(text: str) -> str:
        return pattern.sub(lambda m: scope.tokens[m.group(0)], text) if pattern is not None else text

    for column in _strings(table):
        value = values[column.name]
        if value is None:
            continue
        free = isinstance(column.type, Text | JSON) and (table.name, column.name) not in KEEP_TEXT
        if scope.blank and free:
            new[column.name] = "" if isinstance(column.type, String) else type(value)()
        elif isinstance(column.type, JSON):
            new[column.name] = json.loads(swap(json.dumps(value)))
        else:
            new[column.name] = swap(value)
    if scope.blank and table.name in QUEUES and values.get("status") == "pending":
        new.update(status="dead", error=ERASED)
    return new


async def anonymise(conn: AsyncConnection, scope: Scope, tables: Sequence[Table] | None = None) -> dict[str, int]:
    """Anonymise the scope's rows in ``tables`` (default: every table, parents first); rows changed by table."""
    if scope.empty:
        return {}
    pattern = id_pattern(scope.tokens)
    changed: dict[str, int] = {}
    stale: list[tuple[Table, dict[str, Any]]] = []
    for table in tables if tables is not None else METADATA.sorted_tables:
        pk = list(table.primary_key.columns)
        moves = _referenced(table)
        for values in await subject_rows(conn, table, scope):
            new = _rewrite(table, values, scope, pattern)
            diff = {name: value for name, value in new.items() if value != values[name]}
            if not diff:
                continue
            changed[table.name] = changed.get(table.name, 0) + 1
            old_key = {c.name: values[c.name] for c in pk} if pk else values
            where = and_(*(table.c[name] == value for name, value in old_key.items()))
            if moves and any(c.name in diff for c in pk):
                await conn.execute(insert(table).values(new))
                stale.append((table, old_key))
            else:
                await conn.execute(update(table).where(where).values(diff))
    for table, old_key in reversed(stale):  # children already point to the new rows
        await conn.execute(delete(table).where(and_(*(table.c[n] == v for n, v in old_key.items()))))
    return changed


def jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON-ready values (times in ISO 8601)."""
    return {name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in values.items()}
