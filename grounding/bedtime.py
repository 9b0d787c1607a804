"""The bedtime routine (docs/protocols.md card F2, docs/sound.md §5.3): its parts are exercise
files in ``scripts/bedtime/``; this module sizes them to the minutes asked for and says how the
night voice differs from the day's. The whole routine is one exercise, so it plays as one
continuous sound that ends in silence."""

from __future__ import annotations

from dataclasses import replace

from grounding.defaults import BEDTIME_LONGEST, BEDTIME_MINUTES, BEDTIME_PACE
from grounding.errors import UsageError
from grounding.paths import bundled
from grounding.script import Breathe, Pause, Script, Speak, cycles_for
from grounding.scriptfile import load_script
from grounding.speech import spoken_seconds

MINUTES, PACE, LONGEST = BEDTIME_MINUTES, BEDTIME_PACE, BEDTIME_LONGEST
"""The usual length, the pace to start from and the longest ``--tones-until`` (see
grounding.defaults)."""
GUIDED_MOST = 16.0
"""The breathing and body scan together last at most this long, minutes (F2: 5-10 + 6-10)."""
GLIDE_SHARE, GLIDE_MOST = 0.4, 4.0
"""The pace glides down over this share of the guided part, and at most this many minutes."""
RATE_FACTOR = 0.85
"""The night voice speaks this much slower than the day's (docs/sound.md §5.3)."""
PITCH = 40
"""The night voice's pitch (espeak's usual is 50): a little lower."""


def part(name: str) -> Script:
    """One part of the routine, from ``scripts/bedtime/NAME.toml``."""
    return load_script(bundled("scripts") / "bedtime" / f"{name}.toml")


def night_rate(day_rate: int) -> int:
    """The speaking rate at night, from the day's, words per minute."""
    return max(80, round(day_rate * RATE_FACTOR))


def _spoken_minutes(steps, rate: int) -> float:
    """About how long the speak and pause steps take, minutes (words at ``rate`` plus their
    silences; the real lengths come from the voice, so the total is approximate)."""
    seconds = 0.0
    for step in steps:
        if isinstance(step, Speak):
            seconds += spoken_seconds(step.text, rate) + step.after
        elif isinstance(step, Pause):
            seconds += step.seconds
    return seconds / 60


def _unspoken(script: Script) -> Script:
    """A part without the lines it says before its breathing (its pauses stay)."""
    first = next((n for n, s in enumerate(script.steps) if isinstance(s, Breathe)),
                 len(script.steps))
    kept = tuple(s for s in script.steps[:first] if not isinstance(s, Speak))
    return replace(script, steps=kept + script.steps[first:])


def bedtime_script(minutes: float = MINUTES, pace: float = PACE,
                   tones_until: float | None = None, rate: int = 128,
                   voiced: bool = True) -> Script:
    """The whole routine, about ``minutes`` long (``tones_until``: the drift goes on until
    then): arriving, breathing that glides from ``pace`` down to the pattern's pace with a body
    scan over it, a drift with tones only, and a fade to silence over the last 1 to 3
    minutes. ``rate`` is the voice's, used to estimate how long the words take. Without a
    voice (``voiced`` false) the words before the first breath are left out, as they would
    only be a long silence: the tone begins at once, and the breathing fills their time."""
    if tones_until is not None and tones_until < minutes:
        raise UsageError(f"--tones-until is when the tones stop, so it cannot be before the "
                         f"routine's own end ({minutes:g} minutes).")
    arrive, guide, drift = part("arrive"), part("guide"), part("drift")
    if not voiced:
        arrive, guide = _unspoken(arrive), _unspoken(guide)
    spoken = _spoken_minutes(arrive.steps + guide.steps + drift.steps, rate)
    fade = min(3.0, max(1.0, 0.1 * minutes))
    rest = minutes - spoken - fade
    guided = min(GUIDED_MOST, 0.62 * rest)
    drifting = rest - guided + ((tones_until - minutes) if tones_until is not None else 0.0)
    breathing = next(s for s in guide.steps if isinstance(s, Breathe))
    target = breathing.pattern.per_minute
    if not target <= pace <= 10:
        raise UsageError(f"--pace is the easy pace to start from, in breaths a minute: "
                         f"{target:g} to 10.")
    glide = None
    if pace > target:
        seconds = min(GLIDE_SHARE * guided, GLIDE_MOST) * 60
        glide = max(1, round(seconds / (30 / pace + 30 / target)))  # at the mean cycle
    cycles = max(cycles_for(breathing.pattern, guided, pace if glide else None, glide),
                 breathing.cue_cycles + 2 * len(breathing.lines))
    guided_step = replace(breathing, cycles=cycles, ramp=pace if glide else None,
                          ramp_cycles=glide)
    drifting -= float(guided_step.seconds()) / 60 - guided  # the guide's whole breaths
    guide_steps = tuple(guided_step if s is breathing else s for s in guide.steps)
    drift_steps, sized = [], iter((drifting, fade))
    for step in drift.steps:
        if isinstance(step, Breathe):
            step = replace(step, cycles=cycles_for(step.pattern, max(1.0, next(sized))))
        drift_steps.append(step)
    steps = arrive.steps + guide_steps + tuple(drift_steps)
    total = tones_until if tones_until is not None else minutes
    return Script(name="bedtime", title="Bedtime", summary="A slow, quiet wind-down that "
                  "fades to silence by itself.", minutes=round(total, 1), tags=("sleep",),
                  holds=False, source="docs/protocols.md card F2", steps=steps)
