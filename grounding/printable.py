"""Text from outside (exercise files, the settings, file names, device and voice names) made
safe to show in a terminal: nothing in it can move the cursor, clear the screen, set the
window title, write the clipboard, or make it display differently from what it is."""

from __future__ import annotations

import re

_SEQUENCES = re.compile(
    # CSI, 7- or 8-bit: ESC [ or 0x9B, parameters, intermediates, one final byte
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    # OSC, DCS, SOS, PM, APC, 7- or 8-bit: their payload, up to BEL or ST (or the line's end)
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    # any other escape: ESC, intermediates, one final byte
    r"|\x1b[ -/]*[0-~]?")
"""Complete escape sequences, so that no parameters or payload are left behind as text."""

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 controls but tab and newline, DEL, C1 controls, and the bidirectional embeddings,
overrides and isolates (what makes text show in another order than it is written)."""


def printable(text: str, newlines: bool = False) -> str:
    """``text`` without escape sequences or control characters: a tab becomes a space, and a
    line break a space too unless ``newlines`` (then ``\\n`` stays, and ``\\r\\n`` becomes
    ``\\n``). Everything else, any language and any symbol, is left as it is."""
    text = _CONTROLS.sub("", _SEQUENCES.sub("", text.replace("\r\n", "\n")))
    text = text.replace("\t", " ")
    return text if newlines else text.replace("\n", " ")


READABLE_WIDTH = 88
"""The widest long text is wrapped to, however wide the terminal: longer lines are hard to
follow from one to the next."""
NARROWEST = 20
"""The narrowest long text is wrapped to, however narrow the terminal."""
PIPED_WIDTH = 80
"""The width for output that is not a terminal, unless the COLUMNS variable says another."""


def text_width(stream=None) -> int:
    """How many columns long text written to ``stream`` (standard output by default) is
    wrapped to: the terminal's width when it is one, else the COLUMNS variable, else
    :data:`PIPED_WIDTH`; never more than :data:`READABLE_WIDTH` nor less than
    :data:`NARROWEST`."""
    import os
    import sys

    stream = sys.stdout if stream is None else stream
    columns = 0
    try:
        if stream is not None and stream.isatty():
            columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        columns = 0
    if columns <= 0:
        try:
            columns = int(os.environ.get("COLUMNS", ""))
        except ValueError:
            columns = 0
    if columns <= 0:
        columns = PIPED_WIDTH
    return max(NARROWEST, min(READABLE_WIDTH, columns))


_GLUED = re.compile(r"(?<=\d) (?=[\d(%]|(?:s|ms|Hz|min)\b)")
"""The spaces inside a number (0800 733 843), and between a number and its brackets or its
unit (1.5 s, 44100 Hz, 15 %)."""


def wrap_line(text: str, width: int, indent: str = "", hang: str | None = None) -> list[str]:
    """One paragraph, ``text``, in lines of at most ``width`` columns: the first starts with
    ``indent``, the others with ``hang`` (``indent`` by default). A word is never split, nor
    a number such as 0800 733 843, nor a number from its unit or from what follows it in
    brackets; a single word longer than the line stays whole."""
    import textwrap

    glued = _GLUED.sub("\0", text)
    lines = textwrap.wrap(glued, width, initial_indent=indent,
                          subsequent_indent=indent if hang is None else hang,
                          break_on_hyphens=False, break_long_words=False)
    return [line.replace("\0", " ") for line in lines] or [indent.rstrip()]


_ITEM = re.compile(r"[-*•·] ")
"""How a list item starts."""


def wrap(text: str, width: int | None = None) -> str:
    """``text`` re-flowed to ``width`` columns (:func:`text_width` of standard output by
    default), words never split (see :func:`wrap_line`). Paragraphs, apart by blank lines,
    stay apart; a list item ("- ") or a line indented differently from the one before starts
    a new line of its own, and its further lines hang under its first word."""
    width = text_width() if width is None else width
    out: list[str] = []
    items: list[list] = []  # [indent, hang, words] for each line of the paragraph so far

    def flush() -> None:
        for indent, hang, words in items:
            out.extend(wrap_line(words, width, " " * indent, " " * hang))
        items.clear()

    for line in text.split("\n"):
        words = line.lstrip(" ")
        if not words.strip():
            flush()
            out.append("")
            continue
        indent = len(line) - len(words)
        item = _ITEM.match(words)
        if items and not item and indent == items[-1][1]:
            items[-1][2] += " " + words
        else:
            items.append([indent, indent + (len(item.group()) if item else 0), words])
    flush()
    return "\n".join(out)


def windows_console() -> None:
    """On Windows, and only there: ask the console to act on escape sequences (the live
    display's colours and cursor moves; Windows 10 and later do, once asked), and let output
    that goes to a file or a pipe, in the system's legacy code page there, show a character
    that code page lacks as ``?`` rather than fail. Never raises."""
    import sys

    if sys.platform != "win32":
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            if not stream.isatty():
                stream.reconfigure(errors="replace")
                continue
            import ctypes
            import msvcrt

            handle = msvcrt.get_osfhandle(stream.fileno())
            mode = ctypes.c_uint32()
            kernel32 = ctypes.windll.kernel32
            if kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
                kernel32.SetConsoleMode(handle, mode.value | 0x0004)  # VT processing
        except (AttributeError, OSError, ValueError):
            pass  # closed, replaced, or an older console: as it was
