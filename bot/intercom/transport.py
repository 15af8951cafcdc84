"""An httpx transport over aiohttp's connection pool, for the Intercom SDK's many small requests.

``python-intercom`` takes any ``httpx.AsyncClient``; its default transport (httpcore on anyio) costs a worker about
a millisecond of CPU per request at 16 in flight, most of it checking every idle pooled connection on every request
(``has_expired``). :class:`AiohttpTransport` keeps httpx's request and response objects (and so the SDK, its error
types and the sender's failure mapping) but moves the bytes with aiohttp, whose HTTP parser is in C.

Failures are raised as the httpx exceptions the rest of the code expects: :class:`httpx.ConnectTimeout`,
:class:`httpx.ReadTimeout`, :class:`httpx.ConnectError`, :class:`httpx.ReadError`. Bodies are passed on undecoded
(httpx decodes ``Content-Encoding`` itself); redirects are left to httpx.
"""

from __future__ import annotations

import aiohttp
import httpx

__all__ = ["AiohttpTransport"]


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    """httpx's per-request timeouts (``request.extensions["timeout"]``) in aiohttp's terms."""
    given = request.extensions.get("timeout") or {}
    connect, read, pool = given.get("connect"), given.get("read"), given.get("pool")
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """:class:`httpx.AsyncBaseTransport` on one :class:`aiohttp.ClientSession` (created on first use, in the loop
    that uses it), keeping at most ``limit`` connections (``0``: no limit)."""

    def __init__(self, *, limit: int = 100) -> None:
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, enable_cleanup_closed=False)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read the whole response (the SDK reads every body anyway)."""
        body = await request.aread()
        timeout = _timeout(request)
        try:
            async with self._open().request(
                request.method, str(request.url), headers=request.headers.multi_items(), data=body or None,
                allow_redirects=False, timeout=timeout, compress=False,
            ) as response:  # fmt: skip
                content = await response.read()
                status, headers = response.status, [(k.decode("latin-1"), v.decode("latin-1"))
                                                    for k, v in response.raw_headers]  # fmt: skip
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except TimeoutError as exc:  # aiohttp's read timeouts (SocketTimeoutError) are TimeoutErrors too
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc
        return httpx.Response(status, headers=headers, content=content, request=request,
                              extensions={"http_version": b"HTTP/1.1"})  # fmt: skip

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
