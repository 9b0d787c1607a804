import re

import numpy as np
import pytest

from grounding.pause_plan import pause_script
from grounding.script import Speak
from support import read_wav, rms_db, run


def said(result) -> list[str]:
    return [line.split("says  ", 1)[1] for line in result.stdout.splitlines() if "  says  " in line]


def end_seconds(result) -> float:
    minutes, seconds = result.stdout.splitlines()[-1].split()[0].split(":")
    return int(minutes) * 60 + float(seconds)


def test_the_pause_goes_arrive_settle_surf_kindness_choose_in_that_order(tmp_path):
    result = run(["pause", "--dry-run"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = said(result)
    order = ["Both parts make sense", "put it face down", "try a sigh", "Let's just notice it",
             "like waves", "This is a hard moment", "yours to decide",
             "Or contact that person, if that's your choice", "look around for a moment",
             "You gave yourself a pause."]
    found = [next(i for i, line in enumerate(lines) if words in line) for words in order]
    assert found == sorted(found)
    assert result.stdout.splitlines()[0].split()[1] == "bell"  # a gentle sound first
    assert not any("cared for, without fear" in line for line in lines)  # no question unasked


def test_a_pause_written_to_a_file_never_mentions_abuse_lines(tmp_path):
    # A file for a phone can be heard or found by the person it is about (docs/safety.md §3.5);
    # the live pause says it, with the numbers on screen (tests/test_pause_flow.py).
    from grounding.pause_plan import part

    spoken = part("safety").texts()
    assert any("domestic abuse line" in text for text in spoken)
    planned = said(run(["pause", "--dry-run", "--rate", "300"], tmp_path))
    assert planned and not any("abuse" in line or "hurt, threatened" in line
                               for line in planned)


def test_the_whole_pause_can_be_stopped_and_says_so_early(tmp_path):
    lines = said(run(["pause", "--dry-run"], tmp_path))
    assert any("stop with q" in line for line in lines[:3])


def test_minutes_lengthen_only_the_urge_surfing(tmp_path):
    short = run(["pause", "--dry-run", "--minutes", "3"], tmp_path)
    long = run(["pause", "--dry-run", "--minutes", "9"], tmp_path)
    assert said(short) == said(long)
    assert end_seconds(long) - end_seconds(short) == pytest.approx(360, abs=12)


@pytest.mark.parametrize("minutes", [3, 8])
def test_the_urge_surfing_lasts_about_the_minutes_asked_for(minutes, tmp_path):
    # what the whole pause says up front is made of the parts' stated lengths; the surfing's
    # is --minutes, so it has to be true
    from grounding.cache import ClipCache
    from grounding.palette import load_palette
    from grounding.pause_plan import surf_part
    from grounding.player import prepare
    from grounding.speech import Pyttsx3Voice
    from support import require_espeak

    require_espeak()
    timeline = prepare(surf_part(minutes), Pyttsx3Voice(cache=ClipCache(tmp_path)),
                       load_palette("day"), 48000, print)
    assert timeline.seconds / 60 == pytest.approx(minutes, abs=0.25)


def test_the_stated_length_is_close_to_the_real_one(tmp_path):
    result = run(["pause", "--dry-run"], tmp_path)
    assert end_seconds(result) / 60 == pytest.approx(pause_script().minutes, rel=0.1)


def test_a_reflection_can_be_added_and_it_is_a_question_a_day():
    with_question = pause_script(reflect=True)
    texts = with_question.texts()
    assert "What would feeling cared for, without fear, be like?" in texts
    assert len(with_question.steps) > len(pause_script().steps)


def test_the_pause_shows_the_domestic_abuse_line_for_the_chosen_country(tmp_path):
    run(["config", "set", "country", "uk"], tmp_path)
    result = run(["pause", "--dry-run", "--no-voice"], tmp_path)
    assert "0808 2000 247" in result.stderr  # the one line that matters here, on screen
    assert "988" not in result.stderr and "Samaritans" not in result.stderr  # not a wall


def test_the_pause_renders_to_a_file_for_a_phone(tmp_path):
    out = tmp_path / "pause.wav"
    result = run(["pause", "--minutes", "3", "--no-voice", "--out", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    samples, rate = read_wav(out)
    planned = run(["pause", "--minutes", "3", "--no-voice", "--dry-run"], tmp_path)
    assert len(samples) / rate == pytest.approx(end_seconds(planned), abs=0.1)


def test_help_now_shows_the_chosen_country_or_all(tmp_path):
    no_territory = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
    every = run(["help-now"], tmp_path, env=no_territory).stdout
    assert all(name in every for name in ("United States", "Canada", "United Kingdom",
                                           "Ireland", "Australia"))
    irish = run(["help-now", "--country", "ie"], tmp_path).stdout
    assert "Women's Aid 1800 341 900" in irish and "United States" not in irish
    assert irish.startswith("If you are in danger right now, call your local emergency number.")
    run(["config", "set", "country", "AU"], tmp_path)
    assert "1800RESPECT" in run(["help-now"], tmp_path).stdout
    elsewhere = run(["help-now", "--country", "FR"], tmp_path)  # never an error
    assert elsewhere.returncode == 0 and "112" in elsewhere.stdout
    assert "findahelpline.com" in elsewhere.stdout


def test_every_spoken_line_of_the_pause_is_invitational():
    for step in pause_script(reflect=True).on(__import__("datetime").date.today()).steps:
        if isinstance(step, Speak):
            assert not re.search(r"\b(don't text|you must|you should|deep breath)\b|!",
                                 step.text, re.IGNORECASE), step.text


def band_db(samples, rate: int, start: float, seconds: float, lo: float, hi: float) -> float:
    """Power in [lo, hi] Hz over ``seconds`` from ``start``, dB (full scale sine: -3)."""
    window = samples[round(start * rate): round((start + seconds) * rate)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window)))) ** 2
    freqs = np.fft.rfftfreq(len(window), 1 / rate)
    power = spectrum[(freqs >= lo) & (freqs <= hi)].sum() / np.sum(np.hanning(len(window))) ** 2
    return 10 * np.log10(power + 1e-20)


def clock(text: str) -> float:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + float(seconds)


def planned(result, words: str) -> float:
    """When the dry-run plan says the line containing ``words``, seconds."""
    return clock(next(line for line in result.stdout.splitlines()
                      if "  says  " in line and words in line).split()[0])


def test_the_no_ask_render_holds_each_part_in_order_where_the_plan_puts_it(tmp_path):
    args = ["pause", "--no-ask", "--minutes", "3", "--rate", "220"]
    out = tmp_path / "pause.wav"
    assert run([*args, "--out", str(out)], tmp_path).returncode == 0
    plan = run([*args, "--dry-run"], tmp_path)
    samples, rate = read_wav(out)
    parts = [planned(plan, words) for words in (
        "Both parts make sense", "light-headed", "Let's just notice it", "This is a hard moment",
        "yours to decide")]
    assert parts == sorted(parts)
    # a soft bell first: its 392 Hz fundamental, before any word
    assert band_db(samples, rate, 0.0, 1.0, 380, 405) > band_db(samples, rate, 0.0, 1.0, 600, 4000) + 10
    for start in parts:  # each part begins with the voice where the plan says
        speech = band_db(samples, rate, start, 1.0, 1000, 4000)
        assert speech > band_db(samples, rate, start - 1.2, 1.0, 1000, 4000) + 10, start
    # the pacer (220-330 Hz) sounds through the settling and the urge surfing, not after
    # whole breaths away from any words: the pacer sounds, and under the urge surfing it is
    # low (card F1 step 5), 6 dB below the settling's
    ins = [clock(line.split()[0]) for line in plan.stdout.splitlines() if "  in  " in line]
    settle = [t for t in ins if planned(plan, "Now a slow out-breath") < t
              < planned(plan, "There's a pull to reach out")]
    surf = [t for t in ins if t > planned(plan, "Urges tend to build")]
    settling = band_db(samples, rate, settle[-2], 10.0, 215, 335)
    surfing = band_db(samples, rate, surf[1], 10.0, 215, 335)
    assert settling > -45
    assert surfing == pytest.approx(settling - 6, abs=1.0)
    # the kind moment has no pacer: the 4 s after its first line are silent
    gap_end = planned(plan, "Many people feel pulled back")
    gap = samples[round((gap_end - 3.0) * rate): round((gap_end - 0.3) * rate)]
    assert rms_db(gap) < -70


def test_a_live_pause_plays_each_part_at_its_level_in_the_whole(tmp_path):
    """Played live, the pause's parts are sessions of their own; with the one gain they share
    (grounding.player.shared_gain), the urge surfing's pacer is still 6 dB below the
    settling's, as in the whole (card F1 step 5), rather than each part levelled alone."""
    from grounding.cache import ClipCache
    from grounding.palette import load_palette
    from grounding.pause_plan import part, surf_part
    from grounding.player import Options, prepare, shared_gain
    from grounding.render import DEVICE_LOUDNESS, Mix, render
    from grounding.speech import Pyttsx3Voice
    from support import require_espeak

    require_espeak()
    options, palette, rate = Options(rate=220), load_palette("day"), 16000
    gain = shared_gain(pause_script(3), options, palette)
    voice = Pyttsx3Voice(rate=220, cache=ClipCache(tmp_path))
    levels = []
    for script in (part("settle"), surf_part(3)):
        timeline = prepare(script, voice, palette, rate, print, 220)
        mix = Mix(gain=gain, loudness=DEVICE_LOUDNESS)
        samples = np.concatenate(list(render(timeline, palette, mix)))[:, 0]
        spoken = [(c.start, c.start + len(c.samples)) for c in timeline.clips]
        quiet = [t.start for t in timeline.tones if t.kind == "in" and not any(
            a < t.start + 10 * rate and t.start < b for a, b in spoken)]  # no voice, no dip
        levels.append(band_db(samples, rate, quiet[-1] / rate, 10.0, 215, 335))
    settling, surfing = levels
    assert settling > -45
    assert surfing == pytest.approx(settling - 6, abs=1.0)
