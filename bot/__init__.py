"""Adapters (CLI; later Slack, Intercom, HTTP) and the single composition root."""
