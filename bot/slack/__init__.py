"""Slack adapter: a Bolt AsyncApp for agents, tier channels and managers' /cx commands."""
