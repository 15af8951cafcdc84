"""Pytest plugin: a throwaway PostgreSQL cluster for the suite, and a ``store_url`` fixture over both backends.

The cluster is started once per session from Debian's server binaries (``apt-get install postgresql``), found under
``/usr/lib/postgresql/*/bin`` or on ``PATH`` (only in ``$POSTGRES_BIN_DIR`` when that is set). It listens on
127.0.0.1 only, on a free port, with its unix sockets in its own temporary directory, and is stopped and deleted at
the end. As root, ``initdb``/``pg_ctl`` run as the ``postgres`` user (the server refuses to run as root).

Without the binaries the PostgreSQL tests are skipped, except when ``CI=true``: CI must never skip them silently.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import pytest

from tests.plugins.processes import free_port, unavailable

__all__ = ["PostgresServer", "fresh_database", "postgres_server", "postgres_url", "store_url"]

TEST_DATABASE = "autopilot_test"
SUPERUSER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway cluster (superuser ``postgres``, trust authentication, TCP on 127.0.0.1)."""

    host: str
    port: int

    def url(self, database: str) -> str:
        """SQLAlchemy URL (async psycopg driver) of ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[Any]:
        """An autocommit connection to the ``postgres`` maintenance database."""
        return psycopg.connect(host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def _find_bin_dir() -> Path | None:
    explicit = os.environ.get("POSTGRES_BIN_DIR")
    if explicit:  # authoritative when set
        candidates = [Path(explicit) / "initdb"]
    else:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version_key, reverse=True)
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path))
    for initdb in candidates:
        if initdb.is_file() and (initdb.parent / "pg_ctl").is_file():
            return initdb.parent
    return None


def _run(command: list[str], *, as_postgres: bool) -> subprocess.CompletedProcess[str]:
    if as_postgres:
        command = ["runuser", "-u", SUPERUSER, "--", *command]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)


def _missing(reason: str) -> NoReturn:
    unavailable(f"PostgreSQL is required in CI: {reason}", f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL cluster for the session; stop and delete it at the end."""
    bin_dir = _find_bin_dir()
    if bin_dir is None:
        _missing("no initdb/pg_ctl under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    as_postgres = os.geteuid() == 0
    if as_postgres and shutil.which("runuser") is None:
        _missing("running as root but `runuser` is missing")
    base = Path(tempfile.mkdtemp(prefix="autopilot-pg-"))
    data, log = base / "data", base / "server.log"
    if as_postgres:
        shutil.chown(base, user=SUPERUSER, group=SUPERUSER)
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8"]
    init = _run([*initdb, "--locale=C", "--no-sync"], as_postgres=as_postgres)
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}", pytrace=False)
    pg_ctl = str(bin_dir / "pg_ctl")
    port, started = 0, None
    for _attempt in range(3):  # another process may grab the free port between probing and binding
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        started = _run(
            [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"], as_postgres=as_postgres
        )
        if started.returncode == 0:
            break
    if started is None or started.returncode != 0:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed:\n{started and started.stderr}\n{server_log}", pytrace=False)
    try:
        yield PostgresServer(host="127.0.0.1", port=port)
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], as_postgres=as_postgres)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of the session's ``autopilot_test`` database (created once; tests that need isolation use ``store_url``)."""
    with postgres_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{TEST_DATABASE}"')
    return postgres_server.url(TEST_DATABASE)


@contextlib.contextmanager
def fresh_database(server: PostgresServer) -> Iterator[str]:
    """Create an empty database with a unique name, yield its URL, then drop it (closing leftover sessions)."""
    name = f"autopilot_{uuid.uuid4().hex[:16]}"
    with server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.url(name)
    finally:
        with server.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database, once per backend: a SQLite file in ``tmp_path``, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'events.db'}"
        return
    request.getfixturevalue("postgres_url")  # starts the cluster and fails/skips like it
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with fresh_database(server) as url:
        yield url


@pytest.fixture
async def store(store_url: str):  # type: ignore[no-untyped-def]
    """An open SQL event store on an empty database of each backend, closed after the test."""
    from store import SqlEventStore

    s = await SqlEventStore.open(store_url)
    try:
        yield s
    finally:
        await s.close()
