"""The private log of pauses: off until the user says yes, kept only on this machine.

SQLite in the user's data folder under a neutral name, readable by the owner alone, holding no
names of people. A pause is written in one transaction when it ends, so killing the program
or losing power at any moment loses at most that pause and never damages the file.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import statistics
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Callable

from grounding import private
from grounding.errors import GroundingError, UsageError

FILE = "records.db"
"""A neutral name: nothing in it says what is kept (docs/safety.md §3.5)."""

_SCHEMA = """
create table if not exists pause (
    id integer primary key,
    started text not null,          -- local time, ISO 8601, to the minute
    seconds integer not null,
    urge_before integer, urge_after integer,
    distress_before integer, distress_after integer,
    ended text not null,            -- finished | stopped
    next_step text,                 -- what the user chose, in their words from the menu
    note text                       -- a kept message, only if the user chose to keep it
)"""


@dataclass(frozen=True)
class PauseRecord:
    """One pause, as it is kept."""

    started: str
    seconds: int
    urge_before: int | None = None
    urge_after: int | None = None
    distress_before: int | None = None
    distress_after: int | None = None
    ended: str = "finished"
    next_step: str | None = None
    note: str | None = None


def path() -> Path:
    """Where the log lives."""
    return private.path(FILE)


def _connect() -> sqlite3.Connection:
    return private.connect(FILE, _SCHEMA)


def turned_on() -> str:
    """What saying yes to the log means, said right after: what is kept, where, and how to
    see it or delete it."""
    return (f"The log is on. Each pause's time, length, ratings and your choice at the end "
            f"(and a message, only if you keep one) are kept in {path()}, on this computer "
            "only. 'grounding history' shows them; 'grounding history --forget' deletes "
            "them and turns the log off.")


def record(entry: PauseRecord) -> None:
    """Add one pause, in a single transaction."""
    names = [f.name for f in fields(PauseRecord)]
    db = _connect()
    try:
        with db:
            db.execute("begin immediate")
            db.execute(f"insert into pause ({', '.join(names)}) values "
                       f"({', '.join('?' for _ in names)})",
                       [getattr(entry, n) for n in names])
    finally:
        db.close()


def pauses() -> list[PauseRecord]:
    """Every kept pause, oldest first (none if nothing was ever kept)."""
    if not path().exists():
        return []
    names = [f.name for f in fields(PauseRecord)]
    db = _connect()
    try:
        rows = db.execute(f"select {', '.join(names)} from pause order by id").fetchall()
    finally:
        db.close()
    return [PauseRecord(*row) for row in rows]


def export(kind: str) -> str:
    """The log as ``csv`` or ``json`` text."""
    rows = [asdict(p) for p in pauses()]
    if kind == "json":
        return json.dumps(rows, indent=1, ensure_ascii=False)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f.name for f in fields(PauseRecord)])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def forget(notice: Callable[[str], None]) -> bool:
    """Turn the log off (``log = off`` in the settings, so no later pause keeps one) and delete
    it for good: the file itself and any journal, not only its rows, and the data folder if
    that leaves it empty. True if there was a file. Each is tried whatever happens to the
    other; a GroundingError says which could not be done and why. ``notice`` hears about
    settings that cannot be read."""
    from grounding import config

    off_problem = None
    try:
        settings = config.load(notice)
        if settings.log != "off":
            config.save(replace(settings, log="off"))
    except OSError as exc:
        off_problem = f"{config.path()} cannot be written ({exc.strerror or exc})"
    removed, stuck = private.delete(FILE)
    if stuck and off_problem:
        raise GroundingError(f"The log could be neither deleted nor turned off: "
                             f"{'; '.join(stuck)}; {off_problem}.")
    if stuck:
        raise GroundingError(f"The log is turned off, but it could not be deleted: "
                             f"{'; '.join(stuck)}. Delete it by hand, or run 'grounding "
                             "history --forget' again once that folder can be written to.")
    if off_problem:
        done = "The log is deleted" if removed else "There was no log to delete"
        raise GroundingError(f"{done}, but it could not be turned off: {off_problem}, so the "
                             "next pause could keep a new one. Run 'grounding history "
                             "--forget' again once it can be written to.")
    return removed


def summary(entries: list[PauseRecord]) -> str:
    """The one sentence that matters, without scores or streaks."""
    count = len(entries)
    rated = [(p.urge_before, p.urge_after) for p in entries
             if p.urge_before is not None and p.urge_after is not None]
    text = f"{count} pause{'s' if count != 1 else ''} kept."
    if rated:
        change = statistics.median(before - after for before, after in rated)
        if change > 0:
            how = f"the urge fell by {change:g} point{'s' if change != 1 else ''}"
        elif change < 0:
            how = f"the urge rose by {-change:g} point{'s' if change != -1 else ''}"
        else:
            how = "the urge stayed about the same"
        text = (f"In {len(rated)} pause{'s' if len(rated) != 1 else ''} with both ratings, "
                f"{how} on the median.")
    return text


def chart(entries: list[PauseRecord], width: int = 20) -> list[str]:
    """One line per rated pause: the urge before and after as bars out of 10."""
    lines = []
    for p in entries:
        if p.urge_before is None or p.urge_after is None:
            continue
        before = "▇" * round(p.urge_before * width / 10)
        after = "▇" * round(p.urge_after * width / 10)
        lines.append(f"{p.started}  before {p.urge_before:>2} {before:<{width}}  "
                     f"after {p.urge_after:>2} {after}")
    return lines


def listing(entries: list[PauseRecord], setting: str) -> list[str]:
    """What ``grounding history`` shows: a numbered row per pause, the chart, the one
    sentence that matters and what else can be done; or, with nothing kept, why. ``setting``
    is the log setting: on, off or "" (not asked yet)."""
    if not entries:
        return [{
            "on": "Nothing is kept yet. The log is on: each pause is kept when it ends.",
            "off": "Nothing is kept: the log is off. 'grounding config set log on' turns it "
                   "on.",
        }.get(setting, "Nothing is kept: the log is not on. At the end of your first pause, "
                       "you are asked whether to keep one.")]
    number_w = len(str(len(entries)))
    lines = [f"{'#':>{number_w}}  {'when':<16}  {'minutes':>7}  {'urge':>7}  {'distress':>8}  "
             "ended     note  next"]
    for number, p in enumerate(entries, 1):
        urge = f"{_rating(p.urge_before)}→{_rating(p.urge_after)}"
        distress = f"{_rating(p.distress_before)}→{_rating(p.distress_after)}"
        lines.append(f"{number:>{number_w}}  {p.started:<16}  {p.seconds / 60:>7.1f}  "
                     f"{urge:>7}  {distress:>8}  {p.ended:<8}  {'note' if p.note else '':<4}  "
                     f"{p.next_step or ''}".rstrip())
    drawn = chart(entries)
    if drawn:
        lines += ["", *drawn]
    lines += ["", summary(entries)]
    if any(p.note for p in entries):
        lines.append("'grounding history --show N' shows pause N with its note.")
    if setting == "off":
        lines.append("The log is off now: these were kept while it was on. "
                     "'grounding history --forget' deletes them.")
    return lines


def records(entries: list[PauseRecord]) -> list[dict]:
    """The pauses as ``grounding history --json`` gives them: what the listing shows of each,
    its number there first; whether it holds a note, not the note itself."""
    return [{"number": number, **{k: v for k, v in asdict(p).items() if k != "note"},
             "has_note": bool(p.note)} for number, p in enumerate(entries, 1)]


def noted(entries: list[PauseRecord], number: int) -> PauseRecord:
    """Pause ``number`` of the listing, which holds a note; UsageError if there is no such
    pause or it holds none."""
    if not 1 <= number <= len(entries):
        raise UsageError(f"There is no pause {number}: " + (
            "nothing is kept." if not entries else
            f"'grounding history' numbers them 1 to {len(entries)}."))
    p = entries[number - 1]
    if not p.note:
        raise UsageError(f"Pause {number} holds no note; 'grounding history' marks the ones "
                         "that do with 'note'.")
    return p


def shown(entries: list[PauseRecord], number: int) -> list[str]:
    """Pause ``number`` of the listing in full, with its note; UsageError if there is no such
    pause or it holds no note."""
    p = noted(entries, number)
    lines = [f"Pause {number}, {p.started}, {p.seconds / 60:.1f} minutes, {p.ended}",
             f"urge {_rating(p.urge_before)}→{_rating(p.urge_after)}, distress "
             f"{_rating(p.distress_before)}→{_rating(p.distress_after)}"]
    if p.next_step:
        lines.append(f"next: {p.next_step}")
    # the note as written, without terminal control codes typed along with it
    note = "".join(c if c in "\n\t" or c.isprintable() else "?" for c in p.note)
    return [*lines, "", note]


def _rating(value: int | None) -> str:
    """A rating as shown: its number, or - where none was given."""
    return "-" if value is None else str(value)
