import numpy as np
import pytest

from grounding.breath import parse_pattern
from grounding.cache import ClipCache, StoredClip
from grounding.palette import load_palette
from grounding.render import Mix, render
from grounding.script import Bell, Breathe, Script, Speak
from grounding.timeline import build_timeline

PALETTE = load_palette("day")
RATE = 48000


def timeline(seconds_of_voice=0.8, cache=None):
    """A short session; with ``cache``, its clips are files there, read as they play."""
    steps = (Bell(), Speak("Hello there.", 0.5),
             Breathe(parse_pattern("4-2-6"), 1, "words", 1, ()), Speak("Bye.", 0))
    s = Script("t", "T", "t", 1, (), True, "tests", steps)
    rng = np.random.default_rng(7)
    clips = {t: (3000 * rng.standard_normal(round(seconds_of_voice * RATE))).astype(np.int16)
             for t in s.texts()}
    if cache is not None:
        for n, text in enumerate(clips):
            cache.store(f"{n:064x}", clips[text])
            clips[text] = cache.stored(f"{n:064x}")
    return build_timeline(s, clips, PALETTE, RATE)


def whole(tl, blocksize, mix=Mix()):
    return np.concatenate(list(render(tl, PALETTE, mix, blocksize)))


def test_render_is_identical_for_any_block_size():
    tl = timeline()
    reference = whole(tl, tl.frames)
    for size in (7, 512, 2048, 4096, 8192):
        assert np.array_equal(whole(tl, size), reference), size


def test_clips_read_from_the_cache_as_they_play_sound_the_same(tmp_path):
    reference = whole(timeline(), 4096)
    stored = timeline(cache=ClipCache(tmp_path))
    assert all(isinstance(c.samples, StoredClip) for c in stored.clips)
    for size in (333, 8192, stored.frames):
        assert np.array_equal(whole(stored, size), reference), size


def test_a_line_whose_file_is_gone_is_silent_and_the_rest_plays(tmp_path):
    tl = timeline(cache=ClipCache(tmp_path))
    gone = next(c for c in tl.clips if c.text == "Bye.")
    gone.samples.path.unlink()
    with_it, without = whole(timeline(), 4096), whole(tl, 4096)
    line = slice(gone.start, gone.start + gone.frames)
    assert np.array_equal(without[:gone.start], with_it[:gone.start])
    assert np.array_equal(without[line], whole(timeline(), 4096, Mix(voice=False))[line])
    assert not np.array_equal(without[line], with_it[line])


def test_block_size_one_gives_the_same_samples_too():
    tl = timeline()
    tl.frames = 3000  # block size 1 is slow in Python: the first 3000 frames are enough
    assert np.array_equal(whole(tl, 1), whole(tl, 4096))


def test_blocks_are_float32_mono_and_within_unit_range():
    tl = timeline()
    blocks = list(render(tl, PALETTE, Mix(volume=1.0), 1000))
    assert all(b.dtype == np.float32 and b.ndim == 2 and b.shape[1] == 1 for b in blocks)
    assert all(len(b) == 1000 for b in blocks[:-1]) and 0 < len(blocks[-1]) <= 1000
    assert sum(len(b) for b in blocks) == tl.frames
    assert max(float(np.max(np.abs(b))) for b in blocks) <= 1.0


def test_volume_scales_the_whole_mix():
    tl = timeline()
    full, half = whole(tl, 4096, Mix(volume=1.0)), whole(tl, 4096, Mix(volume=0.5))
    assert np.allclose(half, full * 0.5, atol=1e-6)


def test_layers_can_be_left_out():
    tl = timeline()
    nothing = whole(tl, 4096, Mix(voice=False, tones=False))
    assert not nothing.any()
    voice_only = whole(tl, 4096, Mix(tones=False))
    quiet = [c for c in tl.clips]
    gaps = np.ones(tl.frames, bool)
    for c in quiet:
        gaps[c.start:c.start + c.frames] = False
    assert not voice_only[gaps].any() and voice_only[~gaps].any()


def test_a_block_size_below_one_is_refused():
    with pytest.raises(ValueError):
        next(render(timeline(), PALETTE, Mix(), 0))


NIGHT = load_palette("night")


def night_timeline():
    """Two joined breathing steps that narrow the pitch, a level that eases down, then a fade
    to silence: what the bedtime routine is made of."""
    pattern = parse_pattern("4.5-6.5")
    steps = (Speak("Hello there.", 0.5),
             Breathe(pattern, 2, "none", 0, ("A line.",), line_delay=1.0, level_db=-4.0),
             Breathe(pattern, 2, "none", 0, (), pitch_range=0.5, level_db=float("-inf")))
    s = Script("t", "T", "t", 1, (), False, "tests", steps)
    clips = {t: (1500 * np.random.default_rng(3).standard_normal(RATE)).astype(np.int16)
             for t in s.texts()}
    return build_timeline(s, clips, NIGHT, RATE)


@pytest.mark.parametrize("noise", [None, "brown", "pink"])
def test_a_night_render_is_identical_for_any_block_size_too(noise):
    tl = night_timeline()
    mix = Mix(noise=noise)
    reference = np.concatenate(list(render(tl, NIGHT, mix, tl.frames)))
    for size in (333, 2048, 8192):
        assert np.array_equal(np.concatenate(list(render(tl, NIGHT, mix, size))), reference)


def test_joined_breathing_steps_keep_one_unbroken_pacer():
    tl = night_timeline()
    tones = np.concatenate(list(render(tl, NIGHT, Mix(voice=False), 4096)))[:, 0]
    joint = next(t.start for t in tl.tones if t.cycle == 0 and t.start > tl.tones[0].start)
    around = tones[joint - 2400: joint + 2400]
    assert np.min(np.abs(around).reshape(-1, 480).max(axis=1)) > 1e-3  # never falls silent
    assert tones[-1] == 0.0


FIRST_SOUND_SECONDS = 2.0
"""Whatever is switched off, something is heard this soon after a session starts."""


def first_sound(tl, mix: Mix) -> float:
    """Seconds until the first layer that ``mix`` lets sound begins: a tone or a bell, or a
    line. (Only the first line's start counts, which does not depend on any line's length,
    so the silent voice's timeline tells it for a real voice too.)"""
    starts = ([t.start for t in tl.tones] + [c.start for c in tl.chimes] if mix.tones else [])
    starts += [c.start for c in tl.clips if not c.cue] if mix.voice else []
    return min(starts) / tl.samplerate


def bundled_sessions():
    """Every bundled exercise (day palette) and the bedtime routine (night palette), without
    and with a voice (bedtime leaves out its opening words without one)."""
    from grounding.bedtime import bedtime_script
    from grounding.paths import bundled
    from grounding.scriptfile import load_script

    for path in sorted(bundled("scripts").glob("*.toml")):
        script = load_script(path)
        yield path.stem, script, script, PALETTE
    yield "bedtime", bedtime_script(voiced=False), bedtime_script(), NIGHT


@pytest.mark.parametrize("switched_off", ["voice", "tones"])
def test_something_sounds_within_two_seconds_whatever_is_switched_off(switched_off):
    from grounding.player import prepare
    from grounding.speech import SilentVoice

    mix = Mix(voice=switched_off != "voice", tones=switched_off != "tones")
    late = {}
    names = []
    for name, unvoiced, voiced, palette in bundled_sessions():
        script = unvoiced if switched_off == "voice" else voiced
        tl = prepare(script, SilentVoice(150), palette, 8000, lambda line: None)
        names.append(name)
        if first_sound(tl, mix) > FIRST_SOUND_SECONDS:
            late[name] = first_sound(tl, mix)
    assert len(names) > 20 and "bedtime" in names
    assert not late, late
