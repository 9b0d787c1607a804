"""The user's defaults: a small TOML file in the config folder, read forgivingly.

A broken file never stops a session: each problem is reported once, with its line, and the
built-in default is used for what could not be read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Callable

from grounding import paths
from grounding.datafile import NotToml, did_you_mean, parse_toml
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


def known(key: str) -> str:
    """``key`` if it is a setting; else UsageError naming the settings."""
    names = [f.name for f in fields(Config)]
    if key not in names:
        raise UsageError(f"There is no setting '{printable(key)}'."
                         f"{did_you_mean(key, names)} The settings are {', '.join(names)}.")
    return key


TEXT_LONGEST = 200
"""The most characters a text setting may have (a voice or a device name is far shorter)."""


def _check(key: str, value: object) -> object:
    """The value if it is valid for ``key``; else UsageError saying what to write."""
    known(key)
    kind = {f.name: f.type for f in fields(Config)}[key]
    if kind == "bool" and not isinstance(value, bool):
        raise UsageError(f"{key} is true or false.")
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise UsageError(f"{key} is a whole number.")
    if kind == "str" and not isinstance(value, str):
        raise UsageError(f"{key} is text in quotes.")
    if kind == "str" and len(value) > TEXT_LONGEST:
        raise UsageError(f"{key} is at most {TEXT_LONGEST} characters long.")
    if kind == "str" and printable(value) != value:
        raise UsageError(f"{key} is plain text, without control characters.")
    if kind == "str" and _not_utf8(value):
        raise UsageError(f"{key} has characters that cannot be written as UTF-8 text.")
    if key == "log" and value not in ("", "on", "off"):
        raise UsageError("log is on or off.")
    if key == "country" and value:
        from grounding.safety import country_code

        return country_code(value)
    if key in _LIMITS and not _LIMITS[key][0] <= value <= _LIMITS[key][1]:
        low, high = _LIMITS[key]
        raise UsageError(f"{key} is from {low} to {high}.")
    return value


class NotSaved(UsageError, OSError):
    """A setting could not be saved: the file cannot be read (so it cannot be changed without
    losing what it says) or written. An OSError too, so that what remembers a setting on the
    side (the volume keys, the log's setting) carries on without it."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.strerror = reason
        """Why, in a few words, for a sentence of its own (as an OSError's)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _problem(exc: Exception) -> tuple[str, int | None]:
    """What keeps the settings file from being read, in a few words, and its line if known."""
    if isinstance(exc, NotToml):
        return (f"this is not valid TOML ({exc.reason})" if exc.mistake else exc.reason), exc.line
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text", None
    if isinstance(exc, paths.NotAFile):
        return str(exc), None
    return getattr(exc, "strerror", None) or str(exc), None


def _read() -> tuple[str, dict]:
    """The settings file's text and data ("" and {} if there is none). Raises OSError,
    UnicodeDecodeError or NotToml if it cannot be read."""
    try:
        text = paths.read_regular_text(path())  # a named pipe in its place cannot hang
    except FileNotFoundError:
        return "", {}
    return text, parse_toml(text)


_told: set[str] = set()
"""The notices given already: each is given once per run, however often the settings are
read."""


def _not_utf8(text: str) -> bool:
    """Whether ``text`` holds what UTF-8 cannot encode (bytes of a command-line argument
    that were not UTF-8 arrive as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def load(notice: Callable[[str], None]) -> Config:
    """The settings; anything unreadable is reported through ``notice`` (once a run) and left
    default. Text settings, and what the notices quote, come without control characters."""
    file = path()

    def tell(line: str) -> None:
        line = printable(line)
        if line not in _told:
            _told.add(line)
            notice(line)

    try:
        text, data = _read()
    except (OSError, ValueError) as exc:  # NotToml and UnicodeDecodeError are ValueErrors
        why, line = _problem(exc)
        where = f"{file}:{line}" if line else str(file)
        tell(f"{where} cannot be read ({why}); using the default settings."
             if line is None else
             f"{where}: the settings cannot be read: {why}; using the default settings "
             "('grounding config' shows them).")
        return Config()
    config = Config()
    lines = text.splitlines()
    for key, value in data.items():
        try:
            value = printable(value) if isinstance(value, str) else value
            config = replace(config, **{key: _check(key, value)})
        except UsageError as exc:
            line = _line_of(lines, key)
            where = f"{file}:{line + 1}" if line is not None else str(file)
            tell(f"{where}: {exc} Using the default for it.")
    return config


def _line_of(lines: list[str], key: str) -> int | None:
    """The 0-based line where ``key`` is set at the top of the file (before any table)."""
    pattern = re.compile(rf"""^\s*(["']?){re.escape(key)}\1\s*=""")
    for i, text in enumerate(lines):
        if pattern.match(text):
            return i
        if text.lstrip().startswith("["):
            return None
    return None


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


def shown(key: str, value: object) -> str:
    """A setting's value as 'grounding config' shows it: on or off, a number, a text, or
    (default) for an empty text."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value) if value != "" else "(default)"


HEADER = "# grounding settings; 'grounding config' shows them, 'grounding config set' changes them."


def save(config: Config) -> Path:
    """Write the settings of ``config`` that differ from what the file gives now (see
    :func:`change`)."""
    before = load(lambda line: None)
    return change({f.name: getattr(config, f.name) for f in fields(Config)
                   if getattr(config, f.name) != getattr(before, f.name)})


def change(settings: dict[str, object]) -> Path:
    """Set each of ``settings`` on its own line, in place: everything else in the file
    (comments, the other settings, even those that cannot be used) stays as the user wrote
    it, and a setting back at its default loses its line. Written atomically. Raises
    :class:`NotSaved`, and writes nothing, if the file cannot be read (what it says would
    be lost) or the change cannot be made line by line; OSError if it cannot be written."""
    file = path()
    try:
        text, data = _read()
    except (OSError, ValueError) as exc:
        why, line = _problem(exc)
        where = f"{file}:{line}" if line else str(file)
        raise NotSaved(f"{where}: the settings cannot be read: {why}. So that nothing in it is "
                       "lost, it is left as it is: correct it, or 'grounding config reset' "
                       "starts afresh and keeps a copy of it.",
                       f"it cannot be read: {why}") from None
    edited = text or HEADER + "\n"
    for key, value in settings.items():
        edited = _with(edited, key, value)
    expected = {k: v for k, v in data.items() if k not in settings}
    expected.update({k: v for k, v in settings.items() if v != getattr(Config(), k)})
    try:
        right = parse_toml(edited) == expected
    except NotToml:
        right = False
    if not right:  # a setting written over several lines, or as part of a table
        raise NotSaved(f"{file} sets {', '.join(settings)} in a way this command cannot "
                       "change safely; change it in the file itself, or 'grounding config "
                       "reset' starts afresh and keeps a copy of it.",
                       "it is written in a way that cannot be changed line by line")
    if edited != text:
        try:
            paths.write_atomically(file, edited.encode("utf-8"))
        except OSError as exc:
            why = _problem(exc)[0]
            raise NotSaved(f"{file} cannot be written ({why}); the settings are as they were.",
                           why) from None
    return file


def _with(text: str, key: str, value: object) -> str:
    """``text`` with ``key`` set to ``value`` on its own line (replacing the line that set it),
    or without that line if ``value`` is the default."""
    lines = text.splitlines()
    at = _line_of(lines, key)
    if value == getattr(Config(), key):
        written = []
    else:  # a real TOML writer: quotes, backslashes and any control character escaped
        import tomli_w

        written = [tomli_w.dumps({key: value}).rstrip("\n")]
    if at is not None:
        lines[at:at + 1] = written
    else:
        at = next((i for i, t in enumerate(lines) if t.lstrip().startswith("[")), len(lines))
        while at > 0 and not lines[at - 1].strip():
            at -= 1  # after the last setting, before the blank lines that set off a table
        lines[at:at] = written
    return "\n".join(lines) + "\n"


def reset(key: str | None = None) -> Path | None:
    """Put ``key`` back to its default; or, with no key, every setting: then the file is moved
    aside to ``config.toml.old`` (replacing an older one), so nothing the user wrote is lost,
    and that copy's path is returned (None if there was no file)."""
    if key is not None:
        known(key)
        change({key: getattr(Config(), key)})
        return None
    file = path()
    old = file.with_name(file.name + ".old")
    try:
        os.replace(file, old)
    except FileNotFoundError:
        return None
    except OSError as exc:
        why = _problem(exc)[0]
        raise NotSaved(f"{file} could not be moved aside to {old} ({why}); the settings are as "
                       "they were.", why) from None
    return old
