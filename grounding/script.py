"""An exercise as frozen dataclasses: its steps, and the exact timing of its breathing.

Exercise files (``scripts/*.toml``) are read into these by :mod:`grounding.scriptfile`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from typing import Union

from grounding.breath import PHASE_NAMES, Pattern, Phase

TAGS = ("breathing", "grounding", "sleep", "urge", "quick", "practice")
CUES = ("words", "counts", "none")
OFFERS = ("no-holds",)
SPACINGS = ("even", "widening")
COUNTS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen")
"""Counted cues after the phase word: "in, two, three, four"."""
LENGTH = "{length}"
"""Written in a spoken line, it is said as the session's real length in words ("about five
minutes"), as it plays: after ``--minutes``, ``--no-holds`` and at the voice's rate."""
HOLD_WORDS = re.compile(r"\bhold|\bheld", re.IGNORECASE)
"""Words about holding the breath: a line with them needs a hold-free wording for
``--no-holds``."""


@dataclass(frozen=True)
class Speak:
    """Say a line, then leave a silence."""

    text: str
    after: float = 1.0
    """Silence after the line, seconds."""
    with_holds: bool = False
    """Said only while the holds are kept: about the holds, so left out with ``--no-holds``."""
    no_holds: str | None = None
    """Said instead of ``text`` when the holds are left out (``--no-holds``)."""


@dataclass(frozen=True)
class Pause:
    """Silence (the pacer is quiet too)."""

    seconds: float


@dataclass(frozen=True)
class Bell:
    """One soft chime."""


@dataclass(frozen=True)
class Choice:
    """Say an offer the listener may take (for now: leaving the holds out from here on)."""

    text: str
    offers: str = "no-holds"
    after: float = 2.0
    """Silence after the offer, seconds: time to decide."""


@dataclass(frozen=True)
class Reflect:
    """One reflection prompt, a different one each day, then quiet time; always skippable."""

    prompts: tuple[str, ...]
    after: float = 20.0
    """Quiet time after the prompt, seconds."""

    def prompt_for(self, day: date) -> str:
        """Today's prompt: the list in turn, one per calendar day (nothing is stored)."""
        return self.prompts[day.toordinal() % len(self.prompts)]


RAMP_STEP = Fraction(1, 2)
"""A ramp slows by half a breath a minute every two cycles (docs/protocols.md card B1)."""


@dataclass(frozen=True)
class Breathe:
    """Paced breathing with the tone, optionally with spoken cues and lines."""

    pattern: Pattern
    cycles: int
    cues: str = "words"
    """Spoken on each phase of the first cycles: ``words`` (in, out), ``counts`` or ``none``."""
    cue_cycles: int = 3
    """How many cycles get spoken cues."""
    lines: tuple[str, ...] = ()
    """Spoken one at a time at out-breath onsets, spread over the cycles after the cues."""
    lines_no_holds: tuple[str | None, ...] = ()
    """The hold-free wording of each line, said instead of it with ``--no-holds`` (None, or
    no entry, where a line stays the same)."""
    ramp: float | None = None
    """Breaths per minute at the start, slowing by half a breath a minute every two cycles
    until the pattern's own rate (starting near the listener's own pace: Leslie et al. 2019)."""
    ramp_cycles: int | None = None
    """With ``ramp``: glide evenly from the ramp's pace to the pattern's over this many
    cycles, a little slower every breath, instead of in steps."""
    line_delay: float = 0.0
    """Lines begin this many seconds after their out-breath does (at bedtime the voice never
    speaks over the start of an out-breath: docs/sound.md §5.2)."""
    pitch_range: float | None = None
    """The pacer's pitch range by the end of this step, as a fraction of the palette's (it
    narrows or widens gradually from where it was; the top comes down, the bottom stays)."""
    level_db: float | None = None
    """The whole session's level by the end of this step, dB (from where it was; a session
    starts at 0). ``-inf`` fades to silence with an equal-power curve."""
    tone_db: float = 0.0
    """The pacer sounds this much louder or quieter in this step, dB (the urge surfing's is
    low: card F1 step 5)."""
    spacing: str = "even"
    """How ``lines`` spread over the cycles after the cues: ``even``, or ``widening`` (close
    together at first, further and further apart: the voice speaks less and less)."""

    def rate_at(self, cycle: int) -> Fraction:
        """Breaths per minute during ``cycle`` (from 0), exactly."""
        target = 60 / exact(self.pattern.cycle_seconds)
        if self.ramp is None:
            return target
        start = exact(self.ramp)
        if self.ramp_cycles:
            return start - (start - target) * Fraction(min(cycle, self.ramp_cycles),
                                                       self.ramp_cycles)
        return max(target, start - RAMP_STEP * (cycle // 2))

    def phase_seconds(self, cycle: int) -> list[Fraction]:
        """The exact seconds of each phase in ``cycle``: the pattern, sped up during a ramp."""
        seconds = [exact(p.seconds) for p in self.pattern.phases]
        scale = (60 / self.rate_at(cycle)) / sum(seconds)
        return [s * scale for s in seconds]

    def seconds(self) -> Fraction:
        """The step's length in seconds, exactly."""
        return sum((sum(self.phase_seconds(k)) for k in range(self.cycles)), Fraction(0))


def exact(seconds: float) -> Fraction:
    """A float read as the decimal it prints (4.5 -> 9/2, 0.7 -> 7/10), so arithmetic on
    breath timings is exact."""
    return Fraction(repr(float(seconds)))


Step = Union[Speak, Pause, Bell, Breathe, Choice, Reflect]


@dataclass(frozen=True)
class Script:
    """A whole exercise."""

    name: str
    title: str
    summary: str
    minutes: float
    """Stated length in minutes."""
    tags: tuple[str, ...]
    holds: bool
    """Whether any breathing step holds the breath."""
    source: str
    steps: tuple[Step, ...]
    private: bool = False
    """Whether its words are the user's own (their reasons): spoken from clips made for this
    session only, never stored in the clip cache, where they would outlive their deletion."""

    def without_holds(self) -> Script:
        """The same exercise with every hold turned into ordinary breathing (``--no-holds``):
        the in- and out-breaths keep their lengths; lines with a hold-free wording say it
        instead; offers to leave holds out, and lines marked ``with_holds``, are gone."""
        steps = tuple(_without_holds(s) for s in self.steps
                      if not (isinstance(s, Choice) and s.offers == "no-holds")
                      and not (isinstance(s, Speak) and s.with_holds))
        return replace(self, steps=steps, holds=False)

    @property
    def states_length(self) -> bool:
        """Whether a spoken line says the session's length (``{length}``)."""
        return any(isinstance(s, Speak) and LENGTH in s.text for s in self.steps)

    def with_length(self, words: str) -> Script:
        """The same exercise with ``{length}`` in its spoken lines said as ``words``."""
        steps = tuple(replace(s, text=s.text.replace(LENGTH, words))
                      if isinstance(s, Speak) and LENGTH in s.text else s for s in self.steps)
        return replace(self, steps=steps)

    def stretched(self, factor: float) -> Script:
        """The same words with every breathing part ``factor`` times as long, in whole cycles
        (at least one per cued cycle and per spoken line, so nothing said is lost)."""
        steps = tuple(replace(s, cycles=max(1, s.cue_cycles + len(s.lines),
                                            round(s.cycles * factor)))
                      if isinstance(s, Breathe) else s for s in self.steps)
        return replace(self, steps=steps)

    def on(self, day: date) -> Script:
        """The exercise as played on ``day``: each reflection becomes that day's prompt."""
        steps = tuple(Speak(s.prompt_for(day), s.after) if isinstance(s, Reflect) else s
                      for s in self.steps)
        return replace(self, steps=steps)

    def texts(self) -> list[str]:
        """Every distinct piece of text the voice will say, in order of first use."""
        seen: dict[str, None] = {}
        for step in self.steps:
            if isinstance(step, (Speak, Choice)):
                seen[step.text] = None
            elif isinstance(step, Reflect):
                for prompt in step.prompts:
                    seen[prompt] = None
            elif isinstance(step, Breathe):
                for word in cue_words(step):
                    seen[word] = None
                for line in step.lines:
                    seen[line] = None
        return list(seen)


def _without_holds(step: Step) -> Step:
    """One step as said and breathed with the holds left out."""
    if isinstance(step, Speak) and step.no_holds is not None:
        return replace(step, text=step.no_holds, no_holds=None)
    if isinstance(step, Breathe):
        lines = tuple(other or line for line, other in
                      zip(step.lines, (*step.lines_no_holds, *[None] * len(step.lines))))
        return replace(step, pattern=step.pattern.without_holds(), lines=lines,
                       lines_no_holds=())
    return step


def phase_cues(step: Breathe, phase: Phase) -> list[str]:
    """What is said in one phase of a cued cycle, one word a second from its onset:
    ``["in"]``, or counted, ``["in", "two", "three", "four"]``."""
    if step.cues == "none":
        return []
    counts = COUNTS[: max(0, int(phase.seconds) - 1)] if step.cues == "counts" else ()
    return [PHASE_NAMES[phase.kind], *counts]


def cue_words(step: Breathe) -> list[str]:
    """Every distinct word spoken on the cued cycles of a breathing step."""
    if step.cue_cycles == 0:
        return []
    return list(dict.fromkeys(w for p in step.pattern.phases for w in phase_cues(step, p)))


def cycles_for(pattern: Pattern, minutes: float, ramp: float | None = None,
               ramp_cycles: int | None = None) -> int:
    """Whole cycles closest to ``minutes`` (at least one), so breathing never ends mid-breath;
    a ramp's quicker first cycles are counted as they are."""
    probe = Breathe(pattern, 1, ramp=ramp, ramp_cycles=ramp_cycles)
    goal, total, count = exact(minutes) * 60, Fraction(0), 0
    while True:
        length = sum(probe.phase_seconds(count))
        if total + length / 2 > goal and count:
            return count
        total += length
        count += 1
