"""Text measured and fitted in terminal columns."""

from __future__ import annotations

import pytest

from grounding.columns import cells, cut, fit, rows_after_resize, wrap, wrap_lines

SENTENCE = ("Notice the weight of your body where it rests, the air on your skin, and the sounds "
            "near you and far away.")
WIDE = "呼吸をゆっくりと整えましょう。肩の力を抜いて、足の裏が床に触れているのを感じてください。"


def test_wide_characters_take_two_columns_and_combining_marks_none():
    assert cells("abc") == 3
    assert cells("呼吸") == 4
    assert cells("e\u0301") == 1  # e and a combining acute accent: one letter on screen


@pytest.mark.parametrize("text", [SENTENCE, WIDE, f"{WIDE} {SENTENCE}"])
@pytest.mark.parametrize("width", [6, 11, 20, 39, 78])
def test_wrapped_rows_fit_and_keep_every_character(text, width):
    rows = wrap(text, width, "  ")
    assert all(cells(row) <= width for row in rows)
    assert "".join(row.replace(" ", "") for row in rows) == text.replace(" ", "")


def test_a_row_is_broken_between_words_when_the_words_fit():
    rows = wrap("one two three four five six", 10)
    assert rows == ["one two", "three four", "five six"]


def test_cut_keeps_the_longest_start_that_fits():
    assert cut("呼吸をゆっくり", 5) == "呼吸"
    assert cut("calm", 10) == "calm" and cut("calm", 0) == ""


def test_fit_takes_the_longest_form_that_fits_else_cuts_the_shortest():
    forms = ("space pause · q stop · volume 70", "space pause · q stop", "q stop")
    assert fit(forms, 40) == forms[0]
    assert fit(forms, 25) == forms[1]
    assert fit(forms, 3) == "q s"


def test_rows_after_a_resize_count_the_rows_a_rewrapped_line_takes():
    assert rows_after_resize([79, 0, 40], 80) == 3
    assert rows_after_resize([79, 0, 40], 40) == 2 + 1 + 1


def test_help_lines_keep_their_indent_when_wrapped():
    rows = wrap_lines("Title:\n  Crisis: Samaritans 116 123 (free, 24/7)\n\nAnywhere", 20)
    assert rows[0] == "Title:" and rows[1].startswith("  Crisis") and rows[2].startswith("    ")
    assert "" in rows and rows[-1] == "Anywhere" and all(len(row) <= 20 for row in rows)
