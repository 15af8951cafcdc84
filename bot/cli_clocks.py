"""``autopilot clocks``: the regulatory clocks of the configured database, and recording that one was met.

Closing a conversation meets its clocks; an internal one (the SAR decision) is met only here, by the person who made
the decision, and every such step is kept in the audit trail.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bot.settings import Settings

__all__ = ["app"]

app = typer.Typer(help="Regulatory clocks: list the open ones, record one met.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def _warn_at(settings: Settings) -> dict[str, tuple[float, ...]]:
    from automations.obligations import load_obligations

    return {rule.id: rule.warn_at for rule in load_obligations(settings.obligations_path).rules if rule.warn_at}


@app.command("list")
def list_clocks(as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False) -> None:
    """Open clocks by due date, the ones at risk (overdue, or past the rule's last warning) first."""
    from automations.reports.clocks import at_risk_first
    from bot.composition import open_reporting

    settings = Settings()

    async def go() -> list[tuple[Any, bool]]:
        async with open_reporting(settings) as (_reports, clocks):
            now = datetime.now(UTC)
            return at_risk_first(await clocks.open(now), now, _warn_at(settings))

    rows = asyncio.run(go())
    if as_json:
        doc = [
            {"contact_id": c.contact_id, "rule": c.rule, "due": c.due.isoformat(), "state": str(c.state),
             "tier": c.tier, "internal": c.internal, "at_risk": risky, "basis": c.basis}
            for c, risky in rows
        ]  # fmt: skip
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    table = Table("due", "rule", "contact", "tier", "state", "at risk")
    for clock, risky in rows:
        rule = f"{clock.rule} (internal)" if clock.internal else clock.rule
        table.add_row(clock.due.isoformat(timespec="minutes"), rule, clock.contact_id, clock.tier, str(clock.state),
                      "yes" if risky else "")  # fmt: skip
    console.print(table if rows else "No open regulatory clock.")


@app.command("met")
def met(
    contact_id: Annotated[str, typer.Argument(help="The contact whose clock it is.")],
    rule: Annotated[str, typer.Argument(help="The rule id, e.g. sar_decision.")],
    by: Annotated[str, typer.Option("--by", help="Who met it (kept in the audit trail).")],
    at: Annotated[str | None, typer.Option(help="When, ISO 8601 with its offset (default: now).")] = None,
) -> None:
    """Record that a clock's obligation was met (late: recorded as missed); audited."""
    from bot.composition import open_reporting

    try:
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] --at: {exc}")
        raise typer.Exit(2) from exc
    if when.tzinfo is None:
        err.print("[bold red]error:[/] --at needs an offset, e.g. 2026-03-16T17:00:00-05:00")
        raise typer.Exit(2)
    settings = Settings()

    async def go() -> Any:
        async with open_reporting(settings) as (_reports, clocks):
            return await clocks.met(contact_id, rule, at=when, actor=by)

    clock = asyncio.run(go())
    if clock is None:
        err.print(f"[bold red]error:[/] no running {rule} clock for {contact_id}")
        raise typer.Exit(1)
    console.print(f"{rule} for {contact_id}: {clock.state} at {when.isoformat(timespec='minutes')} (due "
                  f"{clock.due.isoformat(timespec='minutes')})")  # fmt: skip
