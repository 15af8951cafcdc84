"""Start-up checks of the Intercom settings, importable without the adapter (a web process runs them before it opens
its port, and must not pay for the handler's imports to do so)."""

from __future__ import annotations

from bot.settings import SettingError, Settings

__all__ = ["check_settings"]


def check_settings(settings: Settings) -> None:
    """Refuse a half-configured Intercom at start-up (:class:`SettingError` names the missing setting)."""
    if settings.intercom_access_token and not settings.intercom_bot_admin_id:
        raise SettingError(
            "INTERCOM_BOT_ADMIN_ID", "is not set, but INTERCOM_ACCESS_TOKEN is: the bot needs the admin it replies as"
        )
