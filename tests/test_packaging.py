"""The wheel carries everything the product reads at run time, and an installed (non-editable) copy finds it.

The wheel is built from a copy of the packaged folders (so no ``build/`` is left in the checkout), with
``pip wheel --no-deps --no-build-isolation`` (offline: the virtualenv's setuptools builds it). The installed copy is the
wheel unpacked ahead of the checkout on ``sys.path``, run from a folder outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _shipped(folder: str, pattern: str) -> set[str]:
    """Repository files under ``folder`` matching ``pattern``, as wheel paths."""
    return {p.relative_to(REPO).as_posix() for p in (REPO / folder).glob(pattern) if p.is_file()}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "reports")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]:
        shutil.copytree(REPO / package.rstrip("*"), source / package.rstrip("*"), ignore=junk)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source), "-w", str(dist)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [built] = dist.glob("support_autopilot-*.whl")
    return built


@pytest.fixture(scope="module")
def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_carries_what_the_product_reads(names: set[str]) -> None:
    expected = {
        "prompts/customer_answer.yaml": "prompt templates",
        "prompts/agent_answer.yaml": "prompt templates",
        "prompts/handoff_summary.yaml": "prompt templates",
        "automations/data/taxonomy.yaml": "taxonomy",
        "automations/data/safety.yaml": "safety rules",
        "automations/data/okrs.yaml": "OKR targets",
        "automations/data/benchmarks.yaml": "industry benchmarks",
        "automations/data/model/model.json": "default model",
        "automations/data/model/head.npz": "default model",
        "automations/data/grounding/policy.json": "grounding policy",
        "bot/data/demo_stream.jsonl": "demo stream",
        "bot/data/demo_team.yaml": "demo team",
        "automations/data/coaching.yaml": "coaching rules",
        "bot/static/playground.html": "playground",
        "store/migrations/env.py": "migrations",
    }
    missing = {path: what for path, what in expected.items() if path not in names}
    assert not missing, missing
    every = (
        _shipped("prompts", "*.yaml") | _shipped("automations/data", "**/*.*") | _shipped("knowledge/content", "*/*.md")
        | _shipped("store/migrations/versions", "*.py") | _shipped("bot/static", "*")
    )  # fmt: skip
    assert every - names == set()
    assert not [n for n in names if n.startswith(("tests/", "bench/"))]


def test_the_eval_commands_are_an_entry_point(names: set[str], wheel: Path) -> None:
    [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(entry_points).decode()
    assert "[autopilot.commands]\neval = evals.cli:app" in text
    assert "[console_scripts]\nautopilot = bot.cli:main" in text


def test_an_installed_copy_reads_its_own_files(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = """
import json
from automations.classifier import LinearHead
from automations.llm.prompts import DEFAULT_PROMPTS, load_prompt
from automations.safety import DEFAULT_RULES, load_safety_rules
from automations.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from bot.cli import app
from bot.interactive import DEFAULT_STREAM
from bot.history import EXAMPLES, load_texts
from bot.llm import DEFAULT_POLICY, load_policy
from bot.settings import DEFAULT_KB, DEFAULT_MODEL

prompts = [load_prompt(name).label for name in ("customer_answer", "agent_answer", "handoff_summary")]
load_taxonomy(), load_safety_rules(), load_policy(), load_texts()
paths = [DEFAULT_PROMPTS, DEFAULT_RULES, DEFAULT_TAXONOMY, DEFAULT_STREAM, EXAMPLES, DEFAULT_POLICY, DEFAULT_KB,
         DEFAULT_MODEL]
print(json.dumps({"labels": len(LinearHead.load(DEFAULT_MODEL).labels), "prompts": prompts,
                  "paths": [str(p) for p in paths], "commands": sorted(g.name for g in app.registered_groups)}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MODEL_DIR", "TAXONOMY_PATH", "KB_PATH")}
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env={**env, "PYTHONPATH": str(site)}, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["labels"] >= 77 and len(found["prompts"]) == 3
    assert all(Path(p).is_relative_to(site) for p in found["paths"]), found["paths"]
    assert "eval" in found["commands"]


@pytest.mark.llm_server
def test_an_installed_copy_ingests_and_triages(wheel: Path, tmp_path: Path, llm_server) -> None:  # type: ignore[no-untyped-def]
    """``autopilot ingest`` and ``autopilot triage`` from the unpacked wheel, run outside the repository, then the same
    triage with the local OpenAI-compatible server configured (LLM answers and hand-off gists)."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    (work / "in.jsonl").write_text(
        json.dumps({"id": "q1", "text": "How long does a card take to arrive?"})
        + "\n"
        + json.dumps({"id": "q2", "text": "Someone took money from my account, I did not make these payments"})
        + "\n",
        encoding="utf-8",
    )
    keep = ("PYTHONPATH", "MODEL_DIR", "TAXONOMY_PATH", "KB_PATH", "DATABASE_URL", "CHROMA_PATH", "LLM_MODEL")
    env = {k: v for k, v in os.environ.items() if k not in keep and not k.startswith("LLM_")}
    env.update({"PYTHONPATH": str(site), "AUTOPILOT_DATA_DIR": str(work / "var"), "HF_HUB_OFFLINE": "1"})
    cli = [sys.executable, "-c", "from bot.cli import main; main()"]

    def run(*args: str, extra: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            [*cli, *args], cwd=work, env={**env, **(extra or {})}, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    run("ingest")
    run("triage", "--input", "in.jsonl", "--output", "out.jsonl")
    plain = [json.loads(line) for line in (work / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["id"] for d in plain] == ["q1", "q2"]
    assert plain[1]["action"] == "handoff" and plain[1]["tier"] == "fraud"
    llm = {"LLM_BASE_URL": llm_server.base_url, "LLM_MODEL": llm_server.model, "LLM_TIMEOUT_S": "60"}
    run("triage", "--input", "in.jsonl", "--output", "llm.jsonl", "--fresh", extra=llm)
    decided = [json.loads(line) for line in (work / "llm.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d["id"] for d in decided] == ["q1", "q2"] and decided[1]["action"] == "handoff"
    assert decided[0]["action"] in ("answer", "handoff")
