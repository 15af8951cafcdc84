"""Local HTTP fakes of external services (Slack here; Intercom in ``bench.fakes``, which the benchmarks share),
speaking their real wire formats; SDKs are never patched.

Import the fake you need from its module, e.g. ``from tests.fakes.slack_api import FakeSlackApi``.
"""
