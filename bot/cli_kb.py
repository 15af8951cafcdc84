"""``autopilot kb``: knowledge-base maintenance commands (Intercom Help Center sync)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from automations.configfile import ConfigError
from automations.delivery import PermanentFailure, RetryLater
from bot.settings import Settings

__all__ = ["register"]

console = Console()
err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add the ``kb`` sub-command group to ``app``."""
    kb = typer.Typer(help="Knowledge-base maintenance.", no_args_is_help=True)
    kb.command("sync-intercom")(sync_intercom)
    app.add_typer(kb, name="kb")


def sync_intercom(
    folder: Annotated[
        Path | None, typer.Option(help="Folder for the imported articles [default: <data dir>/kb/intercom].")
    ] = None,
) -> None:
    """Import the published Intercom Help Center articles as public KB articles (only new/changed ones embedded)."""
    from bot.composition import make_embedder, open_index
    from bot.intercom.helpcenter import help_center_folder, sync_help_center

    settings = Settings()
    target = folder or help_center_folder(settings)

    async def go() -> None:
        from bot.composition import build_categorizer, load_config

        embedder = make_embedder(settings)
        index = open_index(settings, embedder)
        categorize = build_categorizer(load_config(settings), embedder)
        report = await sync_help_center(settings, index, folder=target, categorize=categorize)
        ing = report.ingest
        console.print(
            f"{report.fetched} published articles: written {len(report.written)}, unchanged {len(report.unchanged)}, "
            f"removed {len(report.removed)}, skipped {len(report.skipped)} (no URL or no text) → {target}\n"
            f"index: added {len(ing.added)}, updated {len(ing.updated)}, unchanged {len(ing.unchanged)}, "
            f"deleted {len(ing.deleted)}; {ing.sections} sections embedded"
        )

    try:
        asyncio.run(go())
    except ValueError as exc:  # missing INTERCOM_ACCESS_TOKEN and the like
        err.print(f"[bold red]configuration error:[/] {exc}")
        raise typer.Exit(2) from exc
    except ConfigError as exc:
        err.print(f"[bold red]article error:[/] {exc}")
        raise typer.Exit(2) from exc
    except (RetryLater, PermanentFailure) as exc:
        err.print(f"[bold red]Intercom error:[/] {exc}; nothing was changed")
        raise typer.Exit(1) from exc
