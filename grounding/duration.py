"""How long an exercise really lasts, worked out from its steps without making a sound: the
spoken lines at an estimated speaking speed, the silences, the bells and the breathing.

An exercise file states its ``minutes``, but what it lasts is what its steps add up to; a
file can say one minute and hold hours. :func:`script_seconds` adds the steps up quickly
(a file of 100,000 steps in a fraction of a second) and stops as soon as the total passes
a limit, so a huge file costs no more than one just over it.
"""

from __future__ import annotations

from grounding.script import Bell, Breathe, Choice, Pause, Reflect, Script, Speak, exact

LONGEST = 3 * 60 * 60
"""The longest an exercise may last, seconds: far beyond any practice (the longest bundled
routine is under an hour), short enough that a file of a mistaken size is caught before
anything is spoken or written."""
BELL_SECONDS = 2.0
"""How long a bell step holds the cursor; the chime rings on, quietly, under what follows."""
CHARACTERS_PER_WORD = 10
"""A text is counted as at least one word for every this many characters: a run of letters
with no spaces is still read out, letter group by letter group."""
COUNTED_BELOW = 1_000_000
"""Texts shorter than this many characters have their words counted; a longer one is
counted by its characters alone, which already put it beyond any limit."""


def spoken_seconds(text: str, rate: int) -> float:
    """About how long ``text`` takes to say at ``rate`` words per minute."""
    words = len(text.split()) if len(text) < COUNTED_BELOW else 0
    return 0.25 + 60.0 * max(words, len(text) / CHARACTERS_PER_WORD) / rate


def script_seconds(script: Script, rate: int, limit: float = float("inf")) -> float:
    """About how long ``script`` lasts as written (holds kept) with a voice speaking at
    ``rate`` words per minute. Once the total passes ``limit`` it is returned at once: it is
    then only known to be more than ``limit``."""
    total = 0.0
    for step in script.steps:
        total += _step_seconds(step, rate, limit - total)
        if total > limit:
            break
    return total


def _step_seconds(step, rate: int, left: float) -> float:
    """About how long one step lasts; past ``left``, possibly only a part of it."""
    if isinstance(step, (Speak, Choice)):
        return spoken_seconds(step.text, rate) + step.after
    if isinstance(step, Reflect):
        return max(spoken_seconds(p, rate) for p in step.prompts) + step.after
    if isinstance(step, Pause):
        return step.seconds
    if isinstance(step, Bell):
        return BELL_SECONDS
    if isinstance(step, Breathe):
        longest = max((spoken_seconds(line, rate) for line in step.lines), default=0.0)
        return max(_breathing_seconds(step, left), longest)
    raise TypeError(f"not a step: {step!r}")


def _breathing_seconds(step: Breathe, left: float) -> float:
    """How long a breathing step's cycles last: at the pattern's pace, or cycle by cycle
    while a ramp speeds them up (stopping once past ``left``)."""
    cycle = step.pattern.cycle_seconds
    if step.ramp is None:
        return step.cycles * cycle
    pace = 60 / exact(cycle)
    total = 0.0
    for k in range(step.cycles):
        if step.rate_at(k) == pace:  # the ramp is over: the rest at the pattern's pace
            return total + (step.cycles - k) * cycle
        total += 60 / float(step.rate_at(k))
        if total > left:
            break
    return total
