"""The aiohttp transport under the Intercom SDK keeps httpx's failure types, which the sender reads to decide
whether a request may have reached Intercom (a connect failure: never sent; a read failure: maybe sent, so the
sender reconciles before a retry)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from bot.intercom.transport import AiohttpTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/conversations/1/reply"
    finally:
        server.close()
        await server.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0)
    await reader.readexactly(length)


async def test_a_reply_comes_back_as_an_httpx_response() -> None:
    async def ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"id":"p1"}')
        await writer.drain()
        writer.close()

    async for url in _serve(ok):
        async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
            response = await client.post(url, json={"body": "hi"})
        assert response.status_code == 200 and response.json() == {"id": "p1"}


async def test_a_refused_connection_is_a_connect_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{port}/x", json={})


async def test_a_server_that_hangs_up_after_the_request_is_a_read_error_not_a_connect_error() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)  # the request reached the server: it may have acted on it
        writer.close()

    async for url in _serve(hang_up):
        async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
            with pytest.raises(httpx.ReadError):
                await client.post(url, json={"body": "hi"})


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(2)
        writer.close()

    async for url in _serve(silent):
        async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=httpx.Timeout(0.2)) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.post(url, json={"body": "hi"})
