"""How long something lasts, as people are told it: one rounding, shown three ways.

A length is rounded once, by :func:`rounded`:

- under 55 seconds, to the nearest 10 seconds (at least 10): "about 40 seconds";
- under 9¾ minutes, to the nearest half minute: "about 2.5 minutes";
- from 9¾ minutes, to the nearest whole minute: "about 12 minutes".

Halves round up (2¼ minutes is 2.5, 2¾ is 3), so a length on a boundary always rounds the
same way. The same rounded length is then shown as figures in ``grounding list``
(:func:`figures`, "2.5 min"), as words in the header when a session starts (:func:`words`,
"about 2.5 minutes") and said by the voice (:func:`spoken`, "about two and a half minutes"),
so the three never disagree. This module imports nothing of the program's own.
"""

from __future__ import annotations

import math

SECONDS_BELOW = 55
"""Shorter than this, a length is told in seconds."""
HALVES_BELOW = 9.75 * 60
"""Shorter than this (and from SECONDS_BELOW), to the nearest half minute; longer, whole
minutes."""

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def _nearest(value: float, step: int) -> int:
    """``value`` rounded to a multiple of ``step``, halves up."""
    return step * math.floor(value / step + 0.5)


def rounded(seconds: float) -> int:
    """``seconds`` rounded as the module says: a whole number of seconds, a multiple of 10
    under a minute, of 30 under ten minutes, of 60 from there."""
    if seconds < SECONDS_BELOW:
        return max(10, _nearest(seconds, 10))
    if seconds < HALVES_BELOW:
        return _nearest(seconds, 30)
    return _nearest(seconds, 60)


def least(seconds: float) -> float:
    """The shortest length told the same as ``seconds`` (any length from it up to ``seconds``
    rounds the same)."""
    told = rounded(seconds)
    if told < 60:
        return 0.0 if told == 10 else told - 5
    if told < 600:
        return max(SECONDS_BELOW, told - 15)
    return max(HALVES_BELOW, told - 30)


def _minutes(seconds: float) -> tuple[int, bool] | None:
    """The rounded length as whole minutes and whether there is a half more; None when it is
    told in seconds."""
    total = rounded(seconds)
    if total < 60:
        return None
    return total // 60, total % 60 == 30


def figures(seconds: float) -> str:
    """The rounded length in figures, short: ``40 s``, ``2.5 min``, ``12 min``."""
    minutes = _minutes(seconds)
    if minutes is None:
        return f"{rounded(seconds)} s"
    whole, half = minutes
    return f"{whole}{'.5' if half else ''} min"


def words(seconds: float) -> str:
    """The rounded length in words with figures: ``about 40 seconds``, ``about 1 minute``,
    ``about 2.5 minutes``."""
    minutes = _minutes(seconds)
    if minutes is None:
        return f"about {rounded(seconds)} seconds"
    whole, half = minutes
    unit = "minute" if (whole, half) == (1, False) else "minutes"
    return f"about {whole}{'.5' if half else ''} {unit}"


def spoken(seconds: float) -> str:
    """The rounded length as it is said: ``about forty seconds``, ``about a minute``,
    ``about a minute and a half``, ``about two and a half minutes``."""
    minutes = _minutes(seconds)
    if minutes is None:
        return f"about {number(rounded(seconds))} seconds"
    whole, half = minutes
    if whole == 1:
        return "about a minute and a half" if half else "about a minute"
    return f"about {number(whole)}{' and a half' if half else ''} minutes"


def number(value: int) -> str:
    """A whole number from 0 to 99 in words (``forty-five``); larger ones in figures, which
    speech engines read aloud well enough."""
    if not 0 <= value < 100:
        return str(value)
    if value < 20:
        return _ONES[value]
    tens, ones = divmod(value, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
