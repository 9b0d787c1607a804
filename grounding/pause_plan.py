"""The pre-contact pause (docs/protocols.md card F1): its parts are exercise files in
``scripts/pause/``; this module decides which parts play, in which order, and how long."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from grounding.defaults import SURF_MINUTES
from grounding.paths import bundled
from grounding.script import Breathe, Script, cycles_for
from grounding.scriptfile import load_script

SURF_WORDS_MINUTES = 1.5
"""About how much of the urge surfing is spoken before and after its breathing, minutes
(measured at the usual speaking rate: 1.48)."""
SURF_SHORTEST = 3.0
"""The shortest urge surfing, minutes: its words and at least a minute and a half of breathing."""


def part(name: str) -> Script:
    """One part of the pause, from ``scripts/pause/NAME.toml``."""
    return _part(bundled("scripts") / "pause" / f"{name}.toml")


@functools.lru_cache(maxsize=None)
def _part(path: Path) -> Script:
    """A part's file, read once: a pause asks for its parts several times before its first
    sound (its length, its level, what to prepare ahead), and they come with the program."""
    return load_script(path)


def surf_part(minutes: float = SURF_MINUTES) -> Script:
    """The urge surfing, its breathing sized so the part lasts about ``minutes``."""
    surf = part("surf")
    breathing = max(SURF_SHORTEST, minutes) - SURF_WORDS_MINUTES
    return replace(surf, minutes=minutes, steps=tuple(
        replace(s, cycles=max(cycles_for(s.pattern, breathing), s.cue_cycles + len(s.lines)))
        if isinstance(s, Breathe) else s for s in surf.steps))


def surf_stretches(minutes: float = SURF_MINUTES, every: float = 2.0) -> list[Script]:
    """The urge surfing in pieces of about ``every`` minutes of breathing, so the urge can be
    re-rated between them (card G7: every couple of minutes); its lines spread over them."""
    whole = surf_part(minutes)
    at = next(i for i, s in enumerate(whole.steps) if isinstance(s, Breathe))
    breathe = whole.steps[at]
    size = cycles_for(breathe.pattern, every)
    counts = [size] * (breathe.cycles // size)
    if breathe.cycles % size or not counts:
        counts.append(breathe.cycles % size or breathe.cycles)
    lines, pieces, given = breathe.lines, [], 0
    for n, cycles in enumerate(counts):
        share = lines[given: given + max(0, min(cycles, round(len(lines) * (n + 1) / len(counts))
                                               - given))]
        given += len(share)
        steps = [replace(breathe, cycles=cycles, lines=share)]
        if n == 0:
            steps = list(whole.steps[:at]) + steps
        if n == len(counts) - 1:
            steps += list(whole.steps[at + 1:])
        pieces.append(replace(whole, steps=tuple(steps)))
    return pieces


def pause_script(surf_minutes: float = SURF_MINUTES, reflect: bool = False) -> Script:
    """The whole pause as one exercise: arrive and stop, settle the body, surf the urge
    (about ``surf_minutes``), an optional question, a kind moment, a free choice, and the
    closing. Where help is (``safety``) is left out: this is what ``--out`` writes to a
    file, and a spoken mention of abuse lines on a phone can expose its owner
    (docs/safety.md §3.5).

    The question is left out unless asked for: reflecting at high arousal feeds rumination
    (card R1), and without a rating there is no telling how high it is."""
    parts = _parts(surf_minutes, reflect)
    steps = tuple(step for p in parts for step in p.steps)
    minutes = sum(p.minutes for p in parts)
    return Script(name="pause", title="Pause", summary="A pause before reaching out.",
                  minutes=round(minutes, 1), tags=("urge",), holds=False,
                  source="docs/protocols.md card F1", steps=steps)


def _parts(surf_minutes: float, reflect: bool, safety: bool = False) -> list[Script]:
    """The parts that play, in order (where help is only where it is asked for)."""
    names = (["arrive", "settle"] + (["reflect"] if reflect else []) + ["kind", "choose"]
             + (["safety"] if safety else []) + ["close"])
    parts = [part(name) for name in names]
    parts.insert(2, surf_part(surf_minutes))
    return parts


def planned_minutes(surf_minutes: float = SURF_MINUTES) -> float:
    """About how long a live pause plays, without the question part or the time its
    questions take: what it says up front."""
    return sum(p.minutes for p in _parts(surf_minutes, reflect=False, safety=True))
