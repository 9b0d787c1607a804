"""Lengths as they are listed, shown and said: one rounding, three ways of telling it."""

import re

import pytest
from hypothesis import given, strategies as st

from grounding import lengths
from support import said_seconds as heard


def shown(text: str) -> float:
    """Seconds, read back from figures ("2.5 min", "40 s") or the header's words."""
    found = re.fullmatch(r"(?:about )?(\d+(?:\.5)?) (min|minutes?|s|seconds)", text)
    assert found, text
    return float(found.group(1)) * (60 if found.group(2).startswith("min") else 1)


@pytest.mark.parametrize("seconds, said, header, listed", [
    (4, "about ten seconds", "about 10 seconds", "10 s"),
    (44.9, "about forty seconds", "about 40 seconds", "40 s"),
    (45, "about fifty seconds", "about 50 seconds", "50 s"),
    (54.9, "about fifty seconds", "about 50 seconds", "50 s"),
    (55, "about a minute", "about 1 minute", "1 min"),
    (75, "about a minute and a half", "about 1.5 minutes", "1.5 min"),
    (134.9, "about two minutes", "about 2 minutes", "2 min"),
    (135, "about two and a half minutes", "about 2.5 minutes", "2.5 min"),
    (165, "about three minutes", "about 3 minutes", "3 min"),
    (584.9, "about nine and a half minutes", "about 9.5 minutes", "9.5 min"),
    (585, "about ten minutes", "about 10 minutes", "10 min"),
    (629.9, "about ten minutes", "about 10 minutes", "10 min"),
    (2730, "about forty-six minutes", "about 46 minutes", "46 min"),
])
def test_a_length_is_rounded_one_way_and_told_three_ways(seconds, said, header, listed):
    assert lengths.spoken(seconds) == said
    assert lengths.words(seconds) == header
    assert lengths.figures(seconds) == listed


@given(st.floats(1, 100 * 60, allow_nan=False))
def test_figures_words_and_speech_always_agree_and_are_near_the_length(seconds):
    value = heard(lengths.spoken(seconds))
    assert shown(lengths.words(seconds)) == shown(lengths.figures(seconds)) == value
    step = 10 if seconds < 55 else 30 if seconds < 585 else 60
    assert abs(value - seconds) <= step / 2 or value == 10
    assert value % step == 0


@given(st.floats(1, 100 * 60, allow_nan=False), st.floats(0, 600, allow_nan=False))
def test_a_longer_session_is_never_told_as_shorter(seconds, more):
    assert lengths.rounded(seconds + more) >= lengths.rounded(seconds)
