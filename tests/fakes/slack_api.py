"""A local fake of the Slack Web API: a real HTTP server on a free port that records every call.

Modelled on slack_bolt's own ``tests/mock_web_api_server``: a ``ThreadingHTTPServer`` in a daemon thread answering
``POST /api/<method>`` in Slack's wire format (``{"ok": true, ...}``), plus the upload URLs that
``files.getUploadURLExternal`` hands out (so ``files_upload_v2`` runs its real three steps) and ``/respond/<id>``
``response_url`` targets. Tests point ``SLACK_API_URL`` at :attr:`FakeSlackApi.api_url` and can make the next calls of
a method fail with a 429 (``Retry-After``) or a 5xx.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

__all__ = ["Call", "FakeSlackApi", "SlackDelivery", "signed_headers"]

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    body: bytes = b""
    status: int = 200


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: int | None
    error: str


@dataclass
class FakeSlackApi:
    """The fake server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    usergroups: dict[str, list[str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> FakeSlackApi:
        """Listen on a free local port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeSlackApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """Value for ``SLACK_API_URL``."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        """A ``response_url`` on the fake (calls recorded as method ``respond``)."""
        return f"{self.base_url}/respond/{name}"

    # -- scripting -----------------------------------------------------------------------------------------------
    def fail(
        self, method: str, *, status: int = 500, times: int = 1, retry_after: int | None = None, error: str = ""
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status`` (200 + ``error``: an ``ok: false``)."""
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(status, times, retry_after, error))

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    # -- inspection ----------------------------------------------------------------------------------------------
    def of(self, method: str, *, ok_only: bool = True) -> list[Call]:
        """Calls of one method (by default only those answered with 200)."""
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    async def wait_for(
        self, method: str, count: int = 1, *, within: float = 20.0, where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        """Wait until at least ``count`` successful calls of ``method`` (matching ``where``) were received."""
        deadline = time.monotonic() + within
        while True:
            found = [c for c in self.of(method) if where is None or where(c)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.02)

    # -- responses -----------------------------------------------------------------------------------------------
    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        if method == "auth.test":
            return {"user_id": BOT_USER_ID, "bot_id": BOT_ID, "team_id": TEAM_ID, "user": "autopilot", "team": "Lumen"}
        if method in ("chat.postMessage", "chat.update"):
            return {"channel": params.get("channel"), "ts": params.get("ts") or ts, "message": {"text": ""}}
        if method == "chat.postEphemeral":
            return {"message_ts": ts}
        if method == "views.publish":
            return {"view": {"id": "V1", **_json(params.get("view"))}}
        if method == "usergroups.users.list":
            group = params.get("usergroup", "")
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"users": self.usergroups[group]}
        if method == "conversations.open":
            return {"channel": {"id": f"D{params.get('users', 'X')}"}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {"file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = _json(params.get("files")) or []
            return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        return {}


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _handler_for(fake: FakeSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            url = urlparse(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            params: dict[str, Any] = dict(parse_qsl(url.query))
            ctype = self.headers.get("Content-Type", "")
            if "application/json" in ctype and raw:
                params.update(json.loads(raw))
            elif "x-www-form-urlencoded" in ctype:
                params.update(parse_qsl(raw.decode()))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if url.path.startswith("/upload/"):
                method = "upload"
                params["file_id"] = url.path.rsplit("/", 1)[-1]
            elif url.path.startswith("/respond/"):
                method = "respond"
            else:
                method = url.path.removeprefix("/api/")
            call = Call(method, params, headers, raw)
            failure = fake._take_failure(method)
            if failure is not None and failure.status != 200:
                call.status = failure.status
                with fake._lock:
                    fake.calls.append(call)
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                error = failure.error or ("ratelimited" if failure.status == 429 else "internal_error")
                body = json.dumps({"ok": False, "error": error}).encode()
                self._send(failure.status, body, "application/json; charset=utf-8", extra)
                return
            with fake._lock:
                fake.calls.append(call)
            if method == "upload":
                with fake._lock:
                    fake.uploads[params["file_id"]] = raw
                self._send(200, f"OK - {len(raw)}".encode(), "text/plain; charset=utf-8")
                return
            if method == "respond":
                self._send(200, b"ok", "text/plain; charset=utf-8")
                return
            if failure is not None:  # 200 with ok: false
                answer: dict[str, Any] = {"ok": False, "error": failure.error}
            else:
                answer = {"ok": True, **fake._answer(method, params)}
            self._send(200, json.dumps(answer).encode(), "application/json; charset=utf-8")

        do_GET = do_POST  # some Web API methods (usergroups.users.list) are sent as GET with query parameters

    return Handler


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with a request, signed with slack_sdk's ``SignatureVerifier``."""
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


class SlackDelivery:
    """Slack's side of HTTP mode: signed event, slash-command and interactivity requests to ``/slack/events``."""

    def __init__(self, client: Any, secret: str, fake: FakeSlackApi, *, team_id: str = TEAM_ID) -> None:
        """``client`` is an ``httpx.AsyncClient`` on the ASGI app."""
        self.client, self.secret, self.fake, self.team_id = client, secret, fake, team_id
        self._n = itertools.count(1)

    async def post(
        self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None, timestamp: int | None = None
    ) -> Any:
        """POST a signed body."""
        signed = signed_headers(self.secret, body, timestamp=timestamp)
        return await self.client.post(
            "/slack/events", content=body, headers={"Content-Type": content_type, **signed, **(headers or {})}
        )

    async def event(self, event: dict[str, Any], *, event_id: str, retry_num: int | None = None) -> Any:
        """An Events API ``event_callback`` (``retry_num`` adds Slack's ``X-Slack-Retry-Num``)."""
        envelope = {
            "token": "legacy", "team_id": self.team_id, "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()), "event": event,
        }  # fmt: skip
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return await self.post(json.dumps(envelope).encode(), "application/json", headers=headers)

    async def command(self, text: str, *, user: str, channel: str = "C_CMD") -> Any:
        """A ``/cx`` slash command; its ``response_url`` points at the fake."""
        from urllib.parse import urlencode

        form = {
            "token": "legacy", "team_id": self.team_id, "channel_id": channel, "user_id": user, "command": "/cx",
            "text": text, "response_url": self.fake.response_url(f"cmd{next(self._n)}"), "trigger_id": "t.1",
        }  # fmt: skip
        return await self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    async def click(
        self, action_id: str, value: str, *, user: str, channel: str, ts: str, message: dict[str, Any] | None = None
    ) -> Any:
        """A ``block_actions`` button click on message ``ts``."""
        from urllib.parse import urlencode

        payload = {
            "type": "block_actions", "team": {"id": self.team_id}, "user": {"id": user}, "api_app_id": "A1",
            "token": "legacy", "trigger_id": "t.2", "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel, "message_ts": ts},
            "message": message or {"ts": ts, "text": "", "blocks": []},
            "response_url": self.fake.response_url(f"act{next(self._n)}"),
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": str(time.time())}],
        }  # fmt: skip
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")
