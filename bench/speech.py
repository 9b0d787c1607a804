"""4. The cold voice cache: every clip of the longest bundled exercise synthesised in-process."""

from __future__ import annotations

import time
from pathlib import Path
from statistics import median

from child import empty_home
from renders import FILE_RATE, breathe_script
from table import add, fmt_runs, say

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
"""The bundled exercises of the checkout being measured."""


def longest_script():
    """The longest bundled exercise and its file (a 10-minute breathing session and None if
    there is none)."""
    from grounding.scriptfile import load_script

    found = [(load_script(path), path) for path in sorted(SCRIPTS.glob("*.toml"))]
    return max(found, key=lambda pair: pair[0].minutes, default=(breathe_script(10), None))


def measure_cold_speech(runs: int, work: Path) -> None:
    """All clips of the longest bundled exercise, each run into an empty cache."""
    from grounding.speech import Pyttsx3Voice

    script = longest_script()[0]
    texts = script.texts()
    say(f"cold speech cache: '{script.name}' ({len(texts)} texts) × {runs}")
    times, counts, speech = [], set(), 0.0
    for i in range(runs):
        with empty_home(f"cold{i}-", work):
            voice = Pyttsx3Voice()
            start = time.perf_counter()
            clips = voice.clips(texts, FILE_RATE)
            times.append(time.perf_counter() - start)
            counts.add((len(clips), voice.synthesised))
            speech = sum(len(c) for c in clips.values()) / FILE_RATE
    m = median(times)
    clips, made = min(counts)
    add(f"4. cold voice cache: all clips of '{script.name}' ({script.minutes:g} min)",
        f"{m:.2f} s", "≤ 2 s (10-min exercise)", m <= 2.0,
        f"{clips} clips ({made} synthesised), {speech:.0f} s of speech, "
        f"{1000 * m / max(clips, 1):.0f} ms/clip; runs {fmt_runs(times, ' s', 2)}")
