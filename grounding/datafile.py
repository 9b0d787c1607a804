"""Strict reading of TOML data files (exercises, palettes): every mistake names its place.

Parse errors are wrapped, unknown keys get a did-you-mean, wrong types say what would be valid.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

from grounding.errors import ExerciseError
from grounding.paths import read_regular_text
from grounding.printable import printable

_TYPE_NAMES = {str: "text in quotes", bool: "true or false", int: "a whole number",
               float: "a number", list: "a list in [brackets]", dict: "a table"}


class DataFile:
    """A parsed TOML file with its text, so errors can point at lines."""

    def __init__(self, path: Path, label: str | None = None):
        self.path = path
        self.label = printable(label or path.name)
        try:
            self.text = read_regular_text(path)  # a named pipe in its place cannot hang
        except FileNotFoundError:
            raise ExerciseError(f"{self.label}: there is no such file.") from None
        except UnicodeDecodeError:
            raise ExerciseError(f"{self.label}: the file is not UTF-8 text.") from None
        except OSError as exc:
            raise ExerciseError(f"{self.label}: cannot be read ({exc.strerror}).") from None
        try:
            self.data: dict[str, Any] = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise ExerciseError(self._decode_message(exc)) from None
        self.lines = self.text.splitlines()

    def _decode_message(self, exc: tomllib.TOMLDecodeError) -> str:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        reason = re.sub(r"\s*\(at .*\)$", "", message).rstrip(".")
        where = f"{self.label}:{found.group(1)}" if found else self.label
        return printable(f"{where}: this is not valid TOML ({reason[0].lower() + reason[1:]}). "
                         "Text goes in double quotes, and each key = value on its own line.")

    def fail(self, what: str, *, key: str | None = None, table: str | None = None,
             index: int | None = None) -> ExerciseError:
        """An error naming the file, the line of ``key`` (within the table) and ``what``
        (whatever of the file it quotes is shown without control characters)."""
        line = self.line_of(key, table, index)
        where = f"{self.label}:{line}" if line else self.label
        return ExerciseError(printable(f"{where}: {what}"))

    def line_of(self, key: str | None, table: str | None = None, index: int | None = None) -> int | None:
        """The 1-based line of ``key`` in ``[table]`` (or the ``index``-th ``[[table]]``)."""
        start, end = 0, len(self.lines)
        if table is not None:
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
            hits = [i for i, text in enumerate(self.lines) if header.match(text)]
            which = index or 0
            if which >= len(hits):
                return None
            start = hits[which]
            later = [i for i, text in enumerate(self.lines)
                     if i > start and re.match(r"^\s*\[", text)]
            end = later[0] if later else len(self.lines)
            if key is None:
                return start + 1
        elif key is not None:
            later = [i for i, text in enumerate(self.lines) if re.match(r"^\s*\[", text)]
            end = later[0] if later else len(self.lines)
        if key is None:
            return None
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i + 1
        return start + 1 if table is not None else None


def did_you_mean(word: str, choices: list[str]) -> str:
    """`` Did you mean 'x'?`` when a close choice exists, else an empty string."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def type_name(kind: type | tuple[type, ...]) -> str:
    """How to write a value of this type, in words."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds:
        return _TYPE_NAMES[float]
    return " or ".join(_TYPE_NAMES[k] for k in kinds)


def check_type(value: Any, kind: type | tuple[type, ...]) -> bool:
    """Whether ``value`` is of ``kind``; whole numbers count as numbers, booleans never do."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):
        return bool in kinds
    if float in kinds and isinstance(value, int):
        return True
    return isinstance(value, kinds)


def check_keys(doc: DataFile, table: dict[str, Any], spec: dict[str, type | tuple[type, ...]],
               *, prefix: str = "", section: str | None = None, index: int | None = None,
               required: tuple[str, ...] = ()) -> None:
    """Refuse unknown keys, missing required keys and values of the wrong type."""
    for key, value in table.items():
        if key not in spec:
            valid = ", ".join(spec)
            raise doc.fail(f"{prefix}'{key}' does not belong here.{did_you_mean(key, list(spec))} "
                           f"Valid keys here: {valid}.", key=key, table=section, index=index)
        if not check_type(value, spec[key]):
            raise doc.fail(f"{prefix}'{key}' should be {type_name(spec[key])}, "
                           f"not {_quoted(value)}.", key=key, table=section, index=index)
    for key in required:
        if key not in table:
            raise doc.fail(f"{prefix}'{key}' is missing; add {key} = "
                           f"{type_name(spec[key])}.", table=section, index=index)


def _quoted(value: Any) -> str:
    """A wrong value as the file has it, text in quotes, without its control characters (so
    they show neither raw nor as backslash codes)."""
    return repr(printable(value)) if isinstance(value, str) else repr(value)
