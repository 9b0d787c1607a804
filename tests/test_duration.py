"""An exercise's real length, from its steps: what ``validate`` reports, and the limit that
refuses a file of hours whatever its ``minutes`` says."""

from datetime import date
from pathlib import Path

import pytest

from grounding.duration import script_seconds
from grounding.palette import load_palette
from grounding.scriptfile import load_script
from grounding.speech import SilentVoice
from grounding.timeline import build_timeline
from support import ROOT, run

HEAD = '''title = "Long"
summary = "Says one minute."
minutes = 1
tags = ["practice"]
holds = false
source = "me"
'''
REFUSED = "its steps add up to more than 3 hours, though minutes = 1 says about 1 minute"


@pytest.mark.parametrize("path", sorted((ROOT / "scripts").rglob("*.toml")),
                         ids=lambda p: str(p.relative_to(ROOT / "scripts")))
def test_the_estimate_is_the_length_the_timeline_has(path):
    # with the words read at the estimated speed (a silent voice), the steps add up to
    # exactly what the timeline, built sample by sample, lasts
    script = load_script(path).on(date(2026, 1, 1))
    rate = 8000
    clips = SilentVoice(150).clips(script.texts(), rate)
    timeline = build_timeline(script, clips, load_palette("day"), rate)
    assert script_seconds(script, 150) == pytest.approx(timeline.seconds, abs=0.01)


def test_validate_reports_the_length_the_steps_add_up_to(tmp_path):
    path = tmp_path / "pauses.toml"
    path.write_text(HEAD + '[[step]]\npause = 300\n' * 10)  # ten silences of five minutes
    result = run(["validate", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "about 50 minutes (minutes = 1 says about 1 minute)" in result.stdout


def _many_steps(tmp_path: Path) -> Path:
    path = tmp_path / "many.toml"
    path.write_text(HEAD + '[[step]]\nspeak = "Notice your feet on the floor."\n' * 15_000)
    assert path.stat().st_size < 1 << 20  # within the size any data file may have
    return path


def test_a_file_of_15000_steps_is_refused_with_its_real_length(tmp_path):
    path = _many_steps(tmp_path)
    # each line takes seconds to say and a second of silence after it: half a day in all
    result = run(["validate", str(path)], tmp_path, timeout=60)
    assert result.returncode == 2
    assert REFUSED in result.stderr and "at most 3 hours" in result.stderr
    assert "Traceback" not in result.stderr


def test_playing_such_a_file_is_refused_before_anything_is_said(tmp_path):
    path = _many_steps(tmp_path)
    result = run(["play", str(path), "--no-voice", "--out", str(tmp_path / "x.wav")], tmp_path,
                 timeout=60)
    assert result.returncode == 2 and REFUSED in result.stderr
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("line", ["word " * 150_000, "a" * 900_000],
                         ids=["150,000 words", "900,000 letters in one word"])
def test_one_huge_line_is_refused_too(tmp_path, line):
    path = tmp_path / "wide.toml"
    path.write_text(HEAD + f'[[step]]\nspeak = "{line}"\n')
    result = run(["validate", str(path)], tmp_path, timeout=60)
    assert result.returncode == 2 and REFUSED in result.stderr


def test_just_under_three_hours_is_fine(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text(HEAD + '[[step]]\npause = 300\n' * 35)  # 175 minutes of silence
    result = run(["validate", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "about 175 minutes" in result.stdout
    path.write_text(HEAD + '[[step]]\npause = 300\n' * 37)  # 185 minutes
    assert run(["validate", str(path)], tmp_path).returncode == 2


def test_a_slowing_breath_is_counted_breath_by_breath(tmp_path):
    # a ramp from 10 breaths a minute down to the pattern's 6, half a breath slower every
    # two breaths: 2 breaths each at 10, 9.5, 9, ... 6.5, then the rest at 6
    path = tmp_path / "ramp.toml"
    path.write_text(HEAD + '[[step]]\nbreathe = "4-6"\ncycles = 20\nramp = 10\ncue_cycles = 0\n')
    paces = [10 - 0.5 * (k // 2) for k in range(16)] + [6] * 4
    expected = sum(60 / pace for pace in paces)
    assert script_seconds(load_script(path), 150) == pytest.approx(expected)
