"""The report as one self-contained, styled HTML page that a manager can forward (no external assets).

Charts come in as PNG bytes and are inlined as ``data:`` URIs; the style sheet is inline; every text is escaped.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence

from automations.reports.markdown import sections
from automations.reports.narrative import Report
from automations.reports.wording import duration, pct

__all__ = ["STYLE", "render_html", "render_page"]

STYLE = """
:root { --ink:#1a202c; --muted:#4a5568; --line:#e2e8f0; --brand:#2b6cb0; --good:#2f855a; --bad:#c53030; }
* { box-sizing: border-box; }
body { margin: 0; background: #f7fafc; color: var(--ink); font: 15px/1.5 -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 32px 24px 48px; }
header.report { border-bottom: 3px solid var(--brand); margin-bottom: 20px; }
h1 { font-size: 26px; margin: 0 0 4px; }
.period { color: var(--muted); margin: 0 0 14px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; margin: 16px 0; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { font-size: 24px; font-weight: 600; }
.kpi .note { color: var(--muted); font-size: 12px; }
ul { padding-left: 20px; margin: 6px 0; } li { margin: 3px 0; }
.headlines { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 18px 12px 34px; }
figure { margin: 16px 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; text-align: center; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 6px 10px; text-align: left; }
th { background: #edf2f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.up { color: var(--good); } .down { color: var(--bad); } .muted { color: var(--muted); }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; letter-spacing: 1px; color: var(--brand); }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print { body { background: #fff; } .kpi, figure, .headlines { break-inside: avoid; } }
"""


def _inline(text: str) -> str:
    """Escape ``text`` and turn the narrative's ``*bold*`` into ``<strong>`` and ```code``` into ``<code>``."""
    bold = re.sub(r"\*([^*]+)\*", r"<strong>\1</strong>", html.escape(text))
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", bold)


def _kpis(report: Report) -> str:
    m = report.current
    tiles = [
        ("Contacts", f"{m.contacts:,}", f"previous {report.previous.contacts:,}"),
        ("Deflection", pct(m.deflection_rate), f"{m.overall.settled:,} settled answers"),
        ("Automation", pct(m.automation_rate), "resolved by the bot alone"),
        ("CSAT", "n/a" if m.csat.mean is None else f"{m.csat.mean:.2f}", f"{m.csat.responses:,} responses"),
        ("SLA adherence", pct(m.sla_adherence), "first response and resolution"),
        ("First response", duration(m.first_response_time.median_s), "median, hand-offs"),
    ]
    cells = [
        f"<div class='kpi'><div class='label'>{html.escape(label)}</div><div class='value'>{html.escape(value)}</div>"
        f"<div class='note'>{html.escape(note)}</div></div>"
        for label, value, note in tiles
    ]
    return "<section class='kpis'>" + "".join(cells) + "</section>"


def render_html(report: Report, images: Sequence[tuple[str, bytes]] = (), *, extra: Sequence[str] = ()) -> str:
    """The report as a self-contained, styled HTML page.

    ``images`` are ``(caption, png)`` pairs inlined as base64 ``data:`` URIs; ``extra`` are trusted HTML fragments
    appended before the footer (already escaped by their renderer).
    """
    esc = html.escape
    parts = [
        "<!doctype html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Support report {esc(report.period.label)}</title><style>{STYLE}</style></head><body><main>",
        "<header class='report'><h1>Support report</h1>",
        f"<p class='period'>{esc(report.period.describe())}</p></header>",
        _kpis(report),
        "<ul class='headlines'>",
        *[f"<li>{_inline(line)}</li>" for line in report.headlines()],
        "</ul>",
    ]
    for caption, png in images:
        data = base64.b64encode(png).decode()
        parts.append(f"<figure><img alt='{esc(caption)}' src='data:image/png;base64,{data}'>")
        parts.append(f"<figcaption>{esc(caption)}</figcaption></figure>")
    for title, lines in sections(report):
        items = [f"<li>{_inline(line)}</li>" for line in lines] or ["<li class='muted'>nothing to report</li>"]
        parts += [f"<h2>{esc(title)}</h2><ul>", *items, "</ul>"]
    parts.extend(extra)
    parts.append(
        f"<footer>Generated {esc(report.current.computed_at.strftime('%Y-%m-%d %H:%M'))} UTC by Support Autopilot. "
        "Changes are stated only when significant at 95 % (Benjamini-Hochberg across all comparisons); rates on "
        "small samples carry their 95 % Wilson interval.</footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


def render_page(title: str, subtitle: str, markdown: str) -> str:
    """A styled, self-contained page from simple Markdown (``#``/``##`` headings, ``-`` bullets, paragraphs)."""
    esc = html.escape
    parts = [
        "<!doctype html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><main>",
        f"<header class='report'><h1>{esc(title)}</h1><p class='period'>{esc(subtitle)}</p></header>",
    ]
    open_list = False
    for line in markdown.splitlines():
        if line.startswith("- "):
            if not open_list:
                parts.append("<ul>")
                open_list = True
            parts.append(f"<li>{_inline(line[2:])}</li>")
            continue
        if open_list:
            parts.append("</ul>")
            open_list = False
        if line.startswith("## "):
            parts.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.strip() and not line.startswith("# "):
            parts.append(f"<p>{_inline(line)}</p>")
    if open_list:
        parts.append("</ul>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
