"""Sound palettes: how the pacer, the bell and the voice sound, read from ``audio/*.toml``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grounding.datafile import DataFile, check_keys
from grounding.errors import ExerciseError
from grounding.limits import Limit, check_limits
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
    """Time for the fundamental to fall by 1/e (about 8.7 dB), seconds; a partial at ratio r
    falls r times faster, as a struck bowl's do."""
    level_db: float
    """Peak level, dBFS, at full volume."""

    @property
    def seconds(self) -> float:
        """How long the chime rings before it is below -60 dB (its fundamental, which
        rings longest)."""
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
    offset_db: float = 0.0
    """How far from the programme loudness a session in this palette is levelled, dB
    (``[loudness] offset_db``; the night's is below it)."""


_SECTIONS = {"tone": dict, "bell": dict, "voice": dict, "noise": dict, "loudness": dict}
_REQUIRED = ("tone", "bell", "voice")
"""Every palette has these; ``noise`` and ``loudness`` are optional."""
_KEYS = {
    "tone": {"low_hz": float, "high_hz": float, "partials": list, "peak_db": float,
             "floor_db": float, "hold_db": float, "rest_db": float, "glide": str,
             "settle_seconds": float, "duck_db": float, "duck_seconds": float},
    "bell": {"hz": float, "partials": list, "decay_seconds": float, "level_db": float},
    "voice": {"level_db": float},
    "noise": {"level_db": float, "swell_db": float, "low_hz": float, "high_hz": float},
    "loudness": {"offset_db": float},
}
"""Each table's keys and their types, in the order a mistake lists them."""


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _amplitudes(tone: dict) -> bool:
    """Partials are amplitudes >= 0, the fundamental's above 0."""
    partials = tone["partials"]
    return bool(partials) and all(_number(p) and p >= 0 for p in partials) and partials[0] > 0


def _ratios(bell: dict) -> bool:
    """Partials are [ratio, amplitude] pairs, both above 0."""
    pairs = bell["partials"]
    return bool(pairs) and all(isinstance(p, list) and len(p) == 2
                               and all(_number(v) and v > 0 for v in p) for p in pairs)


_LEVELS = "levels are in dB from -80 to 0."
_RAMPS = "write a time from 0.02 to 2 seconds (ramps under 20 ms click)."
_LIMITS = {
    "tone": (
        Limit("high_hz", "the pitch must rise: 60 <= low_hz < high_hz <= 1000 Hz (high tones "
              "feel like alarms; docs/sound.md §5.4).",
              lambda t: 60 <= t["low_hz"] < t["high_hz"] <= 1000),
        Limit("partials", "write a list of amplitudes >= 0 starting with the fundamental above "
              "0, for example [1.0, 0.25].", _amplitudes),
        *(Limit.range(key, -80, 0, _LEVELS)
          for key in ("peak_db", "floor_db", "hold_db", "rest_db", "duck_db")),
        Limit.choice("glide", GLIDES, f"write one of {', '.join(GLIDES)}."),
        *(Limit.range(key, 0.02, 2, _RAMPS) for key in ("settle_seconds", "duck_seconds")),
    ),
    "bell": (
        Limit("partials", "write a list of [ratio, amplitude] pairs, for example "
              "[[1.0, 1.0], [2.76, 0.2]].", _ratios),
        Limit.range("decay_seconds", 0.2, 5, "write a time from 0.2 to 5 seconds."),
        Limit("level_db", "the level is in dB from -80 to 0 and hz from 60 to 2000.",
              lambda b: -80 <= b["level_db"] <= 0 and 60 <= b["hz"] <= 2000),
    ),
    "voice": (Limit.range("level_db", -40, 12, "write a gain from -40 to 12 dB."),),
    "noise": (
        Limit("level_db", "the level is in dBFS from -80 to -10, and the swell from 0 to 12 dB.",
              lambda n: -80 <= n["level_db"] <= -10 and 0 <= n["swell_db"] <= 12),
        Limit("high_hz", "the band is 20 <= low_hz < high_hz <= 8000 Hz.",
              lambda n: 20 <= n["low_hz"] < n["high_hz"] <= 8000),
    ),
    "loudness": (Limit.range("offset_db", -20, 0, "write an offset from -20 to 0 dB."),),
}
"""What each table's keys may hold, in the order they are checked."""


def load_palette(name_or_path: str | Path = "day") -> Palette:
    """Load and validate a palette by name (``day``) or path."""
    path = _palette_path(name_or_path)
    doc = DataFile(path)
    data = doc.data
    check_keys(doc, data, _SECTIONS, required=_REQUIRED)
    for section in _REQUIRED:
        _check_keys(doc, data, section)
    for section in _REQUIRED:
        _check_limits(doc, data, section)
    for section in ("noise", "loudness"):
        if section in data:
            _check_keys(doc, data, section)
            _check_limits(doc, data, section)
    return Palette(name=path.stem, tone=_tone(data["tone"]), bell=_bell(data["bell"]),
                   voice=VoiceSound(level_db=float(data["voice"]["level_db"])),
                   noise=_noise(data["noise"]) if "noise" in data else None,
                   offset_db=float(data.get("loudness", {}).get("offset_db", 0.0)))


def _palette_path(name_or_path: str | Path) -> Path:
    """A ``.toml`` path as it is; a name, the bundled palette of that name."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = bundled("audio") / f"{name_or_path}.toml"
        if not path.exists():
            raise ExerciseError(f"There is no sound palette called '{name_or_path}'.")
    return path


def _check_keys(doc: DataFile, data: dict, section: str) -> None:
    keys = _KEYS[section]
    check_keys(doc, data[section], keys, section=section, required=tuple(keys))


def _check_limits(doc: DataFile, data: dict, section: str) -> None:
    def bad(what: str, key: str) -> ExerciseError:
        return doc.fail(f"[{section}] {key}: {what}", key=key, table=section)

    check_limits(data[section], _LIMITS[section], bad)


def _tone(tone: dict) -> ToneSound:
    numbers = {k: float(v) for k, v in tone.items() if k not in ("partials", "glide")}
    return ToneSound(**numbers, partials=tuple(float(p) for p in tone["partials"]),
                     glide=tone["glide"])


def _bell(bell: dict) -> BellSound:
    return BellSound(hz=float(bell["hz"]),
                     partials=tuple((float(r), float(a)) for r, a in bell["partials"]),
                     decay_seconds=float(bell["decay_seconds"]),
                     level_db=float(bell["level_db"]))


def _noise(noise: dict) -> NoiseSound:
    return NoiseSound(**{k: float(v) for k, v in noise.items()})
