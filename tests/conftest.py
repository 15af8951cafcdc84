"""Shared fixtures. Real services (PostgreSQL, `chroma run`) are started by the plugins below.

Session fixtures load the real packaged MiniLM model and index the shipped knowledge base into an embedded Chroma
once per run; tests that need a private index or database build their own in ``tmp_path``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.settings import Settings

pytest_plugins = [
    "tests.plugins.postgres", "tests.plugins.chroma", "tests.plugins.prism", "tests.plugins.llm_server",
    "tests.plugins.intercom_http",
]  # fmt: skip

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real packaged all-MiniLM-L6-v2 embedder."""
    from knowledge.embedding import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data directory whose embedded Chroma holds the shipped knowledge base."""
    return tmp_path_factory.mktemp("kb")


@pytest.fixture(scope="session")
async def kb_index(embedder, kb_dir: Path):  # type: ignore[no-untyped-def]
    """The shipped knowledge base, ingested once into an embedded Chroma."""
    from bot.settings import DEFAULT_KB
    from knowledge.index import ChromaIndex, chroma_client
    from knowledge.ingest import ingest

    index = ChromaIndex(chroma_client(path=kb_dir / "chroma"), embedder)
    await ingest(DEFAULT_KB, index)
    return index


@pytest.fixture
def settings(tmp_path: Path, kb_dir: Path) -> Settings:
    """Settings for one test: its own SQLite file, the shared session index, the shipped model."""
    return Settings(AUTOPILOT_DATA_DIR=tmp_path, CHROMA_PATH=kb_dir / "chroma")  # type: ignore[call-arg]


@pytest.fixture
async def make_core(embedder, kb_index) -> AsyncIterator[Callable[..., Awaitable[object]]]:  # type: ignore[no-untyped-def]
    """Factory for a fully wired real core (``bot.composition.Core``); closed after the test."""
    from bot.composition import build_core

    cores = []

    async def factory(settings: Settings, **kwargs: object):  # type: ignore[no-untyped-def]
        core = await build_core(settings, embedder=embedder, **kwargs)  # type: ignore[arg-type]
        cores.append(core)
        return core

    yield factory
    for core in cores:
        await core.close()


@pytest.fixture
async def testbot(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The whole bot in memory (tests/testbot.py): signed webhooks and Slack events in, outbox effects out."""
    from tests.testbot import make_testbot

    async with make_testbot(tmp_path) as bot:
        yield bot
