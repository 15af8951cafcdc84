"""The local playground: a small web page at ``/`` where a person chats as a customer and sees each decision.

It needs no Intercom or Slack credentials. Every message becomes a customer-channel :class:`Contact` (source
``playground``, customer ``playground:<session>``, a fresh id) that the real pipeline decides and records before the
page gets its answer, so follow-ups ("thanks, that worked", "that didn't help") behave as they do on Intercom, and
internal articles never reach the page. The page itself is static (``bot/static/``): it renders the reply's blocks
(:func:`reply_view`) as DOM nodes and every text with ``textContent``, under a Content-Security-Policy that allows no
inline script.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from automations.models import Action, Channel, Contact, Decision
from automations.nondisclosure import agents_only_removed
from automations.replytext import Paragraph, Span, parse
from automations.resources import packaged
from bot.context import Context, Parts

__all__ = ["PlaygroundMessage", "decision_view", "playground_parts", "reply_view"]

log = logging.getLogger("autopilot.playground")

STATIC = packaged("bot", "static")
SOURCE = "playground"
MAX_TEXT = 4000
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class PlaygroundMessage(BaseModel):
    """One message typed in the playground: the browser's session id and the customer's text."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    session: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
    text: str = Field(min_length=1, max_length=MAX_TEXT, pattern=r"\S")


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _spans(spans: tuple[Span, ...]) -> list[dict[str, object]]:
    return [{"text": s.text, "strong": s.strong, "href": s.href} for s in spans]


def reply_view(text: str) -> list[dict[str, object]]:
    """A reply text (:mod:`automations.replytext`) as the blocks the page renders with DOM nodes: paragraphs (lines
    of spans) and lists (items of spans), each span ``{text, strong, href}``. No HTML: the page sets every text with
    ``textContent`` and links only ``http(s)`` targets."""
    out: list[dict[str, object]] = []
    for block in parse(text):
        if isinstance(block, Paragraph):
            out.append({"type": "paragraph", "lines": [_spans(line) for line in block.lines]})
        else:
            items = [_spans(item.spans) for item in block.items]
            out.append({"type": "list", "ordered": block.ordered, "start": block.start, "items": items})
    return out


def decision_view(context: Context, decision: Decision) -> dict[str, object]:
    """What the page shows of a decision: the verdict, the cited public article, the reply or the hand-off."""
    taxonomy = context.core.taxonomy
    tier_name = taxonomy.tier(decision.tier).name if decision.tier in {t.id for t in taxonomy.tiers} else decision.tier
    article = None
    if decision.article_id is not None:
        titles = {p.article_id: p.title for p in decision.passages}
        article = {
            "id": decision.article_id,
            "title": titles.get(decision.article_id, decision.article_id),
            "url": decision.article_url,
        }
    handoff = None
    if decision.action is Action.HANDOFF and decision.handoff is not None:
        handoff = {
            "tier": decision.handoff.tier,
            "tier_name": tier_name,
            # the page is the customer's side: no internal clock, no agents' reminder
            "summary": agents_only_removed(decision.handoff.summary),
            "first_response_due": _iso(decision.handoff.first_response_due),
            "resolution_due": _iso(decision.handoff.resolution_due),
            "deadlines": [
                {"id": d.id, "due": _iso(d.due), "basis": d.basis} for d in decision.deadlines if not d.internal
            ],
        }
    return {
        "contact_id": decision.contact_id,
        "stored_text": decision.text,
        "category": decision.category,
        "group": decision.group,
        "confidence": round(decision.confidence, 4),
        "action": str(decision.action),
        "tier": decision.tier,
        "tier_name": tier_name,
        "reason": decision.reason,
        "reply": decision.reply if decision.action is Action.ANSWER else None,
        "reply_blocks": reply_view(decision.reply) if decision.action is Action.ANSWER and decision.reply else None,
        "article": article,
        "handoff": handoff,
        "decided_at": _iso(decision.decided_at),
    }


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def playground_parts(context: Context) -> Parts:
    """The playground's routes: the page at ``/``, its static assets, and ``POST /playground/messages``.

    Off when ``AUTOPILOT_PLAYGROUND`` says so; by default it is on only while Intercom is not configured, so a
    production deployment does not expose an unauthenticated page that creates contacts."""
    if not context.settings.playground_enabled:
        return Parts()

    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "playground.html", media_type="text/html", headers=SECURITY_HEADERS)

    async def message(request: Request) -> Response:
        try:
            body = PlaygroundMessage.model_validate_json(await request.body())
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in err["loc"]) or "body" for err in exc.errors()})
            return _error(400, "malformed message: expected JSON {session, text}", fields=fields)
        contact = Contact(
            id=f"{SOURCE}:{uuid.uuid4().hex}", text=body.text, channel=Channel.CUSTOMER,
            received_at=context.clock.now(), customer_id=f"{SOURCE}:{body.session}", source=SOURCE,
        )  # fmt: skip
        try:
            decision = await context.core.pipeline.handle(contact)  # recorded before it returns
            if decision.action is Action.HANDOFF:
                await context.outbox.enqueue(context.effects.handoff_actions(decision))
                context.wake()
        except Exception:
            log.exception("playground could not process %s", contact.id)
            return _error(503, "the message could not be processed; please try again")
        return JSONResponse(decision_view(context, decision), headers={"Cache-Control": "no-store"})

    return Parts(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/playground/messages", message, methods=["POST"]),
            Mount("/playground/static", app=StaticFiles(directory=STATIC), name="playground-static"),
        ]
    )
