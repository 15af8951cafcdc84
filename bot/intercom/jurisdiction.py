"""The jurisdiction of an Intercom customer, from what a conversation notification carries.

In order, the first that names a known country wins:

1. the conversation's custom attribute ``jurisdiction`` (``conversation.custom_attributes`` in the 2.14 spec: a
   workflow or a teammate can set it on the conversation);
2. the contact's custom attribute ``jurisdiction`` (``contact.custom_attributes``);
3. the contact's location: ``contact_location.country`` and ``.region`` (``United States``, ``California`` →
   ``US-CA``).

A conversation notification lists its contacts as ``contact_reference`` s (id and external id only); the contact's
custom attributes and location are read when the item carries them (the ``contact`` model's fields). Without any of
them the contact has no jurisdiction and the core applies ``DEFAULT_JURISDICTION``. Values are normalised by
:mod:`bot.jurisdictions`; only the ISO code is kept, never the place itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jurisdictions import jurisdiction, parse_jurisdiction

if TYPE_CHECKING:
    from bot.intercom.models import Conversation

__all__ = ["ATTRIBUTE", "jurisdiction_of"]

ATTRIBUTE = "jurisdiction"
"""The custom attribute (of the conversation or the contact) that states the customer's jurisdiction."""


def jurisdiction_of(conversation: Conversation) -> str | None:
    """The ISO 3166 code of the conversation's customer, or ``None`` when the notification does not say."""
    contacts = conversation.contacts.contacts if conversation.contacts else []
    stated = [conversation.custom_attributes or {}] + [c.custom_attributes or {} for c in contacts]
    for attributes in stated:
        if (code := parse_jurisdiction(attributes.get(ATTRIBUTE))) is not None:
            return code
    for contact in contacts:
        where = contact.location
        if where is not None and (code := jurisdiction(where.country, where.region)) is not None:
            return code
    return None
