"""Intercom webhook signatures: ``X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body, keyed with the client
secret>``."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]

SIGNATURE_HEADER = "X-Hub-Signature"
_PREFIX = "sha1="


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature`` value Intercom sends for ``body``."""
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant-time comparison)."""
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode())
