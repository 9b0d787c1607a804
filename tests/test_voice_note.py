"""The note of which voice a request resolved to (``voices.json`` in the cache): however it has
been changed or damaged, a voiced session plays, and the note is written anew."""

from __future__ import annotations

import json

import pytest

from support import require_espeak, run

from grounding.defaults import VOICE

SESSION = ["breathe", "--cycles", "1", "--dry-run"]
"""A short voiced session that renders its words without a sound card."""

DAMAGED = {
    "a list": "[1, 2]",
    "a number": "5",
    "a number for the voice": json.dumps({VOICE: 5}),
    "missing parts": json.dumps({VOICE: {"voice_id": VOICE}}),
    "wrong types inside": json.dumps({VOICE: {"voice_id": 5, "engine": [], "driver": None,
                                              "libraries": "x"}}),
    "nested too deeply": "[" * 100_000 + "]" * 100_000,
    "not JSON": "{voices",
}


@pytest.fixture(scope="module")
def sound_note(tmp_path_factory):
    """The note a session with no note before writes."""
    require_espeak()
    home = tmp_path_factory.mktemp("clean")
    result = run(SESSION, home)
    assert result.returncode == 0, result.stderr
    return json.loads((home / "cache" / "voices.json").read_text())


@pytest.mark.parametrize("text", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_voice_note_is_written_anew(tmp_path, text, sound_note):
    note = tmp_path / "cache" / "voices.json"
    note.parent.mkdir()
    note.write_text(text)
    result = run(SESSION, tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    written = json.loads(note.read_text())
    assert isinstance(written, dict) and written[VOICE] == sound_note[VOICE]
