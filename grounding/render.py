"""Timeline to sound: a generator of fixed-size float32 blocks, in constant memory.

The block contract: float32, shape ``(frames, 1)`` (mono; sinks spread it over their
channels), values in [-1, 1]. Every block holds ``blocksize`` frames except the last, which
holds what is left. The samples do not depend on the block size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from grounding import tones
from grounding.cache import PCM_SCALE, samples_of
from grounding.palette import Palette
from grounding.timeline import Timeline


@dataclass
class Mix:
    """Which layers sound, and how loud. The renderer reads it for every block, so a change
    (the ``v`` and ``t`` keys) is heard as soon as the blocks already queued have played."""

    volume: float = 0.7
    """Master gain, 0 to 1 (a linear amplitude factor on the palette's levels)."""
    voice: bool = True
    tones: bool = True
    noise: str | None = None
    """A noise bed under the pacer, ``brown`` or ``pink``, if the palette has one; it comes
    and goes with the tones."""

NOISE_IN_SECONDS, NOISE_OUT_SECONDS = 4.0, 2.0
"""The noise bed eases in at the start and out at the very end of a session."""


class _Active:
    """Events of one kind that overlap the current block, advanced block by block."""

    def __init__(self, events: list):
        self.events = events
        self.next = 0
        self.live: list = []

    def overlapping(self, start: int, end: int) -> list:
        """The events that sound somewhere in [start, end); windows must move forward."""
        while self.next < len(self.events) and self.events[self.next].start < end:
            self.live.append(self.events[self.next])
            self.next += 1
        self.live = [e for e in self.live if e.start + e.frames > start]
        return [e for e in self.live if e.start < end]


def render(timeline: Timeline, palette: Palette, mix: Mix | None = None,
           blocksize: int = 2048) -> Iterator[np.ndarray]:
    """Yield the whole timeline as blocks (see the module docstring for the contract)."""
    mix = mix if mix is not None else Mix()
    if blocksize < 1:
        raise ValueError("blocksize must be at least 1")
    pacer, chimes = _Pacer(timeline, palette), _Chimes(timeline, palette)
    voice = _Voice(timeline, palette)
    bed = _Bed(timeline, palette, mix.noise) if palette.noise is not None and mix.noise else None
    for start in range(0, timeline.frames, blocksize):
        end = min(start + blocksize, timeline.frames)
        voice_gain = voice.level * mix.voice
        out = np.zeros(end - start, dtype=np.float32)
        # the bed follows the pacer's pitch: how far up the breath is, 0 to 1
        fill = np.zeros(end - start, dtype=np.float32) if bed is not None and mix.tones else None
        if mix.tones:
            pacer.add(out, start, end, fill, ducked=bool(voice_gain))
            chimes.add(out, start, end)
        if fill is not None:
            out += bed.samples(fill, start, end)
        voice.add(out, start, end, voice_gain)
        _level(out, start, end, timeline)
        out *= np.float32(mix.volume)
        np.clip(out, -1.0, 1.0, out=out)
        yield out.reshape(-1, 1)


def _level(out: np.ndarray, start: int, end: int, timeline: Timeline) -> None:
    """Apply the session's level (the steps' ``level``: 0 dB until the first change)."""
    if timeline.levels and end > timeline.levels[0].start:
        gain = tones.level_gain(start, end, timeline.levels)
        out *= gain if isinstance(gain, np.ndarray) else np.float32(gain)


class _Pacer:
    """The breath tones, dipping while the voice speaks."""

    def __init__(self, timeline: Timeline, palette: Palette):
        self.tone = palette.tone
        self.samplerate = timeline.samplerate
        self.weights = self.tone.weights
        self.depth = 1 - 10 ** (self.tone.duck_db / 20)
        self.ramp = max(1, round(self.tone.duck_seconds * self.samplerate))
        """Frames over which the dip goes down before a line and comes up after it."""
        self.tones, self.lines = _Active(timeline.tones), _Active(timeline.clips)

    def add(self, out: np.ndarray, start: int, end: int, fill: np.ndarray | None,
            ducked: bool) -> None:
        """Add the tones sounding in [start, end) to ``out``, dipped around the lines if
        ``ducked``; write into ``fill`` (if given) how far up the breath each sample is."""
        playing = self.tones.overlapping(start, end)
        if not playing:
            return
        tone = self.tone
        pacer = np.zeros(end - start, dtype=np.float32)
        for t in playing:
            lo, hi = max(start, t.start), min(end, t.start + t.frames)
            offsets = np.arange(lo - t.start, hi - t.start, dtype=np.float64)
            pacer[lo - start:hi - start] += tones.glide(
                offsets, t.frames, self.samplerate, f0=t.f0, f1=t.f1, a0=t.a0, a1=t.a1,
                settle=t.settle, phase0=t.phase0, weights=self.weights, shape=tone.glide)
            if fill is not None:  # how far up the breath is: where its pitch is
                x = (offsets / t.frames).astype(np.float32)
                pitch = t.f0 + (t.f1 - t.f0) * tones.ease(x, tone.glide)
                fill[lo - start:hi - start] = (pitch - tone.low_hz) / (tone.high_hz
                                                                       - tone.low_hz)
        ramp = self.ramp
        nearby = self.lines.overlapping(start - ramp, end + ramp) if ducked else []
        if nearby:
            positions = np.arange(start, end, dtype=np.float64)
            ranges = [(c.start, c.start + c.frames) for c in nearby]
            dip = self.depth * tones.duck_weight(positions, ranges, ramp)
            pacer *= (1 - dip).astype(np.float32)
        out += pacer


class _Chimes:
    """The bell."""

    def __init__(self, timeline: Timeline, palette: Palette):
        self.bell = palette.bell
        self.level = 10 ** (self.bell.level_db / 20)
        self.samplerate = timeline.samplerate
        self.chimes = _Active(timeline.chimes)

    def add(self, out: np.ndarray, start: int, end: int) -> None:
        """Add the chimes ringing in [start, end) to ``out``."""
        bell = self.bell
        for c in self.chimes.overlapping(start, end):
            lo, hi = max(start, c.start), min(end, c.start + c.frames)
            offsets = np.arange(lo - c.start, hi - c.start, dtype=np.float64)
            out[lo - start:hi - start] += tones.chime(
                offsets, self.samplerate, hz=bell.hz, partials=bell.partials,
                decay_seconds=bell.decay_seconds, frames=c.frames, level=self.level)


class _Voice:
    """The spoken lines, each read from the cache when it starts and let go when it ends."""

    def __init__(self, timeline: Timeline, palette: Palette):
        self.level = 10 ** (palette.voice.level_db / 20) / PCM_SCALE  # clips are 16-bit
        """Gain from a clip's 16-bit samples to the mix."""
        self.clips = _Active(timeline.clips)
        self.sounding: dict = {}  # clip -> its samples, from its first block to its last

    def add(self, out: np.ndarray, start: int, end: int, gain: float) -> None:
        """Add the lines spoken in [start, end) to ``out`` at ``gain`` (none if 0)."""
        speaking = self.clips.overlapping(start, end)
        if len(self.sounding) > len(speaking):  # let go of the lines that have been said
            self.sounding = {c: self.sounding[c] for c in speaking if c in self.sounding}
        if not gain:
            return
        for c in speaking:
            if c not in self.sounding:  # read now: the render runs ahead of the device
                self.sounding[c] = samples_of(c.samples)
            lo, hi = max(start, c.start), min(end, c.start + c.frames)
            out[lo - start:hi - start] += (np.float32(gain)
                                           * self.sounding[c][lo - c.start:hi - c.start])


class _Bed:
    """The noise bed (``Mix.noise``), louder as the breath rises, eased in at the start and
    out at the very end."""

    def __init__(self, timeline: Timeline, palette: Palette, colour: str):
        bed = palette.noise
        self.noise = tones.NoiseBed(colour, timeline.samplerate, bed.low_hz, bed.high_hz)
        self.low = 10 ** (bed.level_db / 20)
        self.high = 10 ** ((bed.level_db + bed.swell_db) / 20)
        self.fade_in = NOISE_IN_SECONDS * timeline.samplerate
        self.fade_out = NOISE_OUT_SECONDS * timeline.samplerate
        self.total = timeline.frames

    def samples(self, fill: np.ndarray, start: int, end: int) -> np.ndarray:
        """The bed over [start, end): from ``level_db`` at ``fill`` 0 to ``swell_db`` above
        it at ``fill`` 1, straight in amplitude."""
        level = np.float32(self.low) + np.float32(self.high - self.low) * fill
        if start < self.fade_in or end > self.total - self.fade_out:
            positions = np.arange(start, end)
            edges = np.minimum(positions / self.fade_in, (self.total - positions) / self.fade_out)
            level *= tones.ease(np.clip(edges, 0.0, 1.0), "ease").astype(np.float32)
        return self.noise.samples(start, end) * level
