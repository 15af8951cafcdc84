"""Support Autopilot's automation core: pure, with its ports injected."""
