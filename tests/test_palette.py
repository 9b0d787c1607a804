import shutil

import pytest

from grounding.errors import ExerciseError
from grounding.palette import load_palette
from grounding.paths import bundled


def test_the_day_palette_rises_a_fifth_and_is_quiet():
    palette = load_palette("day")
    assert palette.tone.high_hz / palette.tone.low_hz == pytest.approx(1.5)
    assert palette.tone.peak_db <= -18
    assert palette.bell.seconds > 2


def test_partial_weights_make_a_waveform_that_peaks_at_one():
    import numpy as np

    weights = load_palette("day").tone.weights
    phase = np.linspace(0, 2 * np.pi, 100000)
    wave = sum(w * np.cos((k + 1) * phase) for k, w in enumerate(weights))
    assert np.max(np.abs(wave)) == pytest.approx(1.0, abs=1e-4)


def test_a_palette_whose_pitch_falls_is_refused_with_its_line(tmp_path):
    path = tmp_path / "odd.toml"
    shutil.copy(bundled("audio") / "day.toml", path)
    text = path.read_text().replace("high_hz = 330.0", "high_hz = 200.0")
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("high_hz"))
    with pytest.raises(ExerciseError, match=rf"^odd\.toml:{line}: \[tone\] high_hz: the pitch must rise"):
        load_palette(path)


def test_an_unknown_palette_name_is_a_sentence():
    with pytest.raises(ExerciseError, match="no sound palette called 'nope'"):
        load_palette("nope")
