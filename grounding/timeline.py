"""The timeline: every word, tone and chime at a whole-sample start, built from a script.

Seconds become frames exactly once, here, with ``round()``. Breath phases are placed from the
exact cycle arithmetic (fractions of a second times the rate), never by adding rounded lengths,
so the pacing cannot drift however long a session runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Mapping

from grounding.breath import HOLD, IN, OUT, PHASE_NAMES, REST, TOP
from grounding.cache import SpeechClip
from grounding.duration import BELL_SECONDS
from grounding.palette import Palette
from grounding.script import Bell, Breathe, Choice, Pause, Script, Speak, phase_cues
from grounding.tones import glide_end_phase


SIGH_STEP = 0.8
"""A sigh's first in-breath rises this far (0 to 1) towards the top pitch; the small second
breath rises the rest of the way (docs/sound.md §5.1: a big step, then a small step)."""


@dataclass(frozen=True)
class Tone:
    """One breath phase of the pacer."""

    start: int
    """First frame."""
    frames: int
    kind: str
    """``in``, ``top``, ``hold``, ``out`` or ``rest`` (see grounding.breath)."""
    cycle: int
    """Which cycle of its breathing step (from 0)."""
    f0: float
    """Pitch at the start, Hz."""
    f1: float
    """Pitch at the end, Hz."""
    a0: float
    """Level at the start, linear."""
    a1: float
    """Level reached after ``settle`` frames, linear."""
    settle: int
    """Frames over which the level moves."""
    phase0: float
    """Oscillator phase at the start, radians."""


@dataclass(frozen=True, eq=False)
class Clip:
    """A spoken line."""

    start: int
    frames: int
    text: str
    samples: SpeechClip
    """Mono 16-bit at the timeline's rate (full scale ``cache.PCM_SCALE``), in memory or in
    the cache, to be read when it plays; all zeros for a silent voice."""
    cue: bool = False
    """A cue word on a breath phase ("in", "two"), not a line to show as a caption."""


@dataclass(frozen=True)
class Chime:
    """A bell."""

    start: int
    frames: int


@dataclass(frozen=True)
class Level:
    """A change of the whole session's level: from ``db0`` to ``db1`` over ``frames``."""

    start: int
    frames: int
    db0: float
    db1: float
    """``-inf`` is silence, reached with an equal-power curve."""


@dataclass(frozen=True)
class Offer:
    """A choice the listener may take from ``start`` on (the end of its spoken offer)."""

    start: int
    offers: str


@dataclass
class Timeline:
    """Everything that sounds, at whole-sample positions, sorted by start."""

    samplerate: int
    frames: int
    tones: list[Tone] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)
    chimes: list[Chime] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    """Changes of the session's level, in order; 0 dB before the first."""
    glide: str = "ease"
    """How every tone moves from its start pitch to its end pitch (the palette's glide, see
    ``tones.ease``), so what is shown can follow what is heard."""

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return self.frames / self.samplerate

    def events(self) -> list[Event]:
        """Every bell, breath phase, spoken line and offer, in time order (the order
        ``--dry-run`` prints them in: at one frame, a bell, then a phase, then a line, then an
        offer; lines at one frame, by their text)."""
        found = ([(c.start, 0, Event("bell", c.start, c.frames)) for c in self.chimes]
                 + [(t.start, 1, Event("breath", t.start, t.frames, phase=t.kind,
                                       breath=t.cycle + 1)) for t in self.tones]
                 + [(c.start, 2, Event("speech", c.start, c.frames, text=c.text, cue=c.cue))
                    for c in self.clips]
                 + [(o.start, 3, Event("offer", o.start, 0, text=o.offers))
                    for o in self.offers])
        found.sort(key=lambda e: (e[0], e[1], e[2].text or ""))
        return [event for _, _, event in found]

    def describe(self) -> list[str]:
        """One line per event, in time order: ``m:ss.s  what`` (for ``--dry-run``)."""
        def what(e: Event) -> str:
            if e.kind == "breath":
                return (f"{PHASE_NAMES[e.phase]:<5} {e.frames / self.samplerate:.2f} s"
                        f"   (breath {e.breath})")
            return {"bell": "bell", "speech": f"says  {e.text}", "offer": f"offer {e.text}"}[
                e.kind]

        def clock(frames: int) -> str:
            tenths = round(10 * frames / self.samplerate)
            return f"{tenths // 600}:{tenths % 600 / 10:04.1f}"

        lines = [f"{clock(e.start)}  {what(e)}" for e in self.events()]
        return lines + [f"{clock(self.frames)}  end"]


@dataclass(frozen=True)
class Event:
    """One thing on the timeline as ``--dry-run`` tells it: its ``kind`` (``bell``,
    ``breath``, ``speech`` or ``offer``), its first frame and length in frames (0 for an
    offer, which is a moment), and what it is."""

    kind: str
    start: int
    frames: int
    phase: str | None = None
    """A breath's phase: ``in``, ``top``, ``hold``, ``out`` or ``rest`` (grounding.breath)."""
    breath: int | None = None
    """Which breath of its breathing step, from 1."""
    text: str | None = None
    """What is said, or for an offer, what it offers."""
    cue: bool = False
    """A spoken cue word on a breath phase rather than a line of the exercise."""


def frames_of(seconds: float | Fraction, samplerate: int) -> int:
    """Seconds to whole frames, rounding exactly (floats are read as the decimal they print)."""
    exact = seconds if isinstance(seconds, Fraction) else Fraction(repr(float(seconds)))
    return round(exact * samplerate)


def build_timeline(script: Script, clips: Mapping[str, SpeechClip], palette: Palette,
                   samplerate: int) -> Timeline:
    """Place every step of ``script`` on a timeline at ``samplerate``.

    ``clips`` maps each text of ``script.texts()`` to its mono 16-bit samples at that rate.
    Breathing steps that follow one another join into one continuous pacer.
    """
    timeline = Timeline(samplerate, 0, glide=palette.tone.glide)
    cursor = 0
    pacer = _Pacer()
    for n, step in enumerate(script.steps):
        if isinstance(step, (Speak, Choice)):
            clip = _clip(timeline, clips, step.text, cursor)
            cursor = clip.start + clip.frames + frames_of(step.after, samplerate)
            if isinstance(step, Choice):
                timeline.offers.append(Offer(clip.start + clip.frames, step.offers))
        elif isinstance(step, Pause):
            cursor += frames_of(step.seconds, samplerate)
        elif isinstance(step, Bell):
            length = frames_of(round(palette.bell.seconds, 3), samplerate)
            timeline.chimes.append(Chime(cursor, length))
            cursor += frames_of(BELL_SECONDS, samplerate)
        else:
            joins = n + 1 < len(script.steps) and isinstance(script.steps[n + 1], Breathe)
            end = _breathe(timeline, step, clips, palette, cursor, pacer, joins)
            if step.level_db is not None:
                timeline.levels.append(Level(cursor, end - cursor, pacer.db, step.level_db))
                pacer.db = step.level_db
            cursor = end
        if not isinstance(step, Breathe):
            pacer.level, pacer.phase = 0.0, 0.0
    timeline.tones.sort(key=lambda e: e.start)
    timeline.clips.sort(key=lambda e: e.start)
    ends = [cursor] + [e.start + e.frames for e in (*timeline.tones, *timeline.clips,
                                                     *timeline.chimes)]
    timeline.frames = max(ends)
    return timeline


@dataclass
class _Pacer:
    """What carries over from one breathing step to the next."""

    level: float = 0.0
    """The pacer's level where the last step ended (0 unless steps join)."""
    phase: float = 0.0
    """The oscillator's phase there, radians."""
    range: float = 1.0
    """The share of the palette's pitch range in use."""
    db: float = 0.0
    """The session's level, dB."""


def _clip(timeline: Timeline, clips: Mapping[str, SpeechClip], text: str, start: int,
          cue: bool = False) -> Clip:
    samples = clips[text]
    clip = Clip(start, len(samples), text, samples, cue)
    timeline.clips.append(clip)
    return clip


def _breathe(timeline: Timeline, step: Breathe, clips: Mapping[str, SpeechClip],
             palette: Palette, start: int, pacer: _Pacer, joins: bool) -> int:
    """Place one breathing step from ``start``; the end frame. The pacer fades to nothing at
    the end unless the next step is breathing too (``joins``)."""
    sr = timeline.samplerate
    tone = palette.tone
    gains = {HOLD: tone.hold_db, OUT: tone.floor_db, REST: tone.rest_db}
    settle = max(1, frames_of(tone.settle_seconds, sr))
    delay = frames_of(step.line_delay, sr)
    phases = step.pattern.phases
    line_cycles = _line_cycles(step)
    level, phase = pacer.level, pacer.phase
    first_range = pacer.range
    last_range = first_range if step.pitch_range is None else step.pitch_range
    elapsed = Fraction(0)  # exact seconds since the step began
    for k in range(step.cycles):
        narrowed = first_range + (last_range - first_range) * (k + 1) / step.cycles
        low, high = tone.low_hz, tone.low_hz + narrowed * (tone.high_hz - tone.low_hz)
        for j, (p, seconds) in enumerate(zip(phases, step.phase_seconds(k))):
            onset = start + frames_of(elapsed, sr)
            elapsed += seconds
            length = start + frames_of(elapsed, sr) - onset
            last = k == step.cycles - 1 and j == len(phases) - 1 and not joins
            target = 0.0 if last else tone.peak * 10 ** ((gains.get(p.kind, 0.0)
                                                          + step.tone_db) / 20)
            f0 = low if p.kind in (IN, REST) else high
            f1 = high if p.kind in (IN, TOP, HOLD) else low
            if p.kind == IN and j + 1 < len(phases) and phases[j + 1].kind == TOP:
                f1 = low + SIGH_STEP * (high - low)
                target *= SIGH_STEP
            if p.kind == TOP:
                f0 = low + SIGH_STEP * (high - low)
            moves = length if p.kind in (IN, TOP, OUT) else min(settle, length)
            timeline.tones.append(Tone(onset, length, p.kind, k, f0, f1, level, target,
                                       moves, phase))
            level, phase = target, glide_end_phase(phase, length, sr, f0, f1)
            if k < step.cue_cycles:
                for n, word in enumerate(phase_cues(step, replace(p, seconds=float(seconds)))):
                    _clip(timeline, clips, word, onset + n * sr, cue=True)
            if p.kind == OUT and k in line_cycles:
                _clip(timeline, clips, step.lines[line_cycles[k]], onset + delay)
    pacer.level, pacer.phase, pacer.range = level, phase, last_range
    return start + frames_of(elapsed, sr)


def _line_cycles(step: Breathe) -> dict[int, int]:
    """Which cycle's out-breath carries each line, after the cue cycles: spread evenly, or
    (``widening``) with gaps that never shrink, growing as i^0.6 (so line i of n sits near
    (i/n)^1.6 of the way), and at least WIDENING_GAP breaths where that fits."""
    if not step.lines:
        return {}
    count = len(step.lines)
    first = max(0, min(step.cue_cycles, step.cycles - count))  # each line a cycle of its own
    free = step.cycles - first
    if step.spacing == "even" or count == 1:
        return {first + (i * free) // count: i for i in range(count)}
    span = free - 1  # the last line still gets an out-breath of its own
    weights = [((i + 1) / (count - 1)) ** (WIDENING - 1) for i in range(count - 1)]
    for least in (WIDENING_GAP, 1, 0):
        gaps = [max(least, int(span * w / sum(weights))) for w in weights]
        if sum(gaps) <= span:
            break
    cycles = [first]
    for gap in gaps:
        cycles.append(cycles[-1] + max(1, gap))
    return {cycle: i for i, cycle in enumerate(cycles)}


WIDENING = 1.6
"""The power of ``widening`` spacing: line i of n sits at (i/n)^1.6 of the way."""
WIDENING_GAP = 2
"""With ``widening`` spacing, lines are this many breaths apart at least, where they fit."""
