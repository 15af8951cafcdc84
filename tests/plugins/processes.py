"""Helpers shared by the plugins and tests that run real local servers: free ports, stopping, skip-or-fail."""

from __future__ import annotations

import os
import subprocess
from typing import NoReturn

import pytest

from bench.fakes.net import free_port

__all__ = ["free_port", "stop_process", "unavailable"]


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
