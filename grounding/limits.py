"""The values a data file's keys may hold, as tables: each :class:`Limit` names a key, what it
allows and the sentence that says so, and :func:`check_limits` reads a table in order.

Types are checked first (:func:`grounding.datafile.check_keys`), so a limit sees a number where
a number belongs. A key that is absent passes: its default is valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping


@dataclass(frozen=True)
class Limit:
    """What one key may hold, and what to say when it holds something else."""

    key: str
    """The key the message is about (its line is the one shown)."""
    says: str
    """What is wrong and what to write, as a sentence."""
    allows: Callable[[Mapping[str, Any]], bool]
    """Whether the table is within this limit (it may look at other keys too)."""

    @classmethod
    def range(cls, key: str, low: float, high: float, says: str) -> Limit:
        """``low <= value <= high``."""
        return cls(key, says, lambda table: key not in table or low <= table[key] <= high)

    @classmethod
    def choice(cls, key: str, choices: tuple, says: str) -> Limit:
        """One of ``choices``."""
        return cls(key, says, lambda table: key not in table or table[key] in choices)


def check_limits(table: Mapping[str, Any], limits: Iterable[Limit],
                 fail: Callable[[str, str], Exception]) -> None:
    """Raise ``fail(says, key)`` for the first limit the table is outside of: the order of
    ``limits`` decides which of several mistakes is told."""
    for limit in limits:
        if not limit.allows(table):
            raise fail(limit.says, limit.key)
