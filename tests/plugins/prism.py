"""Pytest plugin: Stoplight Prism serving Intercom's OpenAPI 2.14 description, to check every request the SDK sends.

``prism mock --errors`` answers a request that violates the contract with an error (422/400/401) instead of a
mocked response; ``prism proxy --errors`` forwards valid requests to an upstream (our fake Intercom) and also checks
the upstream's responses. Prism is installed outside the repository by ``ci/install-prism.sh`` (into
``~/.cache/support-autopilot/prism``; ``PRISM_BIN`` overrides). Without it the contract tests are skipped, except when
``CI=true``: CI must never skip them silently. The spec is read from ``../shared/specs`` at run time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.plugins.processes import free_port, stop_process, unavailable

__all__ = ["INTERCOM_SPEC", "prism_executable", "prism_mock", "run_prism"]

INTERCOM_SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "intercom-api-2.14.yaml"
STARTUP_TIMEOUT_S = 120.0


def prism_executable() -> Path | None:
    """``$PRISM_BIN``, else the copy ``ci/install-prism.sh`` installs, else ``prism`` on ``PATH``."""
    if os.environ.get("PRISM_BIN"):
        chosen = Path(os.environ["PRISM_BIN"])
        return chosen if chosen.is_file() else None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    installed = cache / "support-autopilot" / "prism" / "node_modules" / ".bin" / "prism"
    if installed.is_file():
        return installed
    found = shutil.which("prism")
    return Path(found) if found else None


def _missing(reason: str) -> NoReturn:
    unavailable(f"Prism is required in CI: {reason}", f"Prism not available: {reason}")


@contextlib.contextmanager
def run_prism(mode: str = "mock", upstream: str | None = None) -> Iterator[str]:
    """Run ``prism mock`` (or ``prism proxy`` in front of ``upstream``) with ``--errors`` on a free port.

    Yields its base URL; the process is terminated on exit. Skips (fails under ``CI=true``) when Prism or the spec
    is missing; a Prism that does not come up is always a failure, with its log.
    """
    executable = prism_executable()
    if executable is None:
        _missing("run ci/install-prism.sh (npm install @stoplight/prism-cli into ~/.cache/support-autopilot/prism)")
    if not INTERCOM_SPEC.is_file():
        _missing(f"no Intercom OpenAPI description at {INTERCOM_SPEC}")
    if mode not in ("mock", "proxy") or (mode == "proxy") != (upstream is not None):
        raise ValueError("mode is 'mock', or 'proxy' with an upstream URL")
    port = free_port()
    args = [str(executable), mode, str(INTERCOM_SPEC), *([upstream] if upstream else [])]
    args += ["--errors", "--host", "127.0.0.1", "--port", str(port)]
    log_path = Path(tempfile.mkdtemp(prefix="autopilot-prism-")) / "prism.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while b"Prism is listening" not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"prism {mode} did not start (exit {process.poll()}):\n{output}", pytrace=False)
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)
        shutil.rmtree(log_path.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def prism_mock() -> Iterator[str]:
    """Base URL of ``prism mock --errors`` on the Intercom 2.14 description, for the whole session."""
    with run_prism("mock") as url:
        yield url
