"""Breathing patterns: seconds per phase, parsed from ``4-6``-style text or a name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from grounding.errors import UsageError

IN, TOP, HOLD, OUT, REST = "in", "top", "hold", "out", "rest"
"""Phase kinds: breathing in, a small second in-breath on top (the cyclic sigh), holding after
the in-breath, breathing out, resting after it."""

PHASE_NAMES = {IN: "in", TOP: "more", HOLD: "hold", OUT: "out", REST: "hold"}
"""What each phase is called, on screen and by the voice."""

NAMED = {
    "resonance": "4-6",
    "coherent": "5-5",
    "box": "4-4-4-4",
    "gentle-box": "3-3-3-3",
    "4-7-8": "4-7-8",
    "sigh": "2.5+0.7-6",
}
"""Named patterns (docs/protocols.md §6, cards B1, B4, B5)."""

MAX_RATE = 10.0
"""Calming patterns stay at or below 10 breaths per minute (docs/sound.md §5.4)."""

MAX_HOLD = 10.0
"""Holds are short and optional; nothing longer than 10 s (docs/protocols.md §0.6, card B5)."""

MIN_BREATH, MAX_BREATH = 1.0, 15.0
"""An in- or out-breath lasts from 1 to 15 seconds."""

MIN_TOP, MAX_TOP = 0.3, 2.0
"""The sigh's second, small in-breath lasts from 0.3 to 2 seconds (card B3: 0.5-1 s)."""

_NUMBER = r"\d+(?:\.\d+)?"
_SHAPE = re.compile(rf"^{_NUMBER}(?:\+{_NUMBER})?(?:-{_NUMBER}){{1,3}}$")


@dataclass(frozen=True)
class Phase:
    """One phase of a breath cycle."""

    kind: str
    """``in``, ``hold``, ``out`` or ``rest``."""
    seconds: float
    """Length in seconds (always > 0)."""


@dataclass(frozen=True)
class Pattern:
    """A breathing pattern: the phases of one cycle, in order."""

    text: str
    """The pattern as written, ``IN-OUT``, ``IN-HOLD-OUT`` or ``IN-HOLD-OUT-HOLD`` seconds."""
    phases: tuple[Phase, ...]

    @property
    def cycle_seconds(self) -> float:
        """Seconds of one full cycle."""
        return sum(p.seconds for p in self.phases)

    @property
    def per_minute(self) -> float:
        """Breaths per minute."""
        return 60.0 / self.cycle_seconds

    @property
    def has_holds(self) -> bool:
        """Whether any phase holds the breath."""
        return any(p.kind in (HOLD, REST) for p in self.phases)

    def without_holds(self) -> Pattern:
        """The same in- and out-breaths with the holds left out."""
        kept = tuple(p for p in self.phases if p.kind not in (HOLD, REST))
        return Pattern(_text(kept), kept)

    def describe(self) -> str:
        """A short human description, e.g. ``in 4 s, out 6 s (6 breaths a minute)``."""
        parts = ", ".join(f"{PHASE_NAMES[p.kind]} {_fmt(p.seconds)} s" for p in self.phases)
        return f"{parts} ({_fmt(round(self.per_minute, 1))} breaths a minute)"


def _fmt(seconds: float) -> str:
    return f"{seconds:g}"


def _text(phases: tuple[Phase, ...]) -> str:
    """Phases back to pattern text: ``4-6``, ``2.5+0.7-6`` (holds written only where present)."""
    seconds = {p.kind: _fmt(p.seconds) for p in phases}
    text = seconds[IN] + (f"+{seconds[TOP]}" if TOP in seconds else "")
    if HOLD in seconds or REST in seconds:
        text += f"-{seconds.get(HOLD, '0')}"
    text += f"-{seconds[OUT]}"
    return text + (f"-{seconds[REST]}" if REST in seconds else "")


def parse_pattern(text: str) -> Pattern:
    """Parse ``4-6``, ``4-7-8``, ``4-4-4-4`` or a name such as ``resonance``; check it is calm."""
    raw = text.strip().lower()
    spec = NAMED.get(raw, raw)
    if not _SHAPE.match(spec):
        names = ", ".join(NAMED)
        raise UsageError(
            f"'{text}' is not a breathing pattern. Write seconds per phase as IN-OUT, "
            f"IN-HOLD-OUT or IN-HOLD-OUT-HOLD (for example 4-6 or 4-7-8), IN+MORE-OUT for a "
            f"sigh (2.5+0.7-6), or a name: {names}."
        )
    first, *rest = spec.split("-")
    breath_in, _, top = first.partition("+")
    values = [float(breath_in)] + [float(v) for v in rest]
    kinds = {2: (IN, OUT), 3: (IN, HOLD, OUT), 4: (IN, HOLD, OUT, REST)}[len(values)]
    phases = [Phase(k, s) for k, s in zip(kinds, values)]
    if top:
        phases.insert(1, Phase(TOP, float(top)))
    phases = tuple(p for p in phases if p.seconds > 0)
    for phase in phases:
        _check_phase(text, phase)
    if not any(p.kind == IN for p in phases) or not any(p.kind == OUT for p in phases):
        raise UsageError(f"'{text}' needs an in-breath and an out-breath longer than 0 seconds.")
    pattern = Pattern(_text(phases), phases)
    if pattern.per_minute > MAX_RATE + 1e-9:
        raise UsageError(
            f"'{text}' is {pattern.per_minute:.1f} breaths a minute; calming patterns stay at "
            f"{MAX_RATE:g} or fewer, so each cycle needs at least {60 / MAX_RATE:g} seconds. "
            "Try 4-6."
        )
    return pattern


def _check_phase(text: str, phase: Phase) -> None:
    if phase.kind in (HOLD, REST):
        if phase.seconds > MAX_HOLD:
            raise UsageError(
                f"'{text}' holds the breath for {_fmt(phase.seconds)} s; holds are kept to "
                f"{MAX_HOLD:g} s or less. Try 4-7-8, or leave the hold out: 4-8."
            )
    elif phase.kind == TOP:
        if not MIN_TOP <= phase.seconds <= MAX_TOP:
            raise UsageError(
                f"'{text}' has a {_fmt(phase.seconds)} s second in-breath; the small sip on "
                f"top lasts {MIN_TOP:g} to {MAX_TOP:g} seconds, as in 2.5+0.7-6."
            )
    elif not MIN_BREATH <= phase.seconds <= MAX_BREATH:
        word = "in-breath" if phase.kind == IN else "out-breath"
        raise UsageError(
            f"'{text}' has a {_fmt(phase.seconds)} s {word}; each in- or out-breath lasts "
            f"{MIN_BREATH:g} to {MAX_BREATH:g} seconds."
        )
