"""``grounding export``: a chosen set of sessions written into one folder, to copy to a phone:
the quick exercises, the pause straight through, and the bedtime routine at two lengths.

Each file goes through the same path as ``--out`` (grounding.player.play), so it is written
whole or not at all. Its name is the command's name for it (``quick-reset.mp3``,
``bedtime-45.mp3``): the same on every run, so an export made again finds the files it made
before, and plain letters that every phone and memory card take; a phone's player shows the
title from the file's tags.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from grounding.errors import GroundingError, Stopped, UsageError

BEDTIME_LENGTHS = (20, 45)
"""Minutes of the two bedtime routines in the set: the usual one, and the longest."""
FORMATS = ("mp3", "ogg", "opus", "flac", "wav")
"""What ``--format`` takes."""


@dataclass(frozen=True)
class Item:
    """One session of the set."""

    name: str
    """Its file's name, without the ending."""
    script: object
    night: bool = False
    """The bedtime voice and sound: slower, lower, the night palette."""


def the_set() -> list[Item]:
    """The quick exercises (``grounding list --tag quick``), the pause without questions and
    the bedtime routine at each of :data:`BEDTIME_LENGTHS`, in that order."""
    from grounding import config
    from grounding.bedtime import bedtime_script, night_rate
    from grounding.library import catalogue
    from grounding.pause_plan import pause_script
    from grounding.scriptfile import load_script

    items = []
    for entry in catalogue():
        try:
            script = load_script(entry.path)
        except GroundingError:
            continue  # 'grounding list' names it, and 'grounding validate' says why
        if "quick" in script.tags:
            items.append(Item(entry.name, script))
    items.append(Item("pause", pause_script()))
    rate = night_rate(config.load(lambda line: None).rate)
    for minutes in BEDTIME_LENGTHS:
        script = bedtime_script(minutes, rate=rate)
        items.append(Item(f"bedtime-{minutes}",
                          replace(script, title=f"Bedtime, {minutes} minutes"), night=True))
    return items


def chosen(items: list[Item], only: list[str] | None) -> list[Item]:
    """The items ``only`` names (all of them if it names none)."""
    if not only:
        return items
    names = [item.name for item in items]
    for name in only:
        if name not in names:
            raise UsageError(f"There is no '{name}' in the set; it has {', '.join(names)}.")
    return [item for item in items if item.name in only]


def default_format() -> str:
    """MP3 where the formats extra is installed, else WAV (which needs nothing more)."""
    from grounding.encoded import available

    return "mp3" if available() else "wav"


@dataclass(frozen=True)
class Written:
    """A file the export wrote."""

    path: Path
    seconds: float
    size: int
    """Bytes."""


def prepare_folder(folder: Path) -> None:
    """Make the folder (and those it is in) if it is not there, and try a file in it for real;
    one sentence if either cannot be done."""
    import os
    import secrets

    from grounding.paths import LEFTOVER_PREFIX

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"'{folder}' is a file, not a folder; name a folder to export into.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"The folder '{folder}' cannot be made ({_reason(exc)}); name "
                         "another one.") from None
    trial = folder / f"{LEFTOVER_PREFIX}{secrets.token_hex(6)}"
    try:  # permissions alone do not tell (a read-only disk, root)
        os.close(os.open(trial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise UsageError(f"Files cannot be written in '{folder}' ({_reason(exc)}); name "
                         "another folder.") from None
    trial.unlink(missing_ok=True)


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).rstrip(".").lower()


def write(items: list[Item], paths: list[Path], voice_name: str | None,
          tell: Callable[[str], None], done: Callable[[Written], None]) -> list[Written]:
    """Render each item into its path, with the user's settings; ``done`` hears of each file
    as it is complete. A stop (:class:`Stopped`) leaves the file it was writing unwritten,
    as ``--out`` does, and says which were written."""
    from contextlib import ExitStack

    from grounding.bedtime import PITCH, night_rate
    from grounding.palette import load_palette
    from grounding.player import make_voice, play
    from grounding.terminal import session_options

    day = session_options(no_voice=False, no_tones=False, volume=None, no_holds=False,
                          voice=voice_name, rate=None, device=None)
    night = replace(day, rate=night_rate(day.rate), pitch=PITCH)
    written: list[Written] = []
    with ExitStack() as stack:
        voices = {}  # one for the day's sessions, one for the night's
        try:
            for item, path in zip(items, paths):
                options = replace(night if item.night else day, out=path)
                if item.night not in voices:
                    voices[item.night] = stack.enter_context(make_voice(options))
                session, _ = play(item.script, options, tell,
                                  load_palette("night" if item.night else "day"),
                                  voices[item.night])
                made = Written(path, session.timeline.seconds, path.stat().st_size)
                written.append(made)
                done(made)
        except Stopped as stop:
            stop.tell(tell, stopped_words(written, paths[len(written)]))
            raise
    return written


def stopped_words(written: list[Written], stopped: Path) -> str:
    """What a stop says: the files written, and the one that was not."""
    if not written:
        return f"Stopped; nothing was written ({stopped.name} was not)."
    names = ", ".join(w.path.name for w in written)
    return (f"Stopped; {len(written)} file{'s were' if len(written) > 1 else ' was'} "
            f"written ({names}); {stopped.name} and any after it were not.")
