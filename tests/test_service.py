"""The HTTP service shell: health, readiness, metrics and the body limit, through the real ASGI app."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bot.composition import build_web
from bot.http import create_app
from bot.settings import Settings


async def test_health_readiness_metrics_and_body_limit(settings: Settings, make_core) -> None:  # type: ignore[no-untyped-def]
    service = await build_web(settings, core=await make_core(settings), parts=[])
    app = create_app(service)
    await service.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["checks"] == {
                "database": "ok",
                "index": "ok",
                "model": "ok",
            }
            await asyncio.sleep(0.05)  # the queue-depth gauges are first read at start
            metrics = (await client.get("/metrics")).text
            assert "autopilot_inbox_pending 0.0" in metrics
            too_big = await client.post("/healthz", content=b"x" * (settings.max_body_bytes + 1))
            assert too_big.status_code == 413
    finally:
        await service.stop()


async def test_readiness_fails_on_an_empty_index(tmp_path: Path, make_core) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(AUTOPILOT_DATA_DIR=tmp_path, CHROMA_PATH=tmp_path / "empty")  # type: ignore[call-arg]
    service = await build_web(settings, core=await make_core(settings), parts=[])
    app = create_app(service, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        ready = await client.get("/readyz")
    await service.stop()
    assert ready.status_code == 503
    assert ready.json()["checks"]["index"].startswith("error: empty index")
