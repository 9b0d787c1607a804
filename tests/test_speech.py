"""Speech through real espeak-ng and pyttsx3, in the worker process.

Each pyttsx3 behaviour from docs/audio-stack.md §1.2 that the worker guards against has a test
here that would fail without the guard.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pyloudnorm
import pytest

from grounding.cache import PCM_SCALE, ClipCache, samples_of
from grounding.errors import SpeechUnavailable, VoiceNotFound
from grounding.recording import LOUDNESS_TARGET
from grounding.speech import Pyttsx3Voice, SilentVoice
from grounding.speechclient import Worker
from support import (ROOT, read_wav, require_espeak, require_espeak_cli, run, seen_notice,
                     speech_workers, without_library)

pytestmark = pytest.mark.tts

LONG = " ".join(f"This is sentence number {n}, spoken slowly and calmly." for n in range(1, 17))


@pytest.fixture(autouse=True)
def espeak():
    require_espeak()


def voice(tmp_path, **kw) -> Pyttsx3Voice:
    return Pyttsx3Voice(cache=ClipCache(tmp_path / "cache"), **kw)


def clips_of(speaker, texts, samplerate) -> dict[str, np.ndarray]:
    """The samples of the clips a voice gives (most are files in the cache, read here)."""
    return {t: samples_of(c) for t, c in speaker.clips(texts, samplerate).items()}


def cli_seconds(tmp_path, text: str, rate: int) -> float:
    """Length of the same text from the espeak-ng command, trimmed as speech is trimmed."""
    exe = require_espeak_cli()
    path = tmp_path / "cli.wav"
    subprocess.run([exe, "-v", "en-us", "-s", str(rate), "-w", str(path), text], check=True)
    samples, rate_hz = read_wav(path)
    loud = np.nonzero(np.abs(samples) > 10 ** (-50 / 20))[0]
    return (loud[-1] - loud[0] + 1) / rate_hz


def test_clips_are_16_bit_at_the_asked_rate_and_at_the_loudness_target(tmp_path):
    clips = clips_of(voice(tmp_path), ["Let the next breath be slow and easy, not big."], 44100)
    clip = clips["Let the next breath be slow and easy, not big."]
    assert clip.dtype == np.int16 and clip.ndim == 1
    assert 1.5 < len(clip) / 44100 < 5
    measured = pyloudnorm.Meter(44100).integrated_loudness(clip / PCM_SCALE)
    assert measured == pytest.approx(LOUDNESS_TARGET, abs=0.5)
    assert np.max(np.abs(clip)) / PCM_SCALE <= 10 ** (-1 / 20) + 1e-4


def test_trailing_silence_is_trimmed(tmp_path):
    clip = clips_of(voice(tmp_path), ["Out."], 48000)["Out."]
    assert np.max(np.abs(clip[-480:])) > 0  # the last 10 ms still belong to the word
    assert len(clip) / 48000 < 0.8  # espeak adds about 0.4 s of silence after a sentence


def test_the_second_time_nothing_is_synthesised(tmp_path):
    texts = ["in", "out", "You can stop at any moment."]
    first = voice(tmp_path)
    one = clips_of(first, texts, 48000)
    assert first.synthesised == 3
    second = voice(tmp_path)
    two = clips_of(second, texts, 48000)
    assert second.synthesised == 0
    assert all(np.array_equal(one[t], two[t]) for t in texts)


def test_a_different_rate_or_samplerate_is_a_different_clip(tmp_path):
    fast = clips_of(voice(tmp_path, rate=200), ["Breathe out."], 48000)["Breathe out."]
    slow = clips_of(voice(tmp_path, rate=100), ["Breathe out."], 48000)["Breathe out."]
    low = clips_of(voice(tmp_path, rate=100), ["Breathe out."], 22050)["Breathe out."]
    assert len(slow) > 1.4 * len(fast)
    assert len(low) / 22050 == pytest.approx(len(slow) / 48000, abs=0.01)


def test_each_text_gets_its_own_clip(tmp_path):
    # pyttsx3 writes only the last of several files queued before one runAndWait (#170, #283)
    texts = ["One.", "One, two, three.", "One, two, three, four, five, six, seven."]
    clips = clips_of(voice(tmp_path), texts, 48000)
    lengths = [len(clips[t]) for t in texts]
    assert lengths == sorted(lengths) and lengths[0] * 3 < lengths[2]


def test_a_long_text_is_complete(tmp_path):
    # runAndWait can return before a long file exists (#219): the worker waits for the
    # finished-utterance event, so the clip is as long as espeak-ng's own rendering.
    clip = clips_of(voice(tmp_path), [LONG], 48000)[LONG]
    assert len(clip) / 48000 == pytest.approx(cli_seconds(tmp_path, LONG, 150), rel=0.05)


def test_the_rate_setting_takes_effect_every_time(tmp_path):
    # A rate set just before a render is ignored 12-35 % of the time (docs/audio-stack.md §1.2).
    text = "Slow matters more than deep."
    expected = cli_seconds(tmp_path, text, 100)
    for attempt in range(6):
        clip = clips_of(voice(tmp_path / str(attempt), rate=100), [text], 48000)[text]
        assert len(clip) / 48000 == pytest.approx(expected, rel=0.08), attempt


def test_a_language_tag_finds_a_voice_and_an_unknown_one_is_a_sentence(tmp_path):
    assert len(clips_of(voice(tmp_path, voice="en"), ["Hello."], 48000)["Hello."]) > 0
    with pytest.raises(VoiceNotFound, match="No installed voice matches 'xx-nowhere'"):
        clips_of(voice(tmp_path, voice="xx-nowhere"), ["Hello."], 48000)


def test_a_hung_worker_is_killed_after_its_time_limit(tmp_path):
    worker = Worker()
    try:
        assert worker.ask(15, op="hello", voice="en-us", rate=150)["ok"]
        os.kill(worker.process.pid, signal.SIGSTOP)  # a real hang: the process stops answering
        started = time.monotonic()
        with pytest.raises(SpeechUnavailable, match="took longer than 1 second to answer") as how:
            worker.ask(1.0, op="say", text="Hello.", path=str(tmp_path / "x.wav"))
        assert "reinstall" not in str(how.value)
        assert time.monotonic() - started < 3
        assert worker.process.poll() is not None
    finally:
        worker.kill()


def test_a_killed_worker_is_reported_not_fatal(tmp_path):
    worker = Worker()
    try:
        assert worker.ask(15, op="hello", voice="en-us", rate=150)["ok"]
        worker.process.kill()
        with pytest.raises(SpeechUnavailable, match="stopped unexpectedly") as how:
            worker.ask(5, op="say", text="Hello.", path=str(tmp_path / "x.wav"))
        assert "SIGKILL" in str(how.value) and "reinstall" not in str(how.value)
    finally:
        worker.kill()


def test_missing_espeak_data_keeps_the_session_going_without_a_voice(tmp_path):
    # libespeak-ng calls exit(1) when its data is missing; only the worker dies.
    (tmp_path / "empty" / "espeak-ng-data").mkdir(parents=True)
    out = tmp_path / "s.wav"
    result = run(["breathe", "4-6", "--cycles", "2", "--out", str(out)], tmp_path / "home",
                 env={"ESPEAK_DATA_PATH": str(tmp_path / "empty")})
    assert result.returncode == 0, result.stderr
    assert "stopped unexpectedly: its voice data cannot be read" in result.stderr
    assert "phontab" in result.stderr  # what espeak-ng said it could not read
    assert "sudo apt install --reinstall espeak-ng-data" in result.stderr
    assert "Carrying on with tones and captions, without a voice." in result.stderr
    assert "Traceback" not in result.stderr
    samples, rate = read_wav(out)
    assert len(samples) / rate > 20


def test_without_espeak_the_session_goes_on_and_says_how_to_install_it(tmp_path):
    out = tmp_path / "s.wav"
    result = run(["breathe", "4-6", "--cycles", "2", "--out", str(out)], tmp_path / "home",
                 prefix=without_library("espeak-ng"))
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "without a voice" in line]
    assert len(notes) == 1
    assert "sudo apt install espeak-ng" in notes[0]
    assert "Traceback" not in result.stderr and out.exists()


def test_the_engines_own_prints_never_reach_the_screen(tmp_path):
    # The espeak driver prints "Audio saved to ..." after every file.
    result = run(["breathe", "4-6", "--cycles", "1", "--out", str(tmp_path / "a.wav")],
                 tmp_path / "home")
    assert result.returncode == 0
    assert "Audio saved" not in result.stdout + result.stderr


def test_a_silent_voice_gives_silence_as_long_as_the_words_take():
    clips = SilentVoice(rate=120).clips(["one two three four"], 1000)
    assert len(clips["one two three four"]) == 1000 * (0.25 + 2.0)
    assert not clips["one two three four"].any()


def test_a_worker_killed_mid_synthesis_leaves_a_session_with_tones_and_captions(tmp_path):
    out = tmp_path / "r.wav"
    process, worker = play_and_find_its_worker(tmp_path, out)
    if worker is not None:
        os.kill(worker, signal.SIGKILL)
    killed = worker is not None
    _, stderr = process.communicate(timeout=60)
    assert killed and process.returncode == 0, stderr
    notes = [line for line in stderr.splitlines() if "without a voice" in line]
    assert len(notes) == 1 and "stopped unexpectedly: something ended it (SIGKILL)" in notes[0]
    assert "reinstall" not in stderr
    samples, rate = read_wav(out)
    assert len(samples) / rate > 300  # the whole exercise, its words given their time


def test_a_worker_that_hangs_mid_session_is_stopped_and_the_session_finishes(tmp_path):
    # pyttsx3's macOS driver can hang in runAndWait (docs/audio-stack.md §1.4): a stopped
    # worker stands for it. After the clip's time limit the worker is killed, the session is
    # told once, and it finishes with tones and captions.
    out = tmp_path / "r.wav"
    process, hung = play_and_find_its_worker(tmp_path, out)
    if hung is not None:
        os.kill(hung, signal.SIGSTOP)
    try:
        _, stderr = process.communicate(timeout=90)
    finally:
        if hung is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(hung, signal.SIGKILL)
    assert hung is not None and process.returncode == 0, stderr
    notes = [line for line in stderr.splitlines() if "without a voice" in line]
    assert len(notes) == 1, stderr
    # 20 s for a clip; 15 s if a slow machine had it stopped while it was still starting
    assert re.search(r"took longer than (20|15) seconds to answer, so it was stopped", notes[0])
    assert "Traceback" not in stderr
    assert ended(hung)  # killed, not left stopped
    samples, rate = read_wav(out)
    assert len(samples) / rate > 300  # the whole exercise, its words given their time


def play_and_find_its_worker(tmp_path, out) -> tuple[subprocess.Popen, int | None]:
    """``play resonance --out out`` started, and its speech worker's pid once it has rendered
    a few clips (None if none was seen within 20 s)."""
    env = {**os.environ, "GROUNDING_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([sys.executable, "-m", "grounding", "play", "resonance", "--out",
                                str(out)], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = speech_workers(process.pid)
        if found:
            time.sleep(0.3)  # let it render a few clips first
            return process, found[0]
        time.sleep(0.02)
    return process, None


def workers_of_this_process() -> list[int]:
    return speech_workers(os.getpid())


def wait_until(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_texts_for_later_are_voiced_in_the_background_after_the_first_ones(tmp_path):
    now = ["Nothing has to be decided right now."]
    later = [f"This is a later line, number {n}, for a later part." for n in range(1, 9)]
    cache = ClipCache(tmp_path / "cache")
    with Pyttsx3Voice(cache=cache) as shared:
        shared.later(later)
        first = clips_of(shared, now, 48000)
        made_by_then = shared.synthesised
        assert len(first[now[0]]) > 0 and made_by_then < 1 + len(later)  # it did not wait
        assert wait_until(lambda: shared.synthesised == 1 + len(later))
    assert workers_of_this_process() == []  # the worker went with the voice
    fresh = Pyttsx3Voice(cache=cache)
    clips_of(fresh, later, 48000)
    assert fresh.synthesised == 0  # all of them were already made


def test_a_worker_lost_in_the_background_is_told_once_then_the_voice_stays_silent(tmp_path):
    later = [f"Another later line, number {n}, spoken slowly." for n in range(1, 30)]
    with Pyttsx3Voice(cache=ClipCache(tmp_path / "cache")) as shared:
        shared.later(later)
        clips_of(shared, ["Hello."], 48000)
        for pid in workers_of_this_process():
            os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: shared.failed is not None)
        with pytest.raises(SpeechUnavailable, match="stopped unexpectedly"):
            clips_of(shared, ["One more line."], 48000)
        quiet = clips_of(shared, ["One more line."], 48000)["One more line."]
        assert len(quiet) > 0 and not quiet.any()


def median_f0(clip: np.ndarray, rate: int) -> float:
    """Median fundamental over voiced 40 ms frames, by autocorrelation (60-300 Hz)."""
    frame, found = round(0.04 * rate), []
    for start in range(0, len(clip) - frame, frame):
        x = clip[start:start + frame].astype(np.float64)
        if np.sqrt(np.mean(x * x)) < 0.01:
            continue
        ac = np.correlate(x, x, "full")[frame - 1:]
        lo, hi = rate // 300, rate // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.4 * ac[0]:
            found.append(rate / lag)
    return float(np.median(found))


def test_a_lower_pitch_gives_a_lower_voice_and_its_own_clip(tmp_path):
    text = "Nothing to achieve. Resting is enough."
    usual = clips_of(voice(tmp_path), [text], 16000)[text]
    lower = clips_of(voice(tmp_path, pitch=30), [text], 16000)[text]
    assert median_f0(lower, 16000) < 0.9 * median_f0(usual, 16000)


_PLAYER_WITH_A_FORK = """
import os, sys, threading, time
from grounding.speechclient import Worker
worker = Worker()
assert worker.ask(15, op="hello", voice="en-us", rate=150)["ok"]
copy = os.fork()  # a copy of the player, holding the worker's stdin open
if copy == 0:
    time.sleep(60)
    os._exit(0)
print(worker.process.pid, copy, flush=True)
time.sleep(60)
"""


def ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.split()[1:2] == ["Z"] for line in status if line.startswith("State:"))
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_worker_ends_within_2_s_of_its_player_being_killed(tmp_path):
    # The player is SIGKILLed while a forked copy of it still holds the worker's stdin open,
    # so the end of stdin never comes: the worker must notice its parent is gone.
    player = subprocess.Popen([sys.executable, "-c", _PLAYER_WITH_A_FORK], cwd=ROOT,
                              env={**os.environ, "GROUNDING_HOME": str(tmp_path / "home")},
                              stdout=subprocess.PIPE, text=True)
    worker, copy = (int(n) for n in player.stdout.readline().split())
    try:
        assert not ended(worker)
        player.send_signal(signal.SIGKILL)
        player.wait()
        assert wait_until(lambda: ended(worker), 2.0), "the worker outlived its player by 2 s"
        assert not ended(copy)  # what held the pipe was still there
    finally:
        for pid in (worker, copy):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_started_from_a_thread_that_ends_keeps_working(tmp_path):
    # Linux signals a child when the *thread* that started it ends (PR_SET_PDEATHSIG): the
    # player's background thread may start the worker and end while the player goes on.
    started, answers = [], []

    def start() -> None:  # the thread ends once the worker has answered
        started.append(Worker())
        answers.append(started[0].ask(15, op="hello", voice="en-us", rate=150))

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    worker = started[0]
    try:
        assert answers[0]["ok"]
        time.sleep(0.5)  # longer than the worker takes to look for its parent
        answer = worker.ask(15, op="say", text="Still here.", path=str(tmp_path / "x.wav"))
        assert answer["ok"] and (tmp_path / "x.wav").stat().st_size > 44
    finally:
        worker.close()


def test_a_voiced_session_killed_with_sigkill_leaves_no_worker_behind(tmp_path):
    env = {**os.environ, "GROUNDING_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([sys.executable, "-m", "grounding", "play", "resonance", "--out",
                                str(tmp_path / "r.wav")], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def worker() -> int | None:
        found = speech_workers(process.pid)
        return found[0] if found else None

    assert wait_until(lambda: worker() is not None, 20)
    pid = worker()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert wait_until(lambda: ended(pid), 2.0), "the worker outlived its player by 2 s"


def espeak_voice_names() -> set[str]:
    """The voice names the espeak-ng command lists (its own list, not grounding's)."""
    listed = subprocess.run([require_espeak_cli(), "--voices"], capture_output=True,
                            text=True).stdout.splitlines()[1:]
    return {line.split()[3].lower() for line in listed if len(line.split()) > 3}


def test_an_unknown_voice_is_a_sentence_with_the_closest_name_and_exit_2(tmp_path):
    assert "german" in espeak_voice_names()
    result = run(["breathe", "4-6", "--cycles", "1", "--voice", "germn", "--dry-run"],
                 tmp_path / "home")
    assert result.returncode == 2
    assert result.stderr.strip() == ("No installed voice matches 'germn'. Did you mean "
                                     "'german'? 'grounding voices' lists the voices you can use.")
    assert result.stdout == ""  # nothing was played or printed first


def test_a_voice_in_another_language_is_told_once_and_the_session_goes_on(tmp_path):
    home = tmp_path / "home"
    for _ in range(2):  # from the worker, then from the cache without one
        result = run(["play", "senses", "--voice", "de", "--dry-run"], home)
        assert result.returncode == 0, result.stderr
        notes = [line for line in result.stderr.splitlines() if "may sound odd" in line]
        assert notes == ["The voice de speaks German; these exercises are in English, so it "
                         "may sound odd."]
    english = run(["breathe", "4-6", "--cycles", "1", "--voice", "en-gb", "--dry-run"], home)
    assert english.returncode == 0 and "may sound odd" not in english.stderr


def test_config_set_voice_checks_the_voice_before_keeping_it(tmp_path):
    home = tmp_path / "home"
    wrong = run(["config", "set", "voice", "en-uss"], home)
    assert wrong.returncode == 2
    assert "No installed voice matches 'en-uss'. Did you mean 'en-us'?" in wrong.stderr
    assert "'grounding voices'" in wrong.stderr and "Traceback" not in wrong.stderr
    assert not (home / "config" / "config.toml").exists()  # nothing was kept
    german = run(["config", "set", "voice", "de"], home)
    assert german.returncode == 0
    assert "The voice de speaks German" in german.stderr
    assert 'voice = "de"' in (home / "config" / "config.toml").read_text()


def test_an_unknown_voice_in_a_terminal_is_a_sentence_and_the_terminal_is_given_back(
        instant_device, tmp_path):
    from terminal import Terminal  # tests/terminal.py

    home = seen_notice(tmp_path / "home")
    term = Terminal({**instant_device, "GROUNDING_HOME": str(home)}, width=80, height=24)
    try:
        term.grounding("breathe 4-6 --cycles 1 --device instant --voice germn")
        shown = term.wait_for("[finished]", timeout=30)
    finally:
        term.close()
    assert "No installed voice matches 'germn'. Did you mean 'german'?" in shown, shown
    assert "exit=2" in shown and "icanon echo" in shown, shown
    assert "Traceback" not in shown


def test_without_espeak_config_set_voice_keeps_the_voice_and_says_it_is_unchecked(tmp_path):
    home = tmp_path / "home"
    result = run(["config", "set", "voice", "de"], home, prefix=without_library("espeak-ng"))
    assert result.returncode == 0, result.stderr
    assert "sudo apt install espeak-ng" in result.stderr
    assert result.stderr.strip().endswith("The voice is kept, unchecked.")
    assert 'voice = "de"' in (home / "config" / "config.toml").read_text()


def test_a_voice_setting_that_matches_no_voice_says_where_it_comes_from(tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text('voice = "germn"\n', encoding="utf-8")
    result = run(["breathe", "4-6", "--cycles", "1", "--dry-run"], home)
    assert result.returncode == 2
    assert "No installed voice matches 'germn'. Did you mean 'german'?" in result.stderr
    assert "It is your voice setting: grounding config set voice NAME changes it." in \
        result.stderr
    given = run(["breathe", "4-6", "--cycles", "1", "--dry-run", "--voice", "germn"], home)
    assert given.returncode == 2 and "your voice setting" not in given.stderr


def test_a_variant_that_is_not_there_is_a_sentence_with_the_closest_one(tmp_path):
    variants = subprocess.run([require_espeak_cli(), "--voices=variant"], capture_output=True,
                              text=True).stdout
    assert "!v/f3" in variants  # espeak-ng's own list
    result = run(["breathe", "4-6", "--cycles", "1", "--voice", "en-us+f33", "--dry-run"],
                 tmp_path / "home")
    assert result.returncode == 2
    assert result.stderr.strip() == ("The voice en-us has no variant 'f33'. Did you mean 'f3'? "
                                     "Without the +f33, it speaks in its usual way.")


def test_a_variant_is_found_whatever_its_case(tmp_path):
    # espeak-ng opens a variant's file by its name, so a wrong case used to be left out
    # without a word.
    text = "Let the breath be soft."
    plain = clips_of(voice(tmp_path, voice="en-us"), [text], 16000)[text]
    whisper = clips_of(voice(tmp_path, voice="en-us+whisper"), [text], 16000)[text]
    shouted = clips_of(voice(tmp_path, voice="en-us+WHISPER"), [text], 16000)[text]
    assert not np.array_equal(plain[:len(whisper)], whisper[:len(plain)])
    assert np.array_equal(whisper, shouted)


def test_a_voice_the_engine_no_longer_finds_mid_session_leaves_captions_and_is_forgotten(
        tmp_path):
    # voices.json remembers what a voice resolved to; after an engine change (here, a note
    # made before variants were checked) the worker no longer finds it. The first lines come
    # from the cache; the lines rendered ahead in the background then fail.
    cache = ClipCache(tmp_path / "cache")
    clips_of(voice(tmp_path, voice="en-us"), ["Hello."], 48000)
    memos = cache.read_json("voices.json")
    cache.write_json("voices.json", {**memos, "en-us+nonsense": memos["en-us"]})
    with Pyttsx3Voice(voice="en-us+nonsense", cache=cache) as stale:
        stale.later(["A line for later."])
        assert len(clips_of(stale, ["Hello."], 48000)["Hello."]) > 0
        assert wait_until(lambda: stale.failed is not None, 20)
        with pytest.raises(SpeechUnavailable, match="has no variant 'nonsense'"):
            clips_of(stale, ["One more line."], 48000)
        assert not clips_of(stale, ["One more line."], 48000)["One more line."].any()
    assert "en-us+nonsense" not in cache.read_json("voices.json")
    cache.write_json("voices.json", {**memos, "en-us+nonsense": memos["en-us"]})
    unheld = Pyttsx3Voice(voice="en-us+nonsense", cache=cache)
    clips_of(unheld, ["Hello."], 48000)  # from the cache: the session has begun
    with pytest.raises(SpeechUnavailable, match="has no variant 'nonsense'"):
        clips_of(unheld, ["Another line."], 48000)
    with pytest.raises(VoiceNotFound):  # before a session has begun, it is to be corrected
        clips_of(voice(tmp_path, voice="en-us+nonsense"), ["Hello."], 48000)


_WORKER_IN_A_CLIP = """
import os, sys, time
from grounding.speechworker import requests
scratch = sys.argv[1]
lines = requests(sys.stdin, scratch, leave_at_end=True)
print("first:", next(lines).strip(), flush=True)
time.sleep(60)  # a clip that takes long: only the end of stdin can end it early
"""


def test_where_stdin_ending_means_the_player_is_gone_the_worker_leaves_mid_clip(tmp_path):
    # Windows keeps a process's parent number after the parent ends, so there the worker
    # leaves when its stdin ends (the player's end closes it), even in the middle of a clip
    scratch = tmp_path / "speech-scratch"
    scratch.mkdir()
    (scratch / "clip.wav").write_bytes(b"RIFF")
    worker = subprocess.Popen([sys.executable, "-c", _WORKER_IN_A_CLIP, str(scratch)],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        worker.stdin.write('{"op": "say"}\n')
        worker.stdin.flush()
        assert worker.stdout.readline() == 'first: {"op": "say"}\n'
        started = time.monotonic()
        worker.stdin.close()
        assert worker.wait(5) == 0
        assert time.monotonic() - started < 1.0
        assert not scratch.exists()
    finally:
        worker.kill()
