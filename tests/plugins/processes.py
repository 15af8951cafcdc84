"""Helpers shared by the plugins and tests that run real local servers: free ports, stopping, skip-or-fail."""

from __future__ import annotations

import os
import socket
import subprocess
from typing import NoReturn

import pytest

__all__ = ["free_port", "stop_process", "unavailable"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``, killing it when it does not exit within 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def unavailable(required: str, skipped: str) -> NoReturn:
    """Skip the test with ``skipped``, except under ``CI=true``, where a missing service fails with ``required``:
    CI must never skip the real-service tests silently."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(required, pytrace=False)
    pytest.skip(skipped)
