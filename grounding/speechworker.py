"""The speech worker: a short-lived process that only writes pyttsx3 clips to WAV files.

Run as ``python -m grounding.speechworker``; it reads one JSON request per line on stdin and
answers one JSON line each on the original stdout. pyttsx3 runs here, not in the player, so
its hangs, its ``exit(1)`` inside libespeak-ng and its stray prints cannot reach the user
(docs/audio-stack.md §1). Each guard below names the pyttsx3 behaviour it avoids.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import Iterable, Iterator

from grounding import paths

UTTERANCE_SECONDS = 30.0
PARENT_CHECK_SECONDS = 0.2
"""How often the worker looks whether the player that started it is still there."""
PR_SET_PDEATHSIG = 1
"""prctl(2)'s option for a signal sent to this process when its parent ends (Linux)."""
WINDOWS = sys.platform == "win32"
ESPEAK, NATURAL = "espeak", "natural"
"""The engines: pyttsx3 (which drives espeak-ng on Linux) for every voice but the natural one,
and Piper for that (its name is ``grounding.natural.NAME``, imported only where it runs)."""


def _protocol_stream():
    """Keep a private copy of stdout for answers, and send fd 1 to /dev/null: the espeak
    driver prints ``Audio saved to …`` after every file (pyttsx3/drivers/espeak.py)."""
    answers = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    return answers


class Engine:
    """One pyttsx3 engine for the life of the process (two engines hang:
    docs/audio-stack.md §1.2)."""

    def __init__(self, scratch: str) -> None:
        import pyttsx3

        self.engine = pyttsx3.init()
        self.driver = self.engine.driver_name
        self.done = threading.Event()
        self.errors: list[str] = []
        self.engine.connect("finished-utterance", self._finished)
        self.engine.connect("error", self._error)
        self.voices = self.engine.getProperty("voices")
        self.listed = [listed(voice) for voice in self.voices]
        self.variants = self._variants()
        self.scratch = scratch
        # The first runAndWait after init() returns before the file exists, and settings made
        # before it run in the same pump as the first utterance (pyttsx3 #219;
        # docs/audio-stack.md §1.2): render one throwaway clip so later settings apply at once.
        self.save(".", os.path.join(self.scratch, "warmup.wav"))

    def _finished(self, name, completed) -> None:
        self.done.set()

    def _error(self, name, exception) -> None:
        self.errors.append(str(exception))

    @staticmethod
    def libraries() -> dict[str, str]:
        """The versions of the libraries between the engine and a clip (pyttsx3 writes the
        recording, soxr resamples it), part of every cache key."""
        from importlib import metadata

        found = {}
        for name in ("pyttsx3", "soxr"):
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                found[name] = "unknown"
        return found

    def version(self) -> str:
        """The engine's name and version, part of every cache key."""
        if self.driver == "espeak":
            from pyttsx3.drivers import _espeak

            info = _espeak.Info()
            return "espeak-ng " + (info.decode() if isinstance(info, bytes) else str(info))
        return self.driver

    def resolve(self, wanted: str) -> str | None:
        """A voice id for an id, a name, a language tag (``en``, ``en-us``) or any of them
        plus ``+variant``."""
        return resolve(wanted, self.listed, self.variants)

    def _variants(self) -> list[str] | None:
        """espeak-ng's voice variants (``f3``, ``whisper``: the files in its ``voices/!v``),
        which it does not list among the voices (pyttsx3 #220), and which it leaves out
        without a word when one is not there; None for engines without variants."""
        if self.driver != "espeak":
            return None
        import ctypes

        from pyttsx3.drivers import _espeak

        spec = _espeak.VOICE()
        spec.languages = b"variant"
        found = _espeak.ListVoices(ctypes.pointer(spec))
        return [v.identifier.decode().rpartition("/")[2] for v in found if v.identifier]

    def configure(self, voice_id: str, rate: int, pitch: int | None) -> None:
        """Set voice, rate and pitch (0-100; espeak only, the other drivers print that they
        cannot), then wait until espeak has applied them: a rate change followed at once by a
        render is ignored 12-35 % of the time (docs/audio-stack.md §1.2)."""
        self.engine.setProperty("voice", voice_id)
        self.engine.setProperty("rate", rate)
        if pitch is not None and self.driver == "espeak":
            self.engine.setProperty("pitch", pitch)
        if self.driver == "espeak":
            from pyttsx3.drivers import _espeak

            deadline = time.monotonic() + 1.0
            while _espeak.IsPlaying() and time.monotonic() < deadline:
                time.sleep(0.005)
        time.sleep(0.05)

    def save(self, text: str, path: str) -> str | None:
        """Render one utterance to ``path``; None on success, else why not.

        One utterance per runAndWait (only the last of several queued files is written:
        pyttsx3 #170, #283), and wait for ``finished-utterance``, because runAndWait may
        return before the file exists (pyttsx3 #219)."""
        self.done.clear()
        self.errors.clear()
        self.engine.save_to_file(text, path)
        self.engine.runAndWait()
        if not self.done.wait(UTTERANCE_SECONDS):
            return f"it did not finish it within {UTTERANCE_SECONDS:g} seconds"
        if self.errors:
            return self.errors[0]
        deadline = time.monotonic() + 2.0
        while not (os.path.exists(path) and os.path.getsize(path) > 44):
            if time.monotonic() > deadline:
                return "it wrote no audio"
            time.sleep(0.005)
        return None


def listed(voice) -> dict:
    """A pyttsx3 voice as it is answered: ``id``, ``name``, ``languages`` (text; espeak-ng's
    start with a priority byte, ``\\x05``)."""
    return {"id": voice.id, "name": voice.name,
            "languages": [lang.decode() if isinstance(lang, bytes) else str(lang)
                          for lang in (voice.languages or [])]}


def resolve(wanted: str, voices: list[dict], variants: list[str] | None) -> str | None:
    """The id of the voice among ``voices`` (as :func:`listed` gives them) that ``wanted``
    names: its id or name, else the closest language tag (``en`` finds ``en`` before
    ``en-gb``), either with ``+variant``, one of ``variants`` (left out where the engine has
    none: None); None if nothing matches. Languages are compared as pyttsx3 compares them,
    ``_`` as ``-`` and in lower case (docs/audio-stack.md §1.2)."""
    base, plus, variant = wanted.partition("+")
    if variant and variants is not None:
        variant = variant_named(variant, variants)
        if variant is None:
            return None
    want = base.replace("_", "-").lower()
    chosen = next((v["id"] for v in voices
                   if v["id"].lower() == want or v["name"].lower() == want), None)
    if chosen is None:
        ranked = []
        for voice in voices:
            for lang in voice["languages"]:
                tag = lang.replace("_", "-").lower().lstrip("\x05")
                if tag == want:
                    ranked.append((0, voice["id"]))
                elif tag.startswith(want + "-"):
                    ranked.append((1 + len(tag), voice["id"]))
        chosen = min(ranked)[1] if ranked else None
    if chosen is None:
        return None
    return chosen + (plus + variant if variant and variants is not None else "")


def variant_named(wanted: str, variants: list[str]) -> str | None:
    """The variant among ``variants`` that ``wanted`` names, in its own case (espeak-ng opens
    its file by that name); a number ``n`` is ``mn``, as espeak-ng reads it."""
    want = f"m{wanted}" if wanted.isdigit() else wanted
    return next((v for v in variants if v.lower() == want.lower()), None)


def _scratch() -> str:
    """A folder of this worker's own, inside the temporary folder of the process that started
    it (never the system's), made the only place the engine's libraries can write to. Set
    before the engine loads, as its C code reads the environment then."""
    scratch = tempfile.mkdtemp(prefix="speech-", dir=paths.temp_dir())
    # pyttsx3's espeak driver writes a NamedTemporaryFile when asked to speak, not save
    tempfile.tempdir = scratch
    os.environ.update(TMPDIR=scratch, TEMP=scratch, TMP=scratch)
    # libespeak-ng opens and closes a test stream on the sound server when it starts, even
    # only to write files (pcaudiolib), and libpulse then makes ~/.config/pulse and, without
    # XDG_RUNTIME_DIR, /tmp/pulse-*: the worker never plays, so it is kept from the server
    os.environ.update(PULSE_SERVER=f"unix:{os.path.join(scratch, 'none')}",
                      PULSE_RUNTIME_PATH=scratch, PULSE_STATE_PATH=scratch)
    return scratch


def _leave_with(parent: int, scratch: str) -> None:
    """End this process, its scratch folder removed, as soon as the player (process
    ``parent``) is gone, however it ended (a SIGKILL included). Its end closes stdin, but a
    worker only acts on stdin between clips, and a copy of the player made by a fork keeps
    the pipe open: so Linux is asked to signal the player's end (PR_SET_PDEATHSIG), and a thread
    looks for it every PARENT_CHECK_SECONDS everywhere else (the worker is then the child
    of another process).

    Linux sends that signal when the *thread* that started the worker ends, which may be the
    player's background thread while the player goes on: so the signal only makes the worker
    look, and it leaves only when its parent has changed.

    On Windows a process keeps its parent's number when the parent ends, and there is no
    fork: there the end of stdin, which :func:`requests` reads between clips and during them,
    is the player's end (see :func:`_leave`)."""

    def leave_if_alone(*_) -> None:
        if os.getppid() != parent:
            _leave(scratch)

    if WINDOWS:
        return
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            signal.signal(signal.SIGUSR1, leave_if_alone)
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGUSR1))
        except (OSError, AttributeError, ValueError):
            pass  # the thread below still notices
    leave_if_alone()  # it may have ended before the signal was asked for

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            leave_if_alone()

    threading.Thread(target=watch, name="grounding-parent-watch", daemon=True).start()


def _leave(scratch: str) -> None:
    """End this process at once, its scratch folder removed."""
    shutil.rmtree(scratch, ignore_errors=True)
    os._exit(0)


def requests(stream, scratch: str, leave_at_end: bool = WINDOWS) -> Iterator[str]:
    """The lines of ``stream`` (stdin), read by a thread of their own so that its end is seen
    even in the middle of a clip. With ``leave_at_end`` (on Windows, where that end means
    the player is gone) the worker then leaves at once; elsewhere the loop ends after the
    clip (the player closed it, or the parent watch of :func:`_leave_with` sees to it)."""
    lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        if leave_at_end:
            _leave(scratch)
        lines.put(None)

    threading.Thread(target=read, name="grounding-requests", daemon=True).start()
    return iter(lines.get, None)


def main() -> None:
    """Answer requests until stdin closes or the player is gone; then remove the scratch
    folder. The player gives its process id as the first argument, and the engine as the
    second: ``espeak`` (pyttsx3, the default) or ``natural`` (Piper)."""
    parent = int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()
    engine = sys.argv[2] if len(sys.argv) > 2 else ESPEAK
    answers = _protocol_stream()
    scratch = _scratch()
    _leave_with(parent, scratch)
    try:
        serve(answers, scratch, requests(sys.stdin, scratch), engine)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def serve(answers, scratch: str, lines: Iterable[str], which: str = ESPEAK) -> None:
    """Answer the requests in ``lines`` until they end (stdin closes), with the engine
    ``which`` names."""

    def reply(**fields) -> None:
        answers.write(json.dumps(fields) + "\n")

    try:
        if which == NATURAL:
            from grounding.natural import PiperEngine

            engine = PiperEngine(scratch)
        else:
            engine = Engine(scratch)
    except Exception as exc:  # pyttsx3 raises RuntimeError when libespeak-ng is missing
        reply(ok=False, error="no-engine", detail=str(exc))
        return
    for line in lines:
        request = json.loads(line)
        op = request.get("op")
        if op == "hello":
            voice_id = engine.resolve(request["voice"])
            if voice_id is None:
                reply(ok=False, error="unknown-voice", voices=engine.listed,
                      variants=engine.variants)
                continue
            pitch = request.get("pitch")
            engine.configure(voice_id, int(request["rate"]), None if pitch is None else int(pitch))
            chosen = next(v for v in engine.listed if v["id"] == voice_id.partition("+")[0])
            reply(ok=True, voice_id=voice_id, engine=engine.version(), driver=engine.driver,
                  libraries=engine.libraries(), name=chosen["name"],
                  languages=chosen["languages"])
        elif op == "say":
            problem = engine.save(request["text"], request["path"])
            reply(ok=problem is None, error=problem)
        elif op == "voices":
            reply(ok=True, voices=engine.listed, variants=engine.variants)
        else:
            reply(ok=False, error=f"unknown request {op!r}")


if __name__ == "__main__":
    main()
