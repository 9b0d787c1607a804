"""The whole pipeline in one readable function, :func:`play`: script → clips → timeline →
blocks → sink. The commands play every session through it."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Callable, Mapping, Union

import numpy as np

from grounding import lengths
from grounding.breath import PHASE_NAMES, Pattern
from grounding.cache import SpeechClip
from grounding.errors import AudioUnavailable, SpeechUnavailable, UsageError
from grounding.palette import Palette, load_palette
from grounding.render import DEVICE_LOUDNESS, FILE_LOUDNESS, Mix, render, session_gain
from grounding.script import LENGTH, Breathe, Script, Speak
from grounding.encoded import file_sink
from grounding.sinks import FILE_SAMPLERATE, ClockSink, Controls, FileSink, NullSink, Report
from grounding.soundcard import DeviceSink
from grounding.speech import DEFAULT_RATE, Pyttsx3Voice, SilentVoice, Voice
from grounding.timeline import Timeline, build_timeline


Sink = Union[DeviceSink, ClockSink, FileSink, NullSink]


@dataclass(frozen=True)
class Options:
    """How to play: what the user chose on the command line."""

    voice: str | None = None
    """A pyttsx3 voice id or a language tag; None means the default voice."""
    rate: int = DEFAULT_RATE
    """Words per minute."""
    pitch: int | None = None
    """The voice's pitch, 0 to 100 (espeak's usual is 50); None leaves the engine's own."""
    speak: bool = True
    mix: Mix = field(default_factory=Mix)
    device: str | None = None
    out: Path | None = None
    samplerate: int | None = None
    dry_run: bool = False
    holds: bool = True
    """False turns every hold into ordinary breathing (``--no-holds``)."""
    minutes: float | None = None
    """Stretch or shorten the breathing parts (never the words) to about this long."""
    loudness: float | None = None
    """The programme loudness, LUFS (``--loudness``); None: the sink's own (a file's is a
    phone's, the sound card's quieter)."""


def open_sink(options: Options, notice: Callable[[str], None]) -> Sink:
    """The sink the options ask for: a null sink, a file, or the sound card; with no sound
    card to be had, a silent clock, so the guidance still goes on on screen."""
    if options.dry_run:
        return NullSink(options.samplerate or FILE_SAMPLERATE)
    if options.out is not None:
        return file_sink(options.out, options.samplerate)  # its format's rate by default
    try:
        return DeviceSink(options.device, options.samplerate)
    except AudioUnavailable as exc:
        notice(f"{exc} For now the exercise carries on on screen, without sound.")
        return ClockSink(options.samplerate or FILE_SAMPLERATE, str(exc))


def programme_loudness(options: Options, sink: Sink) -> float:
    """The loudness a session is levelled to: as asked, or the sound card's, or (files, dry
    runs) a phone's."""
    if options.loudness is not None:
        return options.loudness
    return DEVICE_LOUDNESS if isinstance(sink, (DeviceSink, ClockSink)) else FILE_LOUDNESS


def shared_gain(script: Script, options: Options, palette: Palette | None = None) -> float:
    """One gain for the parts of a routine that play as sessions of their own on the sound
    card (the live pause): the gain the whole would have, worked out from its timeline with
    each line at its estimated spoken length, so every part keeps its level in the whole (the
    urge surfing's low pacer stays below the settling's) and the voice is the same throughout."""
    palette = palette or load_palette("day")
    script = as_played(script, options)
    clips = SilentVoice(options.rate).clips(script.texts(), FILE_SAMPLERATE)
    timeline = build_timeline(script, clips, palette, FILE_SAMPLERATE)
    loudness = DEVICE_LOUDNESS if options.loudness is None else options.loudness
    return session_gain(timeline, palette, replace(options.mix, loudness=loudness))


def make_voice(options: Options) -> Voice:
    """The voice the options ask for (a silent one for ``--no-voice``)."""
    if not options.speak:
        return SilentVoice(options.rate)
    if options.voice:
        return Pyttsx3Voice(options.voice, options.rate, pitch=options.pitch)
    return Pyttsx3Voice(rate=options.rate, pitch=options.pitch)


def as_played(script: Script, options: Options) -> Script:
    """The script as it will sound: without holds if so asked, with today's reflection."""
    if not options.holds:
        script = script.without_holds()
    return script.on(date.today())


LENGTH_TRIES = 4
"""How many times at most the length is said anew when the session turns out to last another
(rounded) length than the words said: the words change the length a little."""
LENGTH_PAD = 2.0
"""Seconds of silence a session may gain at its end so that it lasts the length it says: the
words can push a length across a rounding boundary and back ("about two and a half minutes"
takes longer to say than "about three minutes")."""


def prepare(script: Script, voice: Voice, palette: Palette, samplerate: int,
            notice: Callable[[str], None], rate: int = DEFAULT_RATE,
            minutes: float | None = None) -> Timeline:
    """Clips for every line (speech failing falls back to captions only) and the timeline,
    with the breathing stretched or shortened to ``minutes`` in all if that is given.
    Reflections take today's prompt; a private script's clips are not stored.

    A line with ``{length}`` says the length the session really has, as
    :func:`grounding.lengths.spoken` words: first the length it is meant to have, then, while
    the timeline built with those words lasts another (rounded) length, that length (at most
    LENGTH_TRIES times); a session just short of the length it says ends in a little more
    silence (LENGTH_PAD). Only a line whose words change is spoken anew."""
    speech = _Speech(voice, rate, samplerate, notice, store=not script.private)
    return _plan(script, speech.clips, palette, samplerate, notice, minutes).timeline


@dataclass(frozen=True)
class _Plan:
    """A session as it is timed: its script (the length it says filled in, its breathing
    fitted to ``--minutes``), and its timeline from the clips it was planned with."""

    script: Script
    timeline: Timeline
    palette: Palette
    told: float | None = None
    """The length its words say, seconds (a script with ``{length}``)."""

    def built(self, clips: Mapping[str, SpeechClip]) -> Timeline:
        """The timeline of the same script with other clips (of other lengths): if that is
        shorter than the length its words say, it ends in silence up to there (longer, it is
        as long as it is)."""
        timeline = build_timeline(self.script, clips, self.palette, self.timeline.samplerate)
        if self.told is None or timeline.seconds >= lengths.least(self.told):
            return timeline
        return replace(timeline, frames=math.ceil(lengths.least(self.told)
                                                  * timeline.samplerate))


def _plan(script: Script, made: Callable[[list[str]], dict[str, SpeechClip]],
          palette: Palette, samplerate: int, notice: Callable[[str], None],
          minutes: float | None = None) -> _Plan:
    """:func:`prepare`, with ``made`` giving the clips of the texts asked for."""
    script = script.on(date.today())
    if not script.states_length:
        timed, timeline = _fitted(script, made(script.texts()), palette, samplerate, notice,
                                  minutes)
        return _Plan(timed, timeline, palette)
    goal = 60 * (minutes or script.minutes)
    clips: dict[str, SpeechClip] = {}
    for _ in range(LENGTH_TRIES):
        told = goal
        filled = script.with_length(lengths.spoken(told))
        clips.update(made([t for t in filled.texts() if t not in clips]))
        notes: list[str] = []
        timed, timeline = _fitted(filled, clips, palette, samplerate, notes.append, minutes)
        if lengths.rounded(timeline.seconds) == lengths.rounded(told):
            break
        if 0 < lengths.least(told) - timeline.seconds <= LENGTH_PAD:
            timeline = replace(timeline, frames=math.ceil(lengths.least(told) * samplerate))
            break
        goal = timeline.seconds
    for note in notes:
        notice(note)
    return _Plan(timed, timeline, palette, told)


class _Speech:
    """The voice's clips, or silent ones of the same length from the first time speech
    fails (said once)."""

    def __init__(self, voice: Voice, rate: int, samplerate: int,
                 notice: Callable[[str], None], store: bool = True):
        self.voice, self.rate, self.samplerate, self.notice = voice, rate, samplerate, notice
        self.store = store
        """Whether the voice may keep the clips in its cache (not a private script's)."""
        self.pending: list[str] = []
        """The texts given pending clips by :meth:`soon`."""

    def clips(self, texts: list[str], waits: bool = True) -> dict[str, SpeechClip]:
        """One clip per text; saying first what it waits for, if it may wait (``waits``)."""
        if not texts:
            return {}
        try:
            wait = self.voice.wait_note(texts, self.samplerate, self.store) if waits else None
            if wait:
                self.notice(wait)
            clips = self.voice.clips(texts, self.samplerate, store=self.store)
            for note in self.voice.notes():
                self.notice(note)
            return clips
        except SpeechUnavailable as exc:
            self.notice(f"Carrying on with tones and captions, without a voice. {exc}")
            self.voice = SilentVoice(self.rate)
            return self.voice.clips(texts, self.samplerate)

    def soon(self, texts: list[str]) -> dict[str, SpeechClip]:
        """One clip per text, a :class:`_Pending` one for each text the voice takes a while
        to make (:meth:`Voice.unready`); those are gathered in ``pending``."""
        unready = self.voice.unready(texts, self.samplerate)
        clips: dict[str, SpeechClip] = {
            text: _Pending(round(seconds * self.samplerate)) for text, seconds in unready.items()}
        # the rest take no wait worth a note: the voice makes them quickly, or has them
        clips.update(self.clips([text for text in texts if text not in clips], waits=False))
        self.pending.extend(unready)
        return clips


class _Pending:
    """Stands in for a clip still being made: its length is the estimate the timeline is
    planned with until the clip is there (:class:`_Growing`). Its samples are never read."""

    def __init__(self, frames: int):
        self.frames = frames

    def __len__(self) -> int:
        return self.frames


class _Growing:
    """A session on the sound card that starts before all its lines are made (the natural
    voice's, the first time). Each line still to be made stands in at its estimated length
    (:class:`_Pending`); they are made one at a time, in the order they are said, while the
    session plays, and with each the timeline is built anew. A new timeline is the same as
    the last up to the line that came in (only what follows a line moves with its length),
    so the renderer (:meth:`follow`) and the display take it over as they go. The renderer
    waits at a line that is not there yet. If the voice fails, or the session ends, the
    lines still to be made become silence of their estimated lengths."""

    def __init__(self, plan: _Plan, speech: _Speech):
        self.plan, self.speech = plan, speech
        self.clips = {c.text: c.samples for c in plan.timeline.clips}
        self.timeline = plan.timeline
        starts = {c.text: c.start for c in reversed(plan.timeline.clips)}  # first use of each
        self.order = sorted(set(speech.pending) & set(starts), key=starts.__getitem__)
        """The lines to make, in the order they are first said (not a line that says a
        length the plan did not keep, see :func:`prepare`)."""
        self.pending = set(self.order)
        self.waits_from = self._first_pending()
        self.made = 0
        """How many lines have been made so far."""
        self.failed: SpeechUnavailable | None = None
        """Why the voice stopped making lines, if it did."""
        self.session: Session | None = None
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._make, name="grounding-speech-soon",
                                        daemon=True)

    def start(self) -> None:
        """Start making the lines."""
        self._thread.start()

    def stop(self) -> None:
        """Make no more lines (the session is over): those left are silent."""
        self._stopped.set()
        self._silence()

    def first_line(self) -> None:
        """Wait for the first line still to be made, so that a session starts with its
        voice (or without it, if the voice fails)."""
        self.follow(self.waits_from + 1)

    def follow(self, end: int) -> Timeline:
        """The newest timeline once no line before ``end`` is still to be made (for
        :func:`~grounding.render.render`); it waits for that."""
        with self._changed:
            while self.waits_from < end:
                self._changed.wait(0.25)
            return self.timeline

    def follow_in(self, session: Session) -> None:
        """Keep ``session.timeline`` the newest, for the display."""
        with self._changed:
            self.session = session
            session.timeline = self.timeline

    def _first_pending(self) -> float:
        return min((c.start for c in self.timeline.clips if c.text in self.pending),
                   default=math.inf)

    def _came(self, made: dict[str, SpeechClip], silent: bool = False) -> None:
        """Clips are there: the timeline anew, for the renderer and the display."""
        with self._changed:
            made = {text: clip for text, clip in made.items() if text in self.pending}
            if not made or (self._stopped.is_set() and not silent):
                return
            self.clips.update(made)
            self.pending.difference_update(made)
            self.made += 0 if silent else len(made)
            self.timeline = self.plan.built(self.clips)
            self.waits_from = self._first_pending()
            if self.session is not None:
                self.session.timeline = self.timeline
            self._changed.notify_all()

    def _silence(self) -> None:
        """The lines still to be made are silent, at their estimated lengths."""
        with self._changed:
            self._came({text: np.zeros(len(self.clips[text]), dtype=np.int16)
                        for text in self.pending}, silent=True)

    def _make(self) -> None:
        """The thread: each line in turn."""
        speech = self.speech
        try:
            with speech.voice.kept():
                for text in self.order:
                    if self._stopped.is_set():
                        return
                    self._came(speech.voice.clips([text], speech.samplerate, speech.store))
        except SpeechUnavailable as exc:
            self.failed = exc
        except Exception as exc:  # noqa: BLE001 - whatever it was, the session goes on
            self.failed = SpeechUnavailable(f"The speech engine stopped ({exc}).")
        finally:
            self._silence()


def _fitted(script: Script, clips: dict[str, SpeechClip], palette: Palette, samplerate: int,
            notice: Callable[[str], None], minutes: float | None) -> tuple[Script, Timeline]:
    """The script with its breathing stretched or shortened to ``minutes`` in all if that is
    given, and its timeline."""
    timeline = build_timeline(script, clips, palette, samplerate)
    if minutes is None:
        return script, timeline
    breathing = float(sum(s.seconds() for s in script.steps if isinstance(s, Breathe)))
    if not breathing:
        raise UsageError(f"'{script.name}' has no breathing to lengthen or shorten, so "
                         f"--minutes does not apply; it takes {lengths.words(timeline.seconds)}.")
    words = timeline.seconds - breathing
    fitted = script.stretched(max(0.0, (minutes * 60 - words) / breathing))
    timeline = build_timeline(fitted, clips, palette, samplerate)
    if timeline.seconds > minutes * 60 * 1.1:
        notice(f"With its words, '{script.name}' takes at least {timeline.seconds / 60:.1f} "
               "minutes; playing that.")
    return fitted, timeline


@dataclass
class Session:
    """An exercise ready to play: its timeline built, its sink open."""

    script: Script
    timeline: Timeline
    sink: Sink
    palette: Palette
    mix: Mix
    """Read by the renderer for every block: voice and tones can be switched while playing."""
    controls: Controls
    """Followed by the sound card at once: live volume and pause."""
    afterwards: list[str] = field(default_factory=list)
    """What to tell the person once it is over (the voice stopped partway)."""

    @property
    def live(self) -> bool:
        """Whether it plays in real time on the sound card (rather than into a file)."""
        return isinstance(self.sink, (DeviceSink, ClockSink))


def play(script: Script, options: Options, notice: Callable[[str], None],
         palette: Palette | None = None, voice: Voice | None = None,
         on_ready: Callable[[Session], None] | None = None,
         on_sound: Callable[[float], None] | None = None,
         on_tick: Callable[[int], None] | None = None) -> tuple[Session, Report]:
    """Play ``script`` as ``options`` say; every command that plays comes through here.

    ``notice`` hears the sentences for the person (a fallback taken, a length that cannot be
    met). ``palette`` is how it sounds (the day's by default); ``voice`` is one shared by
    several sessions (see :meth:`Pyttsx3Voice.later`), else one is made here. ``on_ready``
    sees the session once everything before the first sound is done. On the sound card,
    ``on_sound`` hears when the first sound reached the device and ``on_tick`` the frame
    being heard, about every 50 ms; either may raise :class:`~grounding.errors.Stopped`
    to stop it, with a fade."""
    palette = palette or load_palette("day")
    script = as_played(script, options)  # without holds if so asked, with today's reflection
    voice = voice or make_voice(options)
    voice.starting()  # what the voice prepares for later waits for the first sound
    try:
        return _play(script, options, notice, palette, voice, on_ready, on_sound, on_tick)
    finally:
        voice.heard()


def _play(script: Script, options: Options, notice: Callable[[str], None], palette: Palette,
          voice: Voice, on_ready: Callable[[Session], None] | None,
          on_sound: Callable[[float], None] | None,
          on_tick: Callable[[int], None] | None) -> tuple[Session, Report]:
    """:func:`play`, once the script is as played and the voice is chosen."""
    sink = open_sink(options, notice)  # first, as the timeline is built at the sink's rate
    speech = _Speech(voice, options.rate, sink.samplerate, notice, store=not script.private)
    on_card = isinstance(sink, DeviceSink)  # lines slow to make are made as it plays
    plan = _plan(script, speech.soon if on_card else speech.clips, palette, sink.samplerate,
                 notice, options.minutes)  # the clips, and every sound's sample
    if not speech.pending:
        return _played(plan.timeline, sink, script, options, palette, voice, on_ready,
                       on_sound, on_tick)
    growing = _Growing(plan, speech)
    growing.start()
    try:
        growing.first_line()
        if growing.failed is not None and not growing.made:
            notice(f"Carrying on with tones and captions, without a voice. {growing.failed}")
        session, report = _played(growing.timeline, sink, script, options, palette, voice,
                                  on_ready, on_sound, on_tick, growing)
    finally:
        growing.stop()
    if growing.failed is not None and growing.made:
        session.afterwards.append(f"The voice stopped partway, so its later lines were shown "
                                  f"without it. {growing.failed}")
    return session, report


def _played(timeline: Timeline, sink: Sink, script: Script, options: Options,
            palette: Palette, voice: Voice, on_ready: Callable[[Session], None] | None,
            on_sound: Callable[[float], None] | None, on_tick: Callable[[int], None] | None,
            growing: _Growing | None = None) -> tuple[Session, Report]:
    """:func:`_play`, once the timeline is planned (and, if it is ``growing``, its first
    line is there)."""
    if isinstance(sink, FileSink):
        sink.check_size(timeline.frames)  # before anything is said to be written
        sink.title = script.title  # its tag, where the format has tags
    mix = replace(options.mix, loudness=programme_loudness(options, sink))
    controls = Controls()
    if isinstance(sink, DeviceSink):  # volume moves to the callback, so keys act at once
        controls.volume, mix.volume = mix.volume, 1.0
    session = Session(script, timeline, sink, palette, mix, controls)
    if growing is not None:
        growing.follow_in(session)
    if on_ready:
        on_ready(session)
    blocks = render(session.timeline, palette, mix, sink.blocksize,
                    growing.follow if growing else None)  # made as the sink takes them
    if not isinstance(sink, DeviceSink):
        voice.heard()  # no first sound to wait for
        return session, (sink.play(blocks, on_sound, on_tick, controls, timeline.frames)
                         if session.live else sink.play(blocks))

    def sounded(epoch: float) -> None:
        voice.heard()
        if on_sound:
            on_sound(epoch)

    return session, sink.play(blocks, sounded, on_tick, controls, timeline.frames)


def breathing_script(pattern: Pattern, cycles: int, spoken: bool = True,
                     ramp: float | None = None) -> Script:
    """Paced breathing for ``grounding breathe``, in a short spoken frame when ``spoken``
    (without a voice the frame would only be silence before the first breath). The frame says
    the pattern and the session's length; a short one, the number of breaths too."""
    step = Breathe(pattern, cycles, "words" if spoken else "none", min(3, cycles), ramp=ramp)
    minutes = float(step.seconds()) / 60
    steps: list = [step]
    if spoken:
        count = f". {cycles} breath{'s' if cycles != 1 else ''}," if minutes < 1.5 else ","
        said = f"{count} {LENGTH} in all."
        intro = [Speak(f"Paced breathing: {_phases(pattern)}{said}", 0.6,
                       no_holds=f"Paced breathing: {_phases(pattern.without_holds())}{said}"
                       if pattern.has_holds else None),
                 Speak("The tone rises as you breathe in, and falls as you breathe out. "
                       "Keep each breath soft and ordinary-sized, not big.", 0.6)]
        if pattern.has_holds:
            intro.append(Speak("The holds are soft pauses, not a strain. If a hold feels "
                               "uncomfortable, skip it and keep breathing.", 0.6,
                               with_holds=True))
        intro.append(Speak("You can pause with the space bar, or stop with q, at any moment. "
                           "If the breathing ever leaves you light-headed or tingly, you might "
                           "let your breath go back to its own rhythm.", 1.5))
        steps = [*intro, *steps, Speak("That is the end. Let your breathing go back to "
                                       "whatever rhythm it wants.", 1.0)]
    return Script(name=f"breathe {pattern.text}", title=f"Paced breathing {pattern.text}",
                  summary=pattern.describe(), minutes=round(minutes, 1), tags=("breathing",),
                  holds=pattern.has_holds, source="docs/protocols.md §6", steps=tuple(steps))


def _phases(pattern: Pattern) -> str:
    """The phases of a pattern as said: ``in for 4, out for 6``."""
    return ", ".join(f"{PHASE_NAMES[p.kind]} for {p.seconds:g}" for p in pattern.phases)
