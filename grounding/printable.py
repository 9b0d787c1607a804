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
