from hypothesis import given, settings, strategies as st
import pytest

from grounding.breath import HOLD, IN, OUT, REST, TOP, parse_pattern
from grounding.errors import UsageError


def phases(text):
    return [(p.kind, p.seconds) for p in parse_pattern(text).phases]


def test_two_numbers_are_in_and_out():
    assert phases("4-6") == [(IN, 4.0), (OUT, 6.0)]


def test_three_numbers_hold_after_the_in_breath():
    assert phases("4-7-8") == [(IN, 4.0), (HOLD, 7.0), (OUT, 8.0)]


def test_four_numbers_hold_after_both_breaths():
    assert phases("4-4-4-4") == [(IN, 4.0), (HOLD, 4.0), (OUT, 4.0), (REST, 4.0)]


def test_a_sigh_has_a_small_second_in_breath():
    assert phases("sigh") == [(IN, 2.5), (TOP, 0.7), (OUT, 6.0)]


def test_names_stand_for_their_numbers():
    assert phases("resonance") == phases("4-6")
    assert phases("box") == phases("4-4-4-4")
    assert phases("gentle-box") == phases("3-3-3-3")
    assert phases(" Coherent ") == phases("5-5")


def test_zero_length_phases_are_left_out_and_the_text_stays_readable():
    pattern = parse_pattern("4-0-6-2")
    assert [p.kind for p in pattern.phases] == [IN, OUT, REST]
    assert pattern.text == "4-0-6-2"
    assert parse_pattern(pattern.text) == pattern


def test_rate_and_cycle_length_are_computed_from_the_phases():
    pattern = parse_pattern("4-7-8")
    assert pattern.cycle_seconds == 19
    assert pattern.per_minute == pytest.approx(60 / 19)
    assert pattern.has_holds
    assert pattern.without_holds().text == "4-8"


@pytest.mark.parametrize("text, words", [
    ("2-2", "15.0 breaths a minute"),
    ("4-12-4", "holds are kept to 10 s"),
    ("0.5-6", "0.5 s in-breath"),
    ("4-20", "20 s out-breath"),
    ("4-4-0", "in-breath and an out-breath"),
    ("2.5+3-6", "second in-breath"),
    ("fast", "is not a breathing pattern"),
    ("4-6-", "is not a breathing pattern"),
])
def test_unsafe_or_unreadable_patterns_are_refused_with_a_reason(text, words):
    with pytest.raises(UsageError, match=words.replace(".", r"\.").replace("+", r"\+")):
        parse_pattern(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.-+ abcx", max_size=16))
def test_any_text_either_parses_or_raises_a_usage_error(text):
    try:
        pattern = parse_pattern(text)
    except UsageError:
        return
    assert pattern.per_minute <= 10 + 1e-9
