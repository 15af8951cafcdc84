"""``deploy/kubernetes.yaml`` and ``deploy/Dockerfile`` keep matching the scale topology that
``tests/test_topology.py`` runs as real processes and the README documents.

No cluster or image build is possible here, so these are structural checks: the same commands, the same settings
(every variable a real setting), probes on the ports the processes serve, the Chroma server where the settings point,
grace periods longer than a worker's shutdown, and an image that contains every package of the wheel.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from automations.delivery import STOP_GRACE_S
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "deploy" / "kubernetes.yaml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
NOT_SETTINGS = {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "ANONYMIZED_TELEMETRY"}  # read by libraries, not Settings


def _docs() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def _container(name: str) -> dict[str, Any]:
    containers = _one("Deployment", name)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def _env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment: its shared ConfigMap and Secret, then its own entries."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(_one("ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            env.update(_one("Secret", source["secretRef"]["name"])["stringData"])
    env.update({e["name"]: e["value"] for e in container.get("env", [])})
    return env


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def _readme_processes() -> dict[str, dict[str, str]]:
    """The README's scale-mode commands: subcommand -> the environment set on its line."""
    block = REPO.joinpath("README.md").read_text().split("## Scale mode", 1)[1].split("```bash", 1)[1]
    found: dict[str, dict[str, str]] = {}
    for line in block.split("```", 1)[0].splitlines():
        words = shlex.split(line.split("#", 1)[0])
        if "autopilot" not in words:
            continue
        at = words.index("autopilot")
        found.setdefault(words[at + 1], dict(w.split("=", 1) for w in words[:at]))
    return found


@pytest.mark.parametrize("deployment", ["autopilot-web", "autopilot-worker", "autopilot-scheduler"])
def test_processes_run_the_readme_commands_with_the_same_settings(deployment: str) -> None:
    container = _container(deployment)
    command = container["args"][0]
    readme = _readme_processes()
    assert command in readme, f"{deployment} runs `autopilot {command}`, which the README's scale mode does not"
    env = _env(container)
    for name, value in readme[command].items():
        assert env.get(name) == value, f"{deployment}: {name}={env.get(name)!r}, README says {value!r}"
    assert env["DATABASE_URL"].startswith("postgresql://"), "scale mode runs on PostgreSQL"


def test_topology_is_the_tested_one() -> None:
    """Acknowledge-only web processes, workers with loops, exactly one scheduler (tests/test_topology.py)."""
    web, worker = _env(_container("autopilot-web")), _env(_container("autopilot-worker"))
    assert web["AUTOPILOT_WORKERS"] == "0"
    assert int(worker["AUTOPILOT_WORKERS"]) >= 1
    assert _one("Deployment", "autopilot-scheduler")["spec"]["replicas"] == 1
    assert _one("Deployment", "autopilot-web")["spec"]["replicas"] >= 2
    assert _one("Deployment", "autopilot-worker")["spec"]["replicas"] >= 2
    images = {_container(d)["image"] for d in ("autopilot-web", "autopilot-worker", "autopilot-scheduler")}
    assert len(images) == 1, images


def test_every_variable_is_a_setting() -> None:
    known = {field.alias for field in Settings.model_fields.values()} | NOT_SETTINGS
    for deployment in ("autopilot-web", "autopilot-worker", "autopilot-scheduler"):
        unknown = set(_env(_container(deployment))) - known
        assert not unknown, f"{deployment} sets variables no setting reads: {sorted(unknown)}"


def test_probes_reach_the_ports_the_processes_serve() -> None:
    web, worker = _container("autopilot-web"), _container("autopilot-worker")
    web_port, worker_port = int(_option(web["args"], "--port")), int(_option(worker["args"], "--port"))
    for probe in ("readinessProbe", "livenessProbe"):
        assert web[probe]["httpGet"] == {"path": "/healthz", "port": web_port}
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": worker_port}
    service = _one("Service", "autopilot-web")["spec"]["ports"][0]
    assert service["targetPort"] == web_port


def test_settings_point_at_the_chroma_server() -> None:
    env = _env(_container("autopilot-worker"))
    service = _one("Service", "chroma")
    chroma = _one("StatefulSet", "chroma")["spec"]["template"]["spec"]["containers"][0]
    assert env["CHROMA_HOST"] == service["metadata"]["name"]
    assert int(env["CHROMA_PORT"]) == service["spec"]["ports"][0]["port"]
    assert chroma["command"][:2] == ["chroma", "run"]
    assert int(_option(chroma["command"], "--port")) == service["spec"]["ports"][0]["targetPort"]
    assert chroma["image"].endswith(f":{version('chromadb')}"), "server and client at the same Chroma version"


def test_grace_periods_outlast_a_graceful_stop() -> None:
    for deployment in ("autopilot-worker", "autopilot-scheduler", "autopilot-web"):
        grace = _one("Deployment", deployment)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace > STOP_GRACE_S + 5, deployment  # a worker waits up to STOP_GRACE_S + 5 s for its service


def test_image_has_every_package_and_the_cpu_torch() -> None:
    dockerfile = DOCKERFILE.read_text()
    include = tomllib.loads(REPO.joinpath("pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for package in include["include"]:
        name = package.rstrip("*")
        assert re.search(rf"^COPY {name} {name}$", dockerfile, re.M), f"the image misses package {name}"
    pinned = re.search(r"torch==([\d.]+)", REPO.joinpath("Makefile").read_text())
    assert pinned is not None
    torch = dockerfile.index(f"torch=={pinned.group(1)}")
    assert torch < dockerfile.index("pip install ."), "torch (CPU build) is installed before the package"
    assert "download.pytorch.org/whl/cpu" in dockerfile
