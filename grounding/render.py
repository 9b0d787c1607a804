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
    sr = timeline.samplerate
    tone = palette.tone
    weights = tone.weights
    voice_level = 10 ** (palette.voice.level_db / 20) / PCM_SCALE  # clips are 16-bit
    bell = palette.bell
    bell_level = 10 ** (bell.level_db / 20)
    duck_depth = 1 - 10 ** (tone.duck_db / 20)
    ramp = max(1, round(tone.duck_seconds * sr))
    active_tones, active_clips = _Active(timeline.tones), _Active(timeline.clips)
    active_chimes, ducking = _Active(timeline.chimes), _Active(timeline.clips)
    sounding: dict = {}  # clip -> its samples, from its first block to its last
    bed = palette.noise if mix.noise else None
    noise = (tones.NoiseBed(mix.noise, sr, bed.low_hz, bed.high_hz) if bed is not None
             else None)
    for start in range(0, timeline.frames, blocksize):
        end = min(start + blocksize, timeline.frames)
        voice_gain = voice_level * mix.voice
        out = np.zeros(end - start, dtype=np.float32)
        playing = active_tones.overlapping(start, end) if mix.tones else []
        fill = np.zeros(end - start, dtype=np.float32) if bed is not None and mix.tones else None
        if playing:
            pacer = np.zeros(end - start, dtype=np.float32)
            for t in playing:
                lo, hi = max(start, t.start), min(end, t.start + t.frames)
                offsets = np.arange(lo - t.start, hi - t.start, dtype=np.float64)
                pacer[lo - start:hi - start] += tones.glide(
                    offsets, t.frames, sr, f0=t.f0, f1=t.f1, a0=t.a0, a1=t.a1,
                    settle=t.settle, phase0=t.phase0, weights=weights, shape=tone.glide)
                if fill is not None:  # how far up the breath is: where its pitch is
                    x = (offsets / t.frames).astype(np.float32)
                    pitch = t.f0 + (t.f1 - t.f0) * tones.ease(x, tone.glide)
                    fill[lo - start:hi - start] = (pitch - tone.low_hz) / (tone.high_hz
                                                                           - tone.low_hz)
            # the dip starts `ramp` frames before a line and ends `ramp` frames after it
            nearby = ducking.overlapping(start - ramp, end + ramp) if voice_gain else []
            if nearby:
                positions = np.arange(start, end, dtype=np.float64)
                ranges = [(c.start, c.start + c.frames) for c in nearby]
                dip = duck_depth * tones.duck_weight(positions, ranges, ramp)
                pacer *= (1 - dip).astype(np.float32)
            out += pacer
        for c in active_chimes.overlapping(start, end) if mix.tones else ():
            lo, hi = max(start, c.start), min(end, c.start + c.frames)
            offsets = np.arange(lo - c.start, hi - c.start, dtype=np.float64)
            out[lo - start:hi - start] += tones.chime(
                offsets, sr, hz=bell.hz, partials=bell.partials,
                decay_seconds=bell.decay_seconds, frames=c.frames, level=bell_level)
        if fill is not None:
            out += _noise(noise, bed, fill, start, end, timeline.frames, sr)
        speaking = active_clips.overlapping(start, end)
        if len(sounding) > len(speaking):  # let go of the lines that have been said
            sounding = {c: sounding[c] for c in speaking if c in sounding}
        if voice_gain:
            for c in speaking:
                if c not in sounding:  # read now: the render runs ahead of the device
                    sounding[c] = samples_of(c.samples)
                lo, hi = max(start, c.start), min(end, c.start + c.frames)
                out[lo - start:hi - start] += (np.float32(voice_gain)
                                               * sounding[c][lo - c.start:hi - c.start])
        if timeline.levels and end > timeline.levels[0].start:
            gain = tones.level_gain(start, end, timeline.levels)
            out *= gain if isinstance(gain, np.ndarray) else np.float32(gain)
        out *= np.float32(mix.volume)
        np.clip(out, -1.0, 1.0, out=out)
        yield out.reshape(-1, 1)



def _noise(noise, bed, fill: np.ndarray, start: int, end: int, total: int,
           samplerate: int) -> np.ndarray:
    """The noise bed over [start, end), louder as the breath rises (``fill``, 0 to 1: from
    ``level_db`` to ``swell_db`` above it, straight in amplitude), eased in at the start and
    out at the very end."""
    low = 10 ** (bed.level_db / 20)
    high = 10 ** ((bed.level_db + bed.swell_db) / 20)
    level = np.float32(low) + np.float32(high - low) * fill
    fade_in, fade_out = NOISE_IN_SECONDS * samplerate, NOISE_OUT_SECONDS * samplerate
    if start < fade_in or end > total - fade_out:
        positions = np.arange(start, end)
        edges = np.minimum(positions / fade_in, (total - positions) / fade_out)
        level *= tones.ease(np.clip(edges, 0.0, 1.0), "ease").astype(np.float32)
    return noise.samples(start, end) * level
