"""Local HTTP fakes of external services (Intercom, Slack), speaking their real wire formats; SDKs are never patched.

Import the fake you need from its module, e.g. ``from tests.fakes.intercom_server import FakeIntercom``.
"""
