"""Sound palettes: how the pacer, the bell and the voice sound, read from ``audio/*.toml``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grounding.datafile import DataFile, check_keys
from grounding.errors import ExerciseError
from grounding.paths import bundled

GLIDES = ("ease", "linear")


@dataclass(frozen=True)
class ToneSound:
    """The breath pacer's voice."""

    low_hz: float
    """Pitch at the bottom of the out-breath, Hz."""
    high_hz: float
    """Pitch at the top of the in-breath, Hz."""
    partials: tuple[float, ...]
    """Amplitude of harmonics 1, 2, 3, … relative to the fundamental."""
    peak_db: float
    """Waveform peak at the top of the in-breath, dBFS, at full volume."""
    floor_db: float
    """Level at the turn from out-breath to in-breath, dB relative to the peak."""
    hold_db: float
    """Level while holding after an in-breath, dB relative to the peak."""
    rest_db: float
    """Level while resting after an out-breath, dB relative to the peak."""
    glide: str
    """Shape of the pitch and level glides: ``ease`` (raised cosine) or ``linear``."""
    settle_seconds: float
    """How long a hold takes to settle to its level, seconds."""
    duck_db: float
    """How far the pacer dips while the voice speaks, dB."""
    duck_seconds: float
    """Length of the dip's ramps, seconds."""

    @property
    def peak(self) -> float:
        """Linear amplitude of the waveform peak."""
        return 10 ** (self.peak_db / 20)

    @property
    def weights(self) -> np.ndarray:
        """Partial amplitudes scaled so the summed waveform (cosine partials, as
        :func:`grounding.tones.harmonics` makes them) peaks at exactly 1."""
        w = np.asarray(self.partials, dtype=np.float64)
        phase = np.linspace(0, 2 * np.pi, 8192, endpoint=False)
        wave = sum(a * np.cos((k + 1) * phase) for k, a in enumerate(w))
        return w / np.max(np.abs(wave))


@dataclass(frozen=True)
class BellSound:
    """The soft chime that may mark the start of a session."""

    hz: float
    """Fundamental, Hz."""
    partials: tuple[tuple[float, float], ...]
    """(frequency ratio, relative amplitude) pairs."""
    decay_seconds: float
    """Time for the chime to fall by 1/e (about 8.7 dB), seconds."""
    level_db: float
    """Peak level, dBFS, at full volume."""

    @property
    def seconds(self) -> float:
        """How long the chime rings before it is below -60 dB."""
        return self.decay_seconds * math.log(1000)


@dataclass(frozen=True)
class VoiceSound:
    """How loud speech sits in the mix."""

    level_db: float
    """Gain on clips already normalised to the cache's loudness target, dB, at full volume."""


@dataclass(frozen=True)
class NoiseSound:
    """The soft noise bed (``--noise``), breathing with the pacer."""

    level_db: float
    """RMS level, dBFS at full volume, at the bottom of the out-breath."""
    swell_db: float
    """How much louder it is at the top of the in-breath, dB."""
    low_hz: float
    """Below this the bed falls away (no rumble), Hz."""
    high_hz: float
    """Above this it falls away (nothing bright), Hz."""


@dataclass(frozen=True)
class Palette:
    """A complete sound palette."""

    name: str
    tone: ToneSound
    bell: BellSound
    voice: VoiceSound
    noise: NoiseSound | None = None
    """Only palettes with a ``[noise]`` table can have a noise bed."""


_TONE = {"low_hz": float, "high_hz": float, "partials": list, "peak_db": float,
         "floor_db": float, "hold_db": float, "rest_db": float, "glide": str,
         "settle_seconds": float, "duck_db": float, "duck_seconds": float}
_BELL = {"hz": float, "partials": list, "decay_seconds": float, "level_db": float}
_VOICE = {"level_db": float}
_NOISE = {"level_db": float, "swell_db": float, "low_hz": float, "high_hz": float}


def load_palette(name_or_path: str | Path = "day") -> Palette:
    """Load and validate a palette by name (``day``) or path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = bundled("audio") / f"{name_or_path}.toml"
        if not path.exists():
            raise ExerciseError(f"There is no sound palette called '{name_or_path}'.")
    doc = DataFile(path)
    data = doc.data
    check_keys(doc, data, {"tone": dict, "bell": dict, "voice": dict, "noise": dict},
               required=("tone", "bell", "voice"))
    tone, bell, voice = data["tone"], data["bell"], data["voice"]
    check_keys(doc, tone, _TONE, section="tone", required=tuple(_TONE))
    check_keys(doc, bell, _BELL, section="bell", required=tuple(_BELL))
    check_keys(doc, voice, _VOICE, section="voice", required=tuple(_VOICE))

    def bad(section: str, key: str, what: str) -> ExerciseError:
        return doc.fail(f"[{section}] {key}: {what}", key=key, table=section)

    if not 60 <= tone["low_hz"] < tone["high_hz"] <= 1000:
        raise bad("tone", "high_hz", "the pitch must rise: 60 <= low_hz < high_hz <= 1000 Hz "
                  "(high tones feel like alarms; CONTENT.md §5.4).")
    partials = tone["partials"]
    if not partials or not all(isinstance(p, (int, float)) and not isinstance(p, bool)
                               and p >= 0 for p in partials) or partials[0] <= 0:
        raise bad("tone", "partials", "write a list of amplitudes >= 0 starting with the "
                  "fundamental above 0, for example [1.0, 0.25].")
    for key in ("peak_db", "floor_db", "hold_db", "rest_db", "duck_db"):
        if not -80 <= tone[key] <= 0:
            raise bad("tone", key, "levels are in dB from -80 to 0.")
    if tone["glide"] not in GLIDES:
        raise bad("tone", "glide", f"write one of {', '.join(GLIDES)}.")
    for key in ("settle_seconds", "duck_seconds"):
        if not 0.02 <= tone[key] <= 2:
            raise bad("tone", key, "write a time from 0.02 to 2 seconds (ramps under 20 ms click).")
    pairs = bell["partials"]
    if not pairs or not all(isinstance(p, list) and len(p) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in p)
            for p in pairs):
        raise bad("bell", "partials", "write a list of [ratio, amplitude] pairs, for example "
                  "[[1.0, 1.0], [2.76, 0.2]].")
    if not 0.2 <= bell["decay_seconds"] <= 5:
        raise bad("bell", "decay_seconds", "write a time from 0.2 to 5 seconds.")
    if not -80 <= bell["level_db"] <= 0 or not 60 <= bell["hz"] <= 2000:
        raise bad("bell", "level_db", "the level is in dB from -80 to 0 and hz from 60 to 2000.")
    if not -40 <= voice["level_db"] <= 12:
        raise bad("voice", "level_db", "write a gain from -40 to 12 dB.")
    noise = data.get("noise")
    if noise is not None:
        check_keys(doc, noise, _NOISE, section="noise", required=tuple(_NOISE))
        if not -80 <= noise["level_db"] <= -10 or not 0 <= noise["swell_db"] <= 12:
            raise bad("noise", "level_db", "the level is in dBFS from -80 to -10, and the "
                      "swell from 0 to 12 dB.")
        if not 20 <= noise["low_hz"] < noise["high_hz"] <= 8000:
            raise bad("noise", "high_hz", "the band is 20 <= low_hz < high_hz <= 8000 Hz.")
    return Palette(
        name=path.stem,
        tone=ToneSound(**{k: (tuple(float(p) for p in v) if k == "partials" else
                              v if k == "glide" else float(v)) for k, v in tone.items()}),
        bell=BellSound(hz=float(bell["hz"]),
                       partials=tuple((float(r), float(a)) for r, a in pairs),
                       decay_seconds=float(bell["decay_seconds"]),
                       level_db=float(bell["level_db"])),
        voice=VoiceSound(level_db=float(voice["level_db"])),
        noise=None if noise is None else NoiseSound(**{k: float(v) for k, v in noise.items()}),
    )
