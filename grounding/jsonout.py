"""What ``--json`` prints: one JSON document on standard output, in UTF-8, for scripts.

Every document is an object whose ``version`` says which form it has (docs/json.md); its
other keys are always present, ``null`` where there is no value. The values are the data as
they are: the escapes of JSON keep every control character, and every character a terminal
could act on (DEL, the C1 controls, the bidirectional controls, a file name's undecodable
bytes), out of the text itself, so a document printed on a terminal cannot move the cursor
or change what is shown.
"""

from __future__ import annotations

import json
import re
import sys

VERSION = 1
"""The documents' form: raised when a key changes meaning or goes away (new keys may be added
within a version)."""

_ESCAPED = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""What JSON would leave as it is but is not to reach a terminal raw (see the module)."""


def document(**content) -> str:
    """The document for ``content``, its ``version`` first, indented for people to read."""
    text = json.dumps({"version": VERSION, **content}, ensure_ascii=False, indent=2)
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit(**content) -> None:
    """Print the document for ``content`` on standard output, in UTF-8 whatever the locale."""
    out = sys.stdout
    if out is None:  # started with standard output closed
        return
    text = document(**content) + "\n"
    out.flush()
    raw = getattr(out, "buffer", None)  # absent where standard output is a text stream only
    if raw is None:
        out.write(text)
        out.flush()
        return
    raw.write(text.encode("utf-8"))
    raw.flush()


def seconds(frames: int, samplerate: int) -> float:
    """``frames`` at ``samplerate`` in seconds, to the millisecond."""
    return round(frames / samplerate, 3)
