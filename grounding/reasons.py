"""The user's own reasons for keeping their distance from someone, in their own words: kept
only when they say yes, only on this machine, and read back to them when they choose.

A private store (:mod:`grounding.private`) under a neutral name, one row per reason and
nothing else (no dates, no names). Adding is one transaction; a removed reason's bytes are
overwritten in the file (``secure_delete``), and removing the last one deletes the file.
Reading never creates anything. The words are never stored anywhere else: spoken, they are
rendered for that session only (:attr:`grounding.script.Script.private`).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from grounding import private
from grounding.errors import GroundingError, UsageError
from grounding.printable import printable
from grounding.script import Script, Speak

FILE = "notes.db"
"""A neutral name: nothing in it says what is kept (docs/safety.md §3.5)."""

_SCHEMA = "create table if not exists note (id integer primary key, text text not null)"

INTRO = "These are the reasons you wrote down for yourself."
CLOSE = "Those are your own words. They are here whenever you want them."
AFTER_EACH = 3.0
"""Seconds of quiet after each reason is read, to let it land."""
WORDS_PER_MINUTE = 150
"""For the stated length of the read-back (the voice's usual rate)."""


def path() -> Path:
    """Where the reasons live."""
    return private.path(FILE)


@contextmanager
def _failing(what: str) -> Iterator[None]:
    """Turn a store that cannot be used into one sentence starting with ``what``; nothing
    already kept is touched."""
    try:
        yield
    except sqlite3.OperationalError as exc:  # locked by another run, a read-only disk
        raise GroundingError(f"{what}: {path()} cannot be used just now ({exc}).") from None
    except sqlite3.DatabaseError as exc:  # not a database, or damaged
        raise GroundingError(f"{what}: {path()} is damaged ({exc}). It is left as it is; "
                             "'grounding reasons --forget' deletes it.") from None
    except OSError as exc:
        raise GroundingError(f"{what}: {exc.filename or path().parent} cannot be used "
                             f"({exc.strerror or exc}).") from None


def _connect() -> sqlite3.Connection:
    db = private.connect(FILE, _SCHEMA)
    db.execute("pragma secure_delete = on")  # a removed reason is overwritten, not left free
    return db


def kept() -> list[str]:
    """The reasons, oldest first; ``[]`` when none are kept. Reading never creates the file.
    GroundingError (one sentence) if the file cannot be read."""
    if not path().exists():
        return []
    with _failing("Your reasons cannot be read"):
        db = _connect()
        try:
            return [text for (text,) in db.execute("select text from note order by id")]
        finally:
            db.close()


def lines_of(text: str) -> list[str]:
    """The reasons in what was written: one per line, without blank lines or the spaces
    around each."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def check_keepable() -> None:
    """Whether new reasons could be kept, asked before anyone writes them: GroundingError if
    what is kept cannot be read, or the data folder cannot be written."""
    kept()
    folder = path().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        raise GroundingError(f"New reasons cannot be kept just now: {folder} cannot be "
                             "written, so nothing was asked and nothing is stored.")


def add(items: list[str]) -> int:
    """Keep ``items`` (without the spaces around each; blank ones left out) after those
    already kept, all in one transaction; how many. Nothing is created when there are none."""
    items = [item.strip() for item in items if item.strip()]
    if not items:
        return 0
    with _failing("Your reasons could not be kept, and nothing of them was stored"):
        db = _connect()
        try:
            with db:
                db.execute("begin immediate")
                db.executemany("insert into note (text) values (?)", [(i,) for i in items])
        finally:
            db.close()
    return len(items)


def remove(number: int) -> int:
    """Remove reason ``number`` of the list (from 1) in one transaction, and the file with the
    last one; how many are left. UsageError if there is no such reason."""
    if not kept():
        raise UsageError(f"There is no reason {number}: none are kept.")
    with _failing(f"Reason {number} could not be removed, and nothing was changed"):
        db = _connect()
        try:
            with db:
                db.execute("begin immediate")
                ids = [row for (row,) in db.execute("select id from note order by id")]
                if not 1 <= number <= len(ids):
                    raise UsageError(f"There is no reason {number}: 'grounding reasons' "
                                     f"numbers them 1 to {len(ids)}.")
                db.execute("delete from note where id = ?", (ids[number - 1],))
                left = len(ids) - 1
        finally:
            db.close()
    if left == 0:
        forget()
    return left


def forget() -> bool:
    """Delete the reasons for good: the file and any journal, not only the rows, and the data
    folder if that leaves it empty. True if there was a file; GroundingError if some of it
    could not be removed."""
    removed, stuck = private.delete(FILE)
    if stuck:
        raise GroundingError(f"Your reasons could not be deleted: {'; '.join(stuck)}. Delete "
                             "it by hand, or run 'grounding reasons --forget' again once that "
                             "folder can be written to.")
    return removed


def numbered(items: list[str]) -> list[str]:
    """The reasons as shown: numbered from 1, without control characters."""
    width = len(str(len(items)))
    return [f"{number:>{width}}  {printable(item)}" for number, item in enumerate(items, 1)]


def listing(items: list[str]) -> list[str]:
    """What ``grounding reasons`` shows: the numbered reasons and what else can be done, or,
    with none kept, how to add some."""
    if not items:
        return ["No reasons are kept. 'grounding reasons --add' is a place to write some, in "
                "your own words; you choose whether they are kept, only on this computer."]
    return [*numbered(items), "",
            "'grounding reasons --say' reads them aloud; --add writes more; --remove N "
            "removes one; --forget deletes them all."]


def spoken(items: list[str]) -> Script:
    """A script that reads ``items`` aloud: a short introduction, each reason with a few
    seconds after it, and a gentle close; no breathing. It is private: its clips are never
    stored (so never pass its texts to a voice's ``later``, which stores what it renders)."""
    said = [text for text in (printable(item).strip() for item in items) if text]
    if not said:
        raise ValueError("no reasons to read aloud")
    steps = (Speak(INTRO, 1.5), *(Speak(text, AFTER_EACH) for text in said), Speak(CLOSE, 1.0))
    words = sum(len(step.text.split()) for step in steps)
    seconds = 60 * words / WORDS_PER_MINUTE + sum(step.after for step in steps)
    return Script(name="reasons", title="Your reasons",
                  summary="The reasons you wrote down, read back to you.",
                  minutes=round(seconds / 60, 1), tags=("urge",), holds=False,
                  source="docs/safety.md §3.5", steps=steps, private=True)
