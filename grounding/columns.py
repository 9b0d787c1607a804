"""Text in terminal columns: how wide a string shows, and how it is cut and wrapped to fit a
terminal of some size, which is read afresh each time it is asked for."""

from __future__ import annotations

import os
import shutil
import textwrap
import unicodedata
from typing import Sequence, TextIO


def terminal_size(out: TextIO) -> tuple[int, int]:
    """Columns and rows of the terminal ``out`` writes to, read afresh (so a resize is
    followed at the next frame); 80x24 when it is no terminal."""
    try:
        size = os.get_terminal_size(out.fileno())
    except (AttributeError, OSError, ValueError):
        size = shutil.get_terminal_size((80, 24))
    if size.columns <= 0 or size.lines <= 0:
        return 80, 24
    return size.columns, size.lines


def cells(text: str) -> int:
    """How many terminal columns ``text`` takes: two for a wide character (Chinese, Japanese,
    Korean, most emoji), none for a combining mark, one for any other."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cut(text: str, width: int) -> str:
    """The longest start of ``text`` that fits in ``width`` columns."""
    if cells(text) <= width:
        return text
    used = 0
    for end, c in enumerate(text):
        used += cells(c)
        if used > width:
            return text[:end]
    return text


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """``text`` in rows of at most ``width`` columns, broken between words (inside a word only
    when it is wider than a row); rows after the first begin with ``indent``."""
    if text.isascii():
        return textwrap.wrap(text, width, subsequent_indent=indent)
    rows: list[str] = []
    row = text[: len(text) - len(text.lstrip())]
    for word in text.split():
        joined = f"{row} {word}" if row.strip() else row + word
        if cells(joined) <= width:
            row = joined
            continue
        if row.strip():
            rows.append(row)
            row = indent
        row += word
        while cells(row) > width and row.strip():
            start = len(row) - len(row.lstrip())
            piece = cut(row, width)
            piece = piece if len(piece) > start else row[:start + 1]
            rows.append(piece)
            row = indent + row[len(piece):]
    return rows + ([row] if row.strip() else [])


def fit(forms: Sequence[str], width: int) -> str:
    """The first of ``forms`` (longest first) that fits in ``width`` columns; else the last,
    cut to the width."""
    for form in forms:
        if cells(form) <= width:
            return form
    return cut(forms[-1], width)


def rows_after_resize(lengths: Sequence[int], columns: int) -> int:
    """How many terminal rows lines of ``lengths`` characters take at ``columns`` columns, as a
    terminal that rewraps its lines on a resize shows them (tmux, VTE, kitty...)."""
    return sum(max(1, -(-length // max(1, columns))) for length in lengths)


def wrap_lines(text: str, width: int) -> list[str]:
    """Each line of ``text`` wrapped to ``width`` columns, keeping its indent, and indented a
    little more on the rows it continues on; empty lines kept."""
    rows = []
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        more = indent + "  " if len(indent) + 2 < width // 2 else ""
        rows += wrap(line, width, more) or [""]
    return rows
