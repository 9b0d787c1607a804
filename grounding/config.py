"""The user's defaults: a small TOML file in the config folder, read forgivingly.

A broken file never stops a session: each problem is reported once, with its line, and the
built-in default is used for what could not be read.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Callable

from grounding import paths
from grounding.datafile import did_you_mean
from grounding.defaults import RATE, RATE_RANGE, VOICE, VOLUME, VOLUME_RANGE
from grounding.errors import UsageError
from grounding.printable import printable

FILE = "config.toml"


@dataclass(frozen=True)
class Config:
    """Defaults for every session; command-line options win over them."""

    voice: str = VOICE
    """A voice id or language (see ``grounding voices``)."""
    rate: int = RATE
    """Speaking speed, words per minute (80 to 300)."""
    volume: int = VOLUME
    """Loudness, 0 to 100."""
    device: str = ""
    """Output device, empty for the system's default."""
    tones: bool = True
    """Play the breathing tones."""
    holds: bool = True
    """Keep breath holds (false: every hold becomes ordinary breathing)."""
    country: str = ""
    """Whose help lines to show: any country, written as its two-letter code (NZ, fr), UK or
    its English name, and kept as the code; where there are no lines yet, its emergency
    number if known and findahelpline.com (empty: the country of the system's language
    setting, else a short list)."""
    log: str = ""
    """The private log of pauses: on or off (empty: not asked yet; asked after a first pause)."""


_LIMITS = {"rate": RATE_RANGE, "volume": VOLUME_RANGE}


def path() -> Path:
    """Where the settings live."""
    return paths.config_dir() / FILE


def _check(key: str, value: object) -> object:
    """The value if it is valid for ``key``; else UsageError saying what to write."""
    names = [f.name for f in fields(Config)]
    if key not in names:
        raise UsageError(f"There is no setting '{key}'.{did_you_mean(key, names)} "
                         f"The settings are {', '.join(names)}.")
    kind = {f.name: f.type for f in fields(Config)}[key]
    if kind == "bool" and not isinstance(value, bool):
        raise UsageError(f"{key} is true or false.")
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise UsageError(f"{key} is a whole number.")
    if kind == "str" and not isinstance(value, str):
        raise UsageError(f"{key} is text in quotes.")
    if key == "log" and value not in ("", "on", "off"):
        raise UsageError("log is on or off.")
    if key == "country" and value:
        from grounding.safety import country_code

        return country_code(value)
    if key in _LIMITS and not _LIMITS[key][0] <= value <= _LIMITS[key][1]:
        low, high = _LIMITS[key]
        raise UsageError(f"{key} is from {low} to {high}.")
    return value


def load(notice: Callable[[str], None]) -> Config:
    """The settings; anything unreadable is reported through ``notice`` and left default.
    Text settings, and what the notices quote, come without control characters."""
    file = path()

    def tell(line: str) -> None:
        notice(printable(line))

    try:
        text = paths.read_regular_text(file)  # a named pipe in its place cannot hang
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        tell(f"{file} cannot be read ({exc}); using the default settings.")
        return Config()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        tell(f"{file}: {exc}; using the default settings. 'grounding config' shows them.")
        return Config()
    config = Config()
    lines = text.splitlines()
    for key, value in data.items():
        try:
            value = printable(value) if isinstance(value, str) else value
            config = replace(config, **{key: _check(key, value)})
        except UsageError as exc:
            line = next((i for i, t in enumerate(lines, 1) if t.strip().startswith(key)), None)
            where = f"{file}:{line}" if line else str(file)
            tell(f"{where}: {exc} Using the default for it.")
    return config


def parse_value(key: str, text: str) -> object:
    """A command-line value for ``key`` in the setting's own type, checked."""
    kind = {f.name: f.type for f in fields(Config)}.get(key)
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered not in ("true", "false", "on", "off", "yes", "no"):
            raise UsageError(f"{key} is true or false.")
        return _check(key, lowered in ("true", "on", "yes"))
    if kind == "int":
        try:
            return _check(key, int(text))
        except ValueError:
            raise UsageError(f"{key} is a whole number.") from None
    return _check(key, text)


def save(config: Config) -> Path:
    """Write every setting that differs from the default, atomically."""
    default = Config()
    out = ["# grounding settings; 'grounding config' shows them, 'grounding config set' changes them."]
    for f in fields(Config):
        value = getattr(config, f.name)
        if value != getattr(default, f.name):
            shown = ("true" if value else "false") if isinstance(value, bool) else (
                json.dumps(value) if isinstance(value, str) else str(value))
            out.append(f"{f.name} = {shown}")
    file = path()
    paths.write_atomically(file, ("\n".join(out) + "\n").encode("utf-8"))
    return file
