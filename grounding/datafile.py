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

DEEPEST = 100
"""How deeply a data file may nest (arrays and tables inside each other, or the parts of a
dotted key): far beyond what any real file needs, and well within what tomllib can read
without running out of stack or time."""

LARGEST = 1 << 20
"""The largest data file read, in bytes. The biggest bundled exercise is under 6 KB, and three
hours of speech (the longest an exercise may be) is under 200 KB of text; a 50 MB file would
take seconds and nearly a gigabyte of memory to parse before its length could be refused."""

_TYPE_NAMES = {str: "text in quotes", bool: "true or false", int: "a whole number",
               float: "a number", list: "a list in [brackets]", dict: "a table"}


class DataFile:
    """A parsed TOML file with its text, so errors can point at lines."""

    def __init__(self, path: Path, label: str | None = None):
        self.path = path
        self.label = printable(label or path.name)
        try:
            size = path.stat().st_size
            if size > LARGEST:
                raise ExerciseError(f"{self.label}: the file is {size / (1 << 20):.1f} MB; a "
                                    "data file can be at most 1 MB, so make it several "
                                    "exercises.")
            self.text = read_regular_text(path)  # a named pipe in its place cannot hang
        except FileNotFoundError:
            raise ExerciseError(f"{self.label}: there is no such file.") from None
        except UnicodeDecodeError:
            raise ExerciseError(f"{self.label}: the file is not UTF-8 text.") from None
        except OSError as exc:
            raise ExerciseError(f"{self.label}: cannot be read ({exc.strerror}).") from None
        try:
            self.data: dict[str, Any] = parse_toml(self.text)
        except NotToml as exc:
            raise ExerciseError(exc.sentence(self.label)) from None
        self.lines = self.text.splitlines()

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


class NotToml(ValueError):
    """Text that cannot be read as TOML: ``reason`` says why in a few lowercase words, and
    ``line`` is where (1-based), if known. ``mistake``: it breaks TOML's rules (rather than
    being too deep or too big to read)."""

    def __init__(self, reason: str, line: int | None = None, mistake: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.mistake = mistake

    def sentence(self, label: str) -> str:
        """What is wrong, starting ``label:line:``, in one sentence (two for a mistake)."""
        where = f"{label}:{self.line}" if self.line else label
        if self.mistake:
            return printable(f"{where}: this is not valid TOML ({self.reason}). Text goes in "
                             "double quotes, and each key = value on its own line.")
        return printable(f"{where}: this file cannot be read: {self.reason}.")


def parse_toml(text: str) -> dict[str, Any]:
    """The data in TOML ``text``; :class:`NotToml` for anything that cannot be read, however
    it is broken: a mistake, nesting deeper than :data:`DEEPEST` (which would exhaust the
    stack, or take tomllib minutes for a long dotted key), or a number too long to convert.
    This is the one place grounding parses TOML."""
    deep = _too_deep(text)
    if deep:
        raise NotToml(f"it nests more than {DEEPEST} levels deep (lists or tables inside each "
                      "other, or the parts of a dotted key)", deep)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        reason = re.sub(r"\s*\(at .*\)$", "", message).rstrip(".")
        raise NotToml(reason[:1].lower() + reason[1:], int(found.group(1)) if found else None,
                      mistake=True) from None
    except (RecursionError, MemoryError):
        raise NotToml("it nests too deeply, or is too big, to be read") from None
    except ValueError:  # a whole number longer than Python converts (4300 digits)
        raise NotToml("a number in it has too many digits to be read") from None


_MARKS = re.compile(r'"""|\'\'\'|["\'#\[\]{}.,=\n]')
_BASIC_REST = re.compile(r'[^"\\\n]*(?:\\.[^"\\\n]*)*"')
_MULTI_BASIC_REST = re.compile(r'[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""', re.S)
_MULTI_LITERAL_REST = re.compile(r".*?'''", re.S)


def _too_deep(text: str) -> int | None:
    """The line where ``text`` first nests deeper than :data:`DEEPEST`, counting open
    brackets and braces, and the dots of a dotted key (between two of ``=,[]{}`` or line
    ends); None if it never does. Strings and comments are skipped, in time linear in the
    text's length."""
    depth = dots = 0
    at = 0
    while (mark := _MARKS.search(text, at)) is not None:
        found, at = mark.group(), mark.end()
        if found == '"':
            rest = _BASIC_REST.match(text, at)
            at = rest.end() if rest else at
        elif found == "'":
            line_end = text.find("\n", at)
            end = text.find("'", at, len(text) if line_end < 0 else line_end)
            at = end + 1 if end >= 0 else at
        elif found in ('"""', "'''"):
            rest = (_MULTI_BASIC_REST if found == '"""' else _MULTI_LITERAL_REST).match(text, at)
            at = rest.end() if rest else len(text)
            while at < len(text) and text[at] == found[0]:
                at += 1  # a closing quote may be followed by one or two of the text's own
        elif found == "#":
            end = text.find("\n", at)
            at = end if end >= 0 else len(text)
        elif found in "[{":
            depth, dots = depth + 1, 0
        elif found in "]}":
            depth, dots = max(depth - 1, 0), 0
        elif found == ".":
            dots += 1
        else:
            dots = 0
        if depth > DEEPEST or dots > DEEPEST:
            return text.count("\n", 0, mark.start()) + 1
    return None


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
