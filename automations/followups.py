"""Reading a customer's next message after a bot answer: thanks, still stuck, or something new."""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["FollowUp", "read_follow_up"]


class FollowUp(StrEnum):
    """What a follow-up message says about the previous answer."""

    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    NEW = "new"


_THANKS = re.compile(
    r"^\W*(thanks?|thank you|thx|ty|cheers|ta|great|perfect|brilliant|awesome|ok(ay)?|cool|got it|sorted|"
    r"(that|it) (worked|helped|did it|fixed it)|all (good|sorted)|problem solved)\b[^?]{0,60}$",
    re.IGNORECASE,
)
_UNRESOLVED = re.compile(
    r"\b(didn.?t|did not|doesn.?t|does not|not) (help|work|answer|solve|fix)|\bstill (stuck|not|broken|waiting|"
    r"having|the same|doesn.?t|can.?t|need)|\bthat.?s not (it|what i)|\bno(pe)?,? (that|it)\b|\buseless\b",
    re.IGNORECASE,
)


def read_follow_up(text: str) -> FollowUp:
    """Classify a message that follows a bot answer."""
    if _UNRESOLVED.search(text):
        return FollowUp.UNRESOLVED
    if _THANKS.search(text.strip()):
        return FollowUp.RESOLVED
    return FollowUp.NEW
