"""Fakes that the benchmarks and the tests both drive (``bench/`` never imports ``tests/``): a local HTTP fake of
Intercom speaking its real wire format, builders of signed Intercom webhook notifications, and ``free_port``.

Import what you need from its module, e.g. ``from bench.fakes.intercom_server import FakeIntercom``.
"""
