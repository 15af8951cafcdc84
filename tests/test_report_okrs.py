"""OKR targets and industry benchmarks: validated files (file:line errors), progress, the retrospective, the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from automations.configfile import ConfigError
from automations.reports.benchmarks import DEFAULT_BENCHMARKS, compare_benchmarks, load_benchmarks
from automations.reports.metrics import compute_metrics
from automations.reports.okrs import DEFAULT_OKRS, Targets, half_label, half_period, load_okrs, okr_progress
from automations.reports.retro import build_retro, render_retro
from store import SqlEventStore, SqlReportSource
from tests.test_config_errors import broken, expect, line_of
from tests.test_metrics import NOW, PERIOD, build_history

OKRS_TEXT = DEFAULT_OKRS.read_text(encoding="utf-8")
BENCHMARKS_TEXT = DEFAULT_BENCHMARKS.read_text(encoding="utf-8")


def test_the_shipped_files_load_and_every_benchmark_has_a_source_and_year() -> None:
    okrs = load_okrs()
    assert okrs.for_half("H2-2026") is not None and okrs.for_half("H2-1999") is None
    data = load_benchmarks()
    assert data.benchmarks and all(b.source and 1990 <= b.year <= 2100 and b.url for b in data.benchmarks)


@pytest.mark.parametrize(
    ("old", "new", "needle", "fragments"),
    [
        ("      deflection_rate: 0.78\n", "      deflection_rate: 1.78\n", "deflection_rate: 1.78",
         ("halves.1.targets.deflection_rate", "less than or equal to 1")),
        ("      csat: 4.1\n", "      csat: 4.1\n      nps: 40\n", "nps: 40", ("halves.1.targets.nps", "Extra inputs")),
        ("  - half: H1-2027\n", "  - half: H2-2026\n", "half: H2-2026\n    objective: Fewer",
         ("halves.2.half", "H2-2026 appears twice")),
        ("  - half: H1-2027\n", "  - half: H3-2027\n", "half: H3-2027", ("halves.2.half", "should match pattern")),
        ("      first_response_median: 45m\n", "      first_response_median: soon\n", "first_response_median: soon",
         ("halves.1.targets.first_response_median", "must look like")),
    ],
)  # fmt: skip
def test_okr_file_errors_name_the_file_and_line(
    tmp_path: Path, old: str, new: str, needle: str, fragments: tuple[str, ...]
) -> None:
    path, text = broken(tmp_path, OKRS_TEXT, old, new, "okrs.yaml")
    with pytest.raises(ConfigError) as info:
        load_okrs(path)
    expect(info.value, path, line_of(text, needle), *fragments)


def test_benchmark_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, BENCHMARKS_TEXT, "    channel: email\n", "    channel: carrier pigeon\n",
                        "benchmarks.yaml")  # fmt: skip
    with pytest.raises(ConfigError) as info:
        load_benchmarks(path)
    expect(info.value, path, line_of(text, "carrier pigeon"), "benchmarks.0.channel", "none of the channels")
    path, text = broken(tmp_path, BENCHMARKS_TEXT, "    year: 2019\n", "", "benchmarks.yaml")
    with pytest.raises(ConfigError) as info:
        load_benchmarks(path)
    assert "benchmarks.4.year: Field required" in str(info.value)


def test_half_years_in_a_time_zone() -> None:
    assert half_label(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "H1-2026"
    assert half_label(datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "Europe/Paris") == "H2-2026"
    full = half_period("h2-2026", "Europe/Paris")
    assert (full.start, full.end) == (datetime(2026, 6, 30, 22, tzinfo=UTC), datetime(2026, 12, 31, 23, tzinfo=UTC))
    assert half_period("H1-2026", now=datetime(2026, 3, 1, tzinfo=UTC)).end == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="has not started"):
        half_period("H2-2030", now=datetime(2026, 3, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="unknown half-year"):
        half_period("Q3-2026")


async def test_progress_and_the_retrospective(store: SqlEventStore) -> None:
    await build_history(store)
    reports = SqlReportSource(store.engine)
    m = await compute_metrics(reports, PERIOD, now=NOW)
    targets = Targets(deflection_rate=0.6, first_response_median=timedelta(hours=1), csat=2.5, qa_score=0.8,
                      sla_adherence=0.4, repeat_contact_rate=0.05)  # fmt: skip
    progress = {p.metric: p for p in okr_progress(m, targets)}
    assert progress["deflection_rate"].status == "missed" and not progress["deflection_rate"].certain  # 2 of 4
    assert progress["first_response_median"].status == "met"  # 50 min
    assert progress["csat"].status == "met" and progress["qa_score"].status == "no_data"
    assert progress["sla_adherence"].status == "met" and progress["repeat_contact_rate"].status == "met"
    deflection = progress["deflection_rate"].text()
    assert deflection == "Deflection 50.0% against at least 60.0%: missed (within the margin of error)"

    okrs = load_okrs()
    assert okrs.for_half("H1-2026") is not None
    retro = await build_retro(reports, okrs.for_half("H1-2026"), now=NOW)  # type: ignore[arg-type]
    assert not retro.complete and retro.period.end == NOW and retro.metrics.contacts == 10  # x1 too
    items = {i.progress.metric: i for i in retro.items}
    deflection = items["deflection_rate"]  # 60% against 72%: exchange_rate (0 of 2) held it back most
    assert deflection.progress.status == "missed" and deflection.drivers[0].name == "exchange_rate"
    sla = items["sla_adherence"]  # 50% against 90%: the t1 tier (1 of 4 deadlines met) first
    assert sla.progress.status == "missed" and sla.drivers[0].name == "t1"
    text = render_retro(retro)
    assert text.startswith("# Retrospective H1-2026") and "- Missed: Deflection" in text
    assert "Held it back: *exchange_rate*, deflection 0.0% of 2 settled answers" in text
    assert retro.to_json()["missed"][:1] == ["deflection_rate"]


async def test_benchmarks_beside_our_figures(store: SqlEventStore) -> None:
    await build_history(store)
    m = await compute_metrics(SqlReportSource(store.engine), PERIOD, now=NOW)
    found = {(c.benchmark.metric, c.benchmark.channel): c for c in compare_benchmarks(m, load_benchmarks())}
    email = found[("first_response_mean", "email")]  # h1, h2, h4 are email hand-offs: 600, 7200, 3000 s
    assert email.ours == pytest.approx(3600, abs=1) and email.base == 3 and email.scope == "email"
    chat = found[("first_response_mean", "live chat")]
    assert chat.ours is None and "no data on intercom" in chat.text()
    assert "SuperOffice" in email.text() and "2018" in email.text()


@pytest.fixture
async def env(settings, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from bot.history import generate_history

    await generate_history(settings, days=14, per_day=150, seed=9)
    half = half_label(datetime.now(UTC))
    okrs = tmp_path / "okrs.yaml"
    okrs.write_text(f"version: 1\nhalves:\n  - half: {half}\n    targets: {{deflection_rate: 0.99, csat: 1.5}}\n")
    return {"AUTOPILOT_DATA_DIR": str(settings.data_dir), "CHROMA_PATH": str(settings.chroma_dir),
            "OKRS_PATH": str(okrs), "HALF": half}  # fmt: skip


def test_report_retro_and_okrs_on_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    from bot.cli import app

    half = env["HALF"]
    result = CliRunner().invoke(app, ["report", "--retro", half.lower()], env=env)
    assert result.exit_code == 0, result.output
    assert f"# Retrospective {half}" in result.stdout and "- Hit: CSAT" in result.stdout
    assert "- Missed: Deflection" in result.stdout and "Held it back: *" in result.stdout
    doc = json.loads(CliRunner().invoke(app, ["report", "--retro", half, "--format", "json"], env=env).stdout)
    assert doc["hit"] == ["csat"] and doc["missed"] == ["deflection_rate"]
    report = json.loads(CliRunner().invoke(app, ["report", "--format", "json"], env=env).stdout)
    assert report["okrs"]["half"] == half and len(report["okrs"]["progress"]) == 2
    assert report["benchmarks"] and all(b["source"] and b["year"] for b in report["benchmarks"])
    markdown = CliRunner().invoke(app, ["report"], env=env).stdout
    assert f"## OKRs: this period against the {half} targets" in markdown and "## Industry benchmarks" in markdown
    assert "No comparable published figure for our deflection rate" in markdown
    missing = CliRunner().invoke(app, ["report", "--retro", "H1-2001"], env=env)
    assert missing.exit_code == 2 and "no OKR targets for H1-2001" in missing.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nhalves:\n  - half: H1-2026\n    targets: {csat: 9}\n")
    broken_run = CliRunner().invoke(app, ["report"], env={**env, "OKRS_PATH": str(bad)})
    assert broken_run.exit_code == 2
    assert f"{bad}:4: halves.0.targets.csat" in " ".join(broken_run.output.split())
