"""Pytest plugin: a real ``chroma run`` server for the session.

The ``chroma`` executable is the one installed next to the running interpreter (the project's virtualenv). It
listens on 127.0.0.1 on a free port with its data in a temporary folder, and is terminated at the end of the session.
Without the executable the Chroma-server tests are skipped, except when ``CI=true``: CI must never skip them silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.plugins.processes import free_port, stop_process, unavailable

__all__ = ["chroma_executable", "chroma_server"]

STARTUP_TIMEOUT_S = 60.0


def chroma_executable() -> Path | None:
    """The ``chroma`` console script of the running interpreter's environment, if installed."""
    candidate = Path(sys.executable).parent / ("chroma.exe" if os.name == "nt" else "chroma")
    return candidate if candidate.is_file() else None


def _missing(reason: str) -> NoReturn:
    unavailable(f"`chroma run` is required in CI: {reason}", f"Chroma server not available: {reason}")


def _heartbeat(host: str, port: int) -> bool:
    import chromadb
    from chromadb.config import Settings

    try:
        chromadb.HttpClient(host=host, port=port, settings=Settings(anonymized_telemetry=False)).heartbeat()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[tuple[str, int]]:
    """Start ``chroma run`` on a free local port; yield ``(host, port)``; terminate it at the end."""
    executable = chroma_executable()
    if executable is None:
        _missing(f"no `chroma` executable next to {sys.executable} (pip install chromadb)")
    host = "127.0.0.1"
    base = Path(tempfile.mkdtemp(prefix="autopilot-chroma-"))
    log_path = base / "server.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("wb") as log:
            for _attempt in range(3):  # another process may take the port between probing and binding
                port = free_port()
                command = [str(executable), "run", "--path", str(base / "data"), "--host", host, "--port", str(port)]
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
                deadline = time.monotonic() + STARTUP_TIMEOUT_S
                while process.poll() is None and time.monotonic() < deadline:
                    if _heartbeat(host, port):
                        break
                    time.sleep(0.25)
                else:
                    stop_process(process)
                    continue
                break
            else:
                output = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(f"`chroma run` did not answer a heartbeat within {STARTUP_TIMEOUT_S:.0f}s:\n{output}")
        yield host, port
    finally:
        if process is not None:
            stop_process(process)
        shutil.rmtree(base, ignore_errors=True)
