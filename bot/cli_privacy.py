"""``autopilot privacy``: data-subject rights (export, erase) and a retention run on demand (issue 17)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from automations.privacy import Erasure, Purge
from bot.settings import Settings

__all__ = ["app"]

app = typer.Typer(help="Data-subject rights and retention (POPIA, GDPR, CCPA).", no_args_is_help=True)
err = Console(stderr=True)
Customer = Annotated[str, typer.Option("--customer", help="The customer id (as the channel knows them).")]
Actor = Annotated[str, typer.Option(help="Who asked, for the audit trail.")]


@app.command()
def export(
    customer: Customer,
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of stdout.")] = None,
    actor: Actor = "cli",
) -> None:
    """Write everything held about one customer as JSON: contacts, decisions, outcomes, feedback, agent events,
    clocks, QA, queue rows and audit events. Stops their privacy_request clock; audited."""
    from bot.composition.privacy import open_privacy

    async def go() -> dict[str, object]:
        async with open_privacy(Settings()) as privacy:
            return (await privacy.export(customer, actor=actor)).to_json()

    doc = asyncio.run(go())
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    records = doc["records"]
    count = sum(len(rows) for rows in records.values()) if isinstance(records, dict) else 0
    err.print(f"exported {count} records{f' to {out}' if out else ''}", soft_wrap=True)
    if doc["legal_hold"]:
        err.print(
            "[bold yellow]note:[/] some contacts are under a legal hold (listed under legal_hold): review them with"
            " Legal/Compliance before disclosure, nothing may tip off an AML subject",
            soft_wrap=True,
        )


@app.command()
def erase(
    customer: Customer,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    actor: Actor = "cli",
) -> None:
    """Irreversibly anonymise one customer everywhere (inbox and outbox included); reports keep their figures.
    Records under a legal hold are kept and listed. Stops their privacy_request clock; audited."""
    from bot.composition.privacy import open_privacy

    if not yes and not typer.confirm(f"Irreversibly erase customer {customer}?"):
        raise typer.Exit(1)

    async def go() -> Erasure:
        async with open_privacy(Settings()) as privacy:
            return await privacy.erase(customer, actor=actor)

    erasure = asyncio.run(go())
    doc = {"token": erasure.token, "rows": dict(sorted(erasure.rows.items())),
           "legal_hold": [h.contact_id for h in erasure.held]}  # fmt: skip
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    if erasure.held:
        err.print(f"{len(erasure.held)} contacts under a legal hold were kept", soft_wrap=True)


@app.command()
def retain() -> None:
    """Run the retention policy now (RETENTION_TEXT_DAYS, RETENTION_IDENTIFIERS_DAYS), as the scheduler does."""
    from bot.composition.privacy import open_privacy

    async def go() -> Purge:
        async with open_privacy(Settings()) as privacy:
            if not privacy.policy.active:
                err.print("retention keeps everything: set RETENTION_TEXT_DAYS or RETENTION_IDENTIFIERS_DAYS")
                raise typer.Exit(2)
            return await privacy.retain()

    purge = asyncio.run(go())
    doc = {"texts": purge.texts, "identifiers": purge.identifiers, "rows": dict(sorted(purge.rows.items())),
           "legal_hold": [h.contact_id for h in purge.held]}  # fmt: skip
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
