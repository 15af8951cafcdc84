"""Database URLs and schema migrations of the event store.

Migrations are plain Alembic revisions shipped inside the package (``store/migrations``); they run
programmatically, with an Alembic :class:`~alembic.config.Config` built in code, so no ``alembic.ini`` is needed at
run time.
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, make_url, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "MIGRATION_LOCK_KEY",
    "alembic_config",
    "ensure_sqlite_dir",
    "normalize_url",
    "upgrade",
    "upgrade_connection",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x4C554D454E  # "LUMEN": PostgreSQL advisory lock held while migrating
HEAD_REVISION = "0008"
"""The newest revision in ``store/migrations`` (a test checks it against Alembic's head). A database already there
is not migrated, and Alembic (a fifth of a web process's start-up imports) is not even imported."""

# Scheme (lower-cased, as written before "://") -> async scheme. Anything not listed is left alone, which keeps
# explicit async drivers (sqlite+aiosqlite, postgresql+asyncpg, postgresql+psycopg, ...) as they are.
_ASYNC_SCHEMES: dict[str, str] = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
}


def normalize_url(url: str) -> str:
    """Return ``url`` with an async driver: ``sqlite:///x.db`` -> ``sqlite+aiosqlite:///x.db``,
    ``postgresql://`` and ``postgres://`` -> ``postgresql+psycopg://``; explicit async drivers are left alone.

    Only the scheme is rewritten, so passwords and query strings keep their exact spelling.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise ValueError(f"not a database URL: {url!r}")
    return f"{_ASYNC_SCHEMES.get(scheme.lower(), scheme)}://{rest}"


def ensure_sqlite_dir(url: str) -> None:
    """Create the parent directory of a file-backed SQLite database; no-op for other URLs and in-memory ones."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def alembic_config(connection: Connection | None = None) -> Config:
    """Build the Alembic configuration in code; ``connection`` is handed to ``env.py`` when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade_head(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


_VERSION_TABLE = "alembic_version"


def _stamp_head(connection: Connection) -> None:
    """What ``alembic stamp head`` does on a database without a version table: create it as Alembic does (one
    ``VARCHAR(32)`` key, constraint ``alembic_version_pkc``) and record :data:`HEAD_REVISION`. Written here so that a
    first start does not import Alembic; ``tests/test_store.py`` checks that Alembic reads it as head, upgrades it as a
    no-op and downgrades from it."""
    version = Table(
        _VERSION_TABLE, MetaData(), Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )  # fmt: skip
    version.create(connection)
    connection.execute(version.insert().values(version_num=HEAD_REVISION))


def _create_at_head(connection: Connection) -> bool:
    """On a database with none of the event store's tables, create the newest schema at once and stamp it at head
    (Alembic's recipe for building an up-to-date database from scratch) instead of replaying every revision: a first
    start opens its port sooner. ``tests/test_store.py`` checks that both paths give the same schema. Returns whether
    it did so (``False``: some tables exist, so the revisions must run)."""
    from sqlalchemy import inspect

    from store.schema import METADATA

    if set(inspect(connection).get_table_names()) & {*METADATA.tables, _VERSION_TABLE}:
        return False
    METADATA.create_all(connection)
    _stamp_head(connection)
    return True


async def _at_head(connection: AsyncConnection) -> bool:
    """Whether the schema is already at :data:`HEAD_REVISION` (a new database has no ``alembic_version`` yet)."""
    exists = _TABLE_EXISTS.get(connection.dialect.name)
    if exists is None or not (await connection.execute(text(exists))).scalar():
        return False
    found = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    return found == [HEAD_REVISION]


_TABLE_EXISTS = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
    "postgresql": "SELECT to_regclass('alembic_version') IS NOT NULL",
}


_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _process_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock


async def upgrade_connection(connection: AsyncConnection, *, replay: bool = False) -> None:
    """Run ``upgrade head`` on an open async connection, inside its current transaction; a new database is created at
    the newest schema directly (:func:`_create_at_head`) unless ``replay`` asks for every revision to run.

    Alembic keeps its running context in module globals, so migrations in one process run one at a time; on
    PostgreSQL a transaction-scoped advisory lock also serialises processes that start (and migrate) together.
    """
    if await _at_head(connection):
        return
    async with _process_lock():
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        if replay or not await connection.run_sync(_create_at_head):
            await connection.run_sync(_upgrade_head)


async def upgrade(url: str, *, replay: bool = False) -> None:
    """Bring the database at ``url`` to the latest schema (``alembic upgrade head``; see :func:`upgrade_connection`
    for ``replay``)."""
    url = normalize_url(url)
    ensure_sqlite_dir(url)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await upgrade_connection(connection, replay=replay)
    finally:
        await engine.dispose()
