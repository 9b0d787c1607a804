"""Timeline to sound: a generator of fixed-size float32 blocks, in constant memory.

The block contract: float32, shape ``(frames, 1)`` (mono; sinks spread it over their
channels), values in [-1, 1]. Every block holds ``blocksize`` frames except the last, which
holds what is left. The samples do not depend on the block size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from grounding import loudness, tones
from grounding.cache import PCM_SCALE, samples_of
from grounding.defaults import VOLUME
from grounding.palette import Palette
from grounding.recording import LOUDNESS_TARGET
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
    loudness: float | None = None
    """The programme loudness, LUFS: the whole session is scaled so that at the usual volume
    (grounding.defaults.VOLUME) its integrated loudness is this, moved by the palette's
    ``offset_db`` (the night's is quieter). None leaves the palette's levels as they are."""
    gain: float | None = None
    """The session's gain, fixed (:func:`session_gain` of a whole that is played in parts,
    so each part keeps its level in the whole); None: worked out from the timeline."""


DEVICE_LOUDNESS = -24.0
"""The programme loudness on the sound card, LUFS at the usual volume: about where sessions
sat before they were levelled."""
FILE_LOUDNESS = -18.0
"""The programme loudness of a file (``--out``), LUFS at the usual volume: a phone's (AES
TD1008 suggests -16 to -20 LUFS for streamed speech), its peaks below -1 dBTP."""
USUAL_VOLUME = VOLUME / 100
"""The volume at which a levelled session meets its programme loudness."""

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
           blocksize: int = 2048,
           follow: Callable[[int], Timeline] | None = None) -> Iterator[np.ndarray]:
    """Yield the whole timeline as blocks (see the module docstring for the contract).

    ``follow`` is for a timeline that is still growing (lines still being made while it
    plays): before each block it is given the frame the block would end at, and returns the
    timeline to go on with, the same as the last one up to that frame (it waits until it
    can). The session's gain stays the one worked out from the first."""
    mix = mix if mix is not None else Mix()
    if blocksize < 1:
        raise ValueError("blocksize must be at least 1")
    gain = np.float32(session_gain(timeline, palette, mix))

    def layers(timeline: Timeline) -> tuple[_Pacer, _Chimes, _Voice, _Bed | None]:
        return (_Pacer(timeline, palette), _Chimes(timeline, palette), _Voice(timeline, palette),
                _Bed(timeline, palette, mix.noise) if palette.noise is not None and mix.noise
                else None)

    pacer, chimes, voice, bed = layers(timeline)
    start = 0
    while start < timeline.frames:
        if follow is not None:
            newer = follow(min(start + blocksize, timeline.frames))
            if newer is not timeline:  # the same up to here: its layers take over from here
                timeline = newer
                pacer, chimes, voice, bed = layers(timeline)
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
        out *= gain * np.float32(mix.volume)
        np.clip(out, -1.0, 1.0, out=out)
        yield out.reshape(-1, 1)
        start = end


def session_gain(timeline: Timeline, palette: Palette, mix: Mix) -> float:
    """The factor that brings the session to ``mix.loudness`` (plus the palette's offset) at
    the usual volume, from its estimated loudness (:func:`estimated_loudness`); 1 if it is
    not to be levelled, or is silent; ``mix.gain`` if that is fixed."""
    if mix.gain is not None:
        return mix.gain
    if mix.loudness is None:
        return 1.0
    measured = estimated_loudness(timeline, palette, mix)
    if not math.isfinite(measured):
        return 1.0
    target = mix.loudness + palette.offset_db
    return 10 ** ((target - measured) / 20) / USUAL_VOLUME


ESTIMATE_SECONDS = 0.025
"""The estimate of a session's loudness works out each layer's power this often."""
ESTIMATE_CHUNK = 4096
"""Points of the estimate worked out at a time (about 100 s)."""


def estimated_loudness(timeline: Timeline, palette: Palette, mix: Mix) -> float:
    """The integrated loudness (BS.1770, LUFS) the session will have at volume 1, worked
    out from the timeline before anything is rendered: the K-weighted power of each layer
    that ``mix`` lets sound, every ESTIMATE_SECONDS, from what is known of it (each line is
    at the clips' loudness target; the pacer's level and pitch, the chime's partials and
    the noise bed's spectrum are known exactly), added as powers of unrelated sounds, then
    gated in 400 ms blocks as the measurement is. It takes milliseconds, not a render."""
    rate = timeline.samplerate
    step = max(1, round(ESTIMATE_SECONDS * rate))
    count = -(-timeline.frames // step)
    power = np.empty(count, dtype=np.float32)  # (an hour: half a MiB)
    layers = _Layers(timeline, palette, mix)
    for lo in range(0, count, ESTIMATE_CHUNK):  # a piece at a time: memory stays small
        positions = np.arange(lo, min(count, lo + ESTIMATE_CHUNK), dtype=np.float64) * step
        power[lo:lo + len(positions)] = layers.power(positions)
    per = round(0.1 * rate) / step  # steps a quarter block (100 ms), about 4
    quarters = int(len(power) / per)
    if quarters < 4:
        return -math.inf if not power.any() else -0.691 + 10 * math.log10(float(power.mean()))
    edges = np.round(np.arange(quarters + 1) * per).astype(int)
    quarter = np.add.reduceat(power, edges[:-1], dtype=np.float64) / np.diff(edges)
    blocks = (quarter[:-3] + quarter[1:-2] + quarter[2:-1] + quarter[3:]) / 4
    return loudness.gated(blocks)


class _Layers:
    """What the estimate needs of a session's layers, worked out once for the whole
    session (the estimate then goes through it a piece at a time)."""

    def __init__(self, timeline: Timeline, palette: Palette, mix: Mix):
        self.timeline, self.palette, self.mix = timeline, palette, mix
        self.bed = (_bed_weight(timeline, palette, mix.noise)
                    if mix.tones and palette.noise is not None and mix.noise else None)
        """The noise bed's K-weighting, if it sounds."""
        self.weights = palette.tone.weights
        tones_ = timeline.tones
        self.starts = np.array([e.start for e in tones_], dtype=np.float64)
        self.tone = {name: np.array([getattr(t, name) for t in tones_], dtype=np.float64)
                     for name in ("start", "frames", "settle", "f0", "f1", "a0", "a1")}
        """Each breath tone's numbers, as arrays."""
        clips = timeline.clips
        self.clip_starts = np.array([c.start for c in clips], dtype=np.int64)
        self.clip_ends = np.array([c.start + c.frames for c in clips], dtype=np.int64)
        self.spoken = [i for i, c in enumerate(clips)
                       if not (isinstance(c.samples, np.ndarray) and not c.samples.any())]
        """The lines that are heard (a silent voice's lines are all zeros in memory)."""
        chimes = timeline.chimes
        self.chime_starts = np.array([c.start for c in chimes], dtype=np.int64)
        self.chime_ends = np.array([c.start + c.frames for c in chimes], dtype=np.int64)
        bell = palette.bell
        self.partials = [(ratio, a, float(loudness.k_power(np.array([bell.hz * ratio]),
                                                           timeline.samplerate)[0]))
                         for ratio, a in bell.partials]
        """Each partial of the bell with the K-weighting's power gain at its frequency."""

    def power(self, positions: np.ndarray) -> np.ndarray:
        """The K-weighted power of the layers the mix lets sound at ``positions``."""
        timeline, palette, mix = self.timeline, self.palette, self.mix
        rate = timeline.samplerate
        power = np.zeros(len(positions))
        if mix.tones:
            pitch, level = self._pacer_curves(positions)
            if mix.voice:
                level *= 1 - (1 - 10 ** (palette.tone.duck_db / 20)) * self._duck(positions)
            harmonic = sum((w * w / 2) * loudness.k_power((k + 1) * pitch, rate)
                           for k, w in enumerate(self.weights) if w)
            power += level ** 2 * harmonic
            power += self._chime_power(positions)
            if self.bed is not None:
                power += _bed_power(timeline, palette, positions, pitch) * self.bed
        if mix.voice:
            power += self._voice_power(positions)
        if timeline.levels:
            power *= tones.exact_level(positions, timeline.levels) ** 2
        return power

    def _pacer_curves(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pacer's pitch (Hz, 0 where silent) and level (its waveform's peak, as the
        palette weights are scaled) at ``positions``, as :func:`grounding.tones.glide` makes
        them."""
        timeline = self.timeline
        pitch, level = np.zeros(len(positions)), np.zeros(len(positions))
        if not timeline.tones:
            return pitch, level
        which = np.searchsorted(self.starts, positions, side="right") - 1
        inside = which >= 0
        e = {name: values[which[inside]] for name, values in self.tone.items()}
        offset = positions[inside] - e["start"]
        sounding = offset < e["frames"]
        x = tones.ease(np.clip(offset / e["frames"], 0.0, 1.0), timeline.glide)
        y = tones.ease(np.clip(offset / np.maximum(e["settle"], 1.0), 0.0, 1.0),
                       timeline.glide)
        pitch[inside] = np.where(sounding, e["f0"] + (e["f1"] - e["f0"]) * x, 0.0)
        level[inside] = np.where(sounding, e["a0"] + (e["a1"] - e["a0"]) * y, 0.0)
        return pitch, level

    @staticmethod
    def _within(positions: np.ndarray, starts: np.ndarray,
                ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each range [start, end), where ``positions`` enter and leave it."""
        return np.searchsorted(positions, starts), np.searchsorted(positions, ends)

    def _duck(self, positions: np.ndarray) -> np.ndarray:
        """How far (0 to 1) the pacer is dipped under the lines at ``positions``."""
        ramp = max(1, round(self.palette.tone.duck_seconds * self.timeline.samplerate))
        weight = np.zeros(len(positions))
        los, his = self._within(positions, self.clip_starts - ramp, self.clip_ends + ramp)
        for i in np.flatnonzero(los < his):
            c, lo, hi = self.timeline.clips[i], los[i], his[i]
            np.maximum(weight[lo:hi], tones.duck_weight(
                positions[lo:hi], [(c.start, c.start + c.frames)], ramp), out=weight[lo:hi])
        return weight

    def _voice_power(self, positions: np.ndarray) -> np.ndarray:
        """The lines' K-weighted power at ``positions``: each at the clips' loudness target
        over its length."""
        line = 10 ** ((LOUDNESS_TARGET + 0.691 + self.palette.voice.level_db) / 10)
        power = np.zeros(len(positions))
        los, his = self._within(positions, self.clip_starts, self.clip_ends)
        for i in self.spoken:
            if los[i] < his[i]:
                power[los[i]:his[i]] += line
        return power

    def _chime_power(self, positions: np.ndarray) -> np.ndarray:
        """The chimes' K-weighted power at ``positions`` (each partial a decaying sine)."""
        bell, rate = self.palette.bell, self.timeline.samplerate
        power = np.zeros(len(positions))
        total = sum(a for _, a in bell.partials)
        los, his = self._within(positions, self.chime_starts, self.chime_ends)
        for i in np.flatnonzero(los < his):
            c, lo, hi = self.timeline.chimes[i], los[i], his[i]
            t = (positions[lo:hi] - c.start) / rate
            attack = tones.ease(np.minimum(t / 0.02, 1.0), "ease")
            for ratio, a, k in self.partials:
                power[lo:hi] += ((10 ** (bell.level_db / 20) * a / total * attack) ** 2 / 2 * k
                                 * np.exp(-2 * t * max(ratio, 1.0) / bell.decay_seconds))
        return power


def _bed_weight(timeline: Timeline, palette: Palette, colour: str) -> float:
    """The K-weighting's power gain on the noise bed (its spectrum is known)."""
    bed, rate = palette.noise, timeline.samplerate
    noise = tones.NoiseBed(colour, rate, bed.low_hz, bed.high_hz)
    freqs = np.fft.rfftfreq(tones.NOISE_FRAME, noise.step / rate)
    shape = noise.magnitude.astype(np.float64) ** 2
    return float(np.sum(shape * loudness.k_power(freqs, rate)) / np.sum(shape))


def _bed_power(timeline: Timeline, palette: Palette, positions: np.ndarray,
               pitch: np.ndarray) -> np.ndarray:
    """The noise bed's power (before K-weighting) at ``positions``, following the pacer's
    ``pitch`` as :class:`_Bed` does."""
    bed, tone, rate = palette.noise, palette.tone, timeline.samplerate
    fill = np.where(pitch > 0, (pitch - tone.low_hz) / (tone.high_hz - tone.low_hz), 0.0)
    low, high = 10 ** (bed.level_db / 20), 10 ** ((bed.level_db + bed.swell_db) / 20)
    level = low + (high - low) * fill
    edges = np.minimum(positions / (NOISE_IN_SECONDS * rate),
                       (timeline.frames - positions) / (NOISE_OUT_SECONDS * rate))
    level *= tones.ease(np.clip(edges, 0.0, 1.0), "ease")
    return level ** 2


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
