"""A fault-injecting fake Intercom: a real HTTP server (Starlette on uvicorn) speaking Intercom's REST wire format.

It runs in its own thread and event loop on a free local port, so a hanging response never blocks the test's loop,
and it can be stopped and started again on the same port to simulate an outage (connection refused). It records
every request, keeps per-conversation state (parts, team assignee, tags), serves Help Center articles, and answers
according to programmable faults: a status (429 with ``Retry-After``, 500, 503...), or a hang longer than the
client's timeout. Responses follow the 2.14 OpenAPI description, so the same server can sit behind ``prism proxy``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.fakes.net import free_port

__all__ = ["FakeIntercom", "Fault", "Recorded"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request the fake received, and the status it answered (``None``: it hung until the client gave up)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float
    status: int | None


@dataclass(slots=True)
class Fault:
    """Answer the next ``times`` matching requests with ``status`` (and ``headers``), or hang for ``hang_s``."""

    times: int
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0
    path_contains: str = ""


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    errors = [{"code": code, "message": message}]
    body = {"type": "error.list", "request_id": f"req-{time.monotonic_ns()}", "errors": errors}
    return JSONResponse(body, status_code=status, headers=headers)


class FakeIntercom:
    """The fake server. ``start()``/``stop()`` (also a context manager); ``url`` is the ``INTERCOM_BASE_URL``."""

    def __init__(self, *, token: str = "test-token", port: int | None = None) -> None:
        self.token = token
        self.port = port or free_port()
        self.requests: list[Recorded] = []
        self.conversations: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self.articles: dict[str, dict[str, Any]] = {}
        self.down_status: int | None = None
        self.latency_s = 0.0  # added before answering every request (a slow Intercom)
        self._faults: list[Fault] = []
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()

    # --- lifecycle -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL to point the SDK at."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeIntercom:
        """Serve on ``port`` (the same port again after a ``stop()``)."""
        self._release.clear()
        config = uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-intercom", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"fake Intercom did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut down (hanging requests are released first); the port refuses connections until ``start()``."""
        self._release.set()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeIntercom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- programming faults ----------------------------------------------------------------------------------
    def fail(self, times: int, status: int = 500, *, retry_after: float | None = None, path_contains: str = "") -> None:
        """Answer the next ``times`` matching requests with ``status`` (``Retry-After`` header when given)."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        with self._lock:
            self._faults.append(Fault(times, status, headers, path_contains=path_contains))

    def hang(self, times: int, seconds: float = 30.0, *, path_contains: str = "") -> None:
        """Hold the next ``times`` matching requests open for ``seconds`` without answering."""
        with self._lock:
            self._faults.append(Fault(times, hang_s=seconds, path_contains=path_contains))

    def go_down(self, status: int = 503) -> None:
        """Answer every request with ``status`` until :meth:`come_back`."""
        self.down_status = status

    def come_back(self) -> None:
        """Serve normally again."""
        self.down_status = None

    def add_article(self, article_id: str, *, title: str, body: str, state: str = "published", updated_at: int = 0,
                    url: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Create or replace a Help Center article (wire format of ``ArticleListItem``)."""
        article = {
            "type": "article", "id": article_id, "workspace_id": "fake-workspace", "title": title, "description": "",
            "body": body, "author_id": 991267492, "state": state, "created_at": updated_at or 1_700_000_000,
            "updated_at": updated_at or 1_700_000_000, "parent_id": None, "parent_type": None, "parent_ids": [],
            "default_locale": "en",
            "url": url if url is not None else (
                f"https://help.example.test/en/articles/{article_id}" if state == "published" else None
            ),
        }  # fmt: skip
        self.articles[article_id] = article
        return article

    # --- inspection ------------------------------------------------------------------------------------------
    def calls(self, method: str | None = None, path_contains: str = "") -> list[Recorded]:
        """Recorded requests, optionally filtered."""
        with self._lock:
            return [r for r in self.requests if (method is None or r.method == method) and path_contains in r.path]

    def parts(self, conversation_id: str) -> list[dict[str, Any]]:
        """Conversation parts created on ``conversation_id`` (replies, notes, assignments)."""
        return list(self.conversations.get(conversation_id, {}).get("parts", []))

    # --- the app ---------------------------------------------------------------------------------------------
    def _app(self) -> Starlette:
        routes = [
            Route("/conversations/{cid}", self._find, methods=["GET"]),
            Route("/conversations/{cid}/reply", self._reply, methods=["POST"]),
            Route("/conversations/{cid}/parts", self._manage, methods=["POST"]),
            Route("/conversations/{cid}/tags", self._tag_conversation, methods=["POST"]),
            Route("/tags", self._create_tag, methods=["POST"]),
            Route("/articles", self._list_articles, methods=["GET"]),
        ]
        app = Starlette(routes=routes)

        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            request = Request(scope, receive)
            raw = await request.body()
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            response, hang = self._intercept(request)
            if hang:
                self._record(request, body, None)
                await asyncio.get_running_loop().run_in_executor(None, self._release.wait, hang)
                response = _error(503, "service_unavailable", "hung request released")
            elif response is None:
                auth = request.headers.get("authorization", "")
                if auth != f"Bearer {self.token}":
                    response = _error(401, "token_not_found", "Access Token Invalid")
            if response is not None:
                if not hang:
                    self._record(request, body, response.status_code)
                await response(scope, _replay(raw), send)
                return
            holder: dict[str, int] = {}

            async def capture(message: Any) -> None:
                if message["type"] == "http.response.start":
                    holder["status"] = message["status"]
                await send(message)

            await app(scope, _replay(raw), capture)
            self._record(request, body, holder.get("status"))

        return middleware  # type: ignore[return-value]

    def _intercept(self, request: Request) -> tuple[Response | None, float]:
        with self._lock:
            if self.down_status is not None:
                return _error(self.down_status, "service_unavailable", "Intercom is down (fake)"), 0.0
            for fault in self._faults:
                if fault.times > 0 and fault.path_contains in request.url.path:
                    fault.times -= 1
                    if fault.hang_s:
                        return None, fault.hang_s
                    code = "rate_limit_exceeded" if fault.status == 429 else "server_error"
                    return _error(fault.status, code, f"injected {fault.status}", fault.headers), 0.0
        return None, 0.0

    def _record(self, request: Request, body: Any, status: int | None) -> Recorded:
        item = Recorded(
            method=request.method, path=request.url.path, query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()}, body=body, at=time.monotonic(), status=status,
        )  # fmt: skip
        with self._lock:
            self.requests.append(item)
        return item

    def _conversation(self, cid: str) -> dict[str, Any]:
        return self.conversations.setdefault(
            cid, {"id": cid, "parts": [], "team_assignee_id": None, "admin_assignee_id": None, "tags": []}
        )

    def _wire(self, conv: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        return {
            "type": "conversation", "id": conv["id"], "created_at": now, "updated_at": now, "waiting_since": None,
            "snoozed_until": None, "open": True, "state": "open", "read": True, "priority": "not_priority",
            "admin_assignee_id": conv["admin_assignee_id"],
            "team_assignee_id": int(conv["team_assignee_id"]) if conv["team_assignee_id"] else None,
            "tags": {"type": "tag.list", "tags": [self.tags[t] for t in conv["tags"]]},
            "conversation_parts": {
                "type": "conversation_part.list", "conversation_parts": conv["parts"], "total_count": len(conv["parts"])
            },
        }  # fmt: skip

    def _part(self, part_type: str, author_id: str, body: str | None, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "type": "conversation_part", "id": str(next(self._ids)), "part_type": part_type, "body": body,
            "created_at": now, "updated_at": now, "notified_at": now, "redacted": False,
            "author": {"type": "admin", "id": author_id, "name": "Autopilot", "email": "bot@example.test"}, **extra,
        }  # fmt: skip

    async def _find(self, request: Request) -> Response:
        with self._lock:
            conv = self.conversations.get(request.path_params["cid"])
            if conv is None:
                return _error(404, "not_found", "Resource Not Found")
            return JSONResponse(self._wire(conv))

    async def _reply(self, request: Request) -> Response:
        data = await request.json()
        if data.get("type") != "admin" or data.get("message_type") not in ("comment", "note") or not data.get("body"):
            return _error(400, "parameter_invalid", "expected an admin comment or note with a body")
        with self._lock:
            conv = self._conversation(request.path_params["cid"])
            conv["parts"].append(self._part(data["message_type"], str(data["admin_id"]), data["body"]))
            return JSONResponse(self._wire(conv))

    async def _manage(self, request: Request) -> Response:
        data = await request.json()
        if data.get("message_type") != "assignment" or data.get("type") not in ("admin", "team"):
            return _error(400, "parameter_invalid", "only assignments are supported by the fake")
        with self._lock:
            conv = self._conversation(request.path_params["cid"])
            conv[f"{data['type']}_assignee_id"] = str(data["assignee_id"])
            conv["parts"].append(self._part("assignment", str(data["admin_id"]), data.get("body")))
            return JSONResponse(self._wire(conv))

    async def _create_tag(self, request: Request) -> Response:
        data = await request.json()
        name = data.get("name")
        if not name:
            return _error(400, "parameter_not_found", "name is required")
        with self._lock:
            tag = next((t for t in self.tags.values() if t["name"] == name), None)
            if tag is None:
                tag = {"type": "tag", "id": str(next(self._ids)), "name": name}
                self.tags[tag["id"]] = tag
            return JSONResponse(tag)

    async def _tag_conversation(self, request: Request) -> Response:
        data = await request.json()
        with self._lock:
            tag = self.tags.get(str(data.get("id")))
            if tag is None or not data.get("admin_id"):
                return _error(404, "tag_not_found", "Tag not found")
            conv = self._conversation(request.path_params["cid"])
            if tag["id"] not in conv["tags"]:
                conv["tags"].append(tag["id"])
            return JSONResponse(tag)

    async def _list_articles(self, request: Request) -> Response:
        page = int(request.query_params.get("page", "1"))
        per_page = int(request.query_params.get("per_page", "15"))
        with self._lock:
            ordered = sorted(self.articles.values(), key=lambda a: (-a["updated_at"], a["id"]))
        total_pages = max(1, -(-len(ordered) // per_page))
        chunk = ordered[(page - 1) * per_page : page * per_page]
        pages = {"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages}
        return JSONResponse({"type": "list", "pages": pages, "total_count": len(ordered), "data": chunk})


def _replay(raw: bytes) -> Any:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.Event().wait()  # like a real client that keeps the connection open
        return {"type": "http.disconnect"}

    return receive
