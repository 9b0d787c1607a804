"""Playing a session in the terminal: the display, the keys, the first question, and the
sentences that say what happened. The commands in grounding.cli call into it."""

from __future__ import annotations

import sys
import time

from grounding.errors import Stopped

_START = time.time()


def say(line: str) -> None:
    """Tell the person something, on standard error; whatever it quotes from a file, the
    settings or the system reaches the terminal without control characters."""
    from grounding.printable import printable

    _write(sys.stderr, printable(line, newlines=True))


def show(text: str = "", end: str = "\n") -> None:
    """Print on standard output: what a command answers, a question asked."""
    _write(sys.stdout, text, end)


def _write(stream, text: str, end: str = "\n") -> None:
    if stream is not None:  # None when the program was started with it closed
        stream.write(text + end)
        stream.flush()


def on_terminal() -> bool:
    """Whether someone is at a terminal: standard input and output are both one (either may
    be closed altogether, and then it is None)."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))


def session_options(*, no_voice: bool, no_tones: bool, volume: int | None, no_holds: bool,
             voice: str | None, rate: int | None, device: str | None, **rest):
    """Options from the command line, with the user's settings filling what it leaves out."""
    from grounding import config
    from grounding.player import Options
    from grounding.render import Mix

    settings = config.load(say)
    volume = settings.volume if volume is None else volume
    return Options(
        voice=voice or settings.voice, rate=rate or settings.rate,
        device=device or settings.device or None, speak=not no_voice,
        holds=settings.holds and not no_holds,
        mix=Mix(volume=volume / 100, voice=not no_voice, tones=settings.tones and not no_tones),
        **rest)


def run_script(script, options, debug: bool, plain: bool = False, quiet: bool = False,
               voice=None, palette=None, night: bool = False, animate: bool = False,
               short: list[int] | None = None, as_json: bool = False) -> None:
    """Play a script with a display and keys; print what happened. ``voice`` is one shared
    by several scripts in a row (the pause's parts); else each makes its own. ``palette``
    is how it sounds (the day's by default); ``night`` dims the display, which then keeps
    still after the first minute unless ``animate``. ``short`` gathers the times the sound
    card ran short, to be told once at the end of a routine (:func:`tell_short`) rather
    than after each part. ``as_json``: a dry run prints its timeline as JSON
    (:func:`dry_run_document`)."""
    import os

    from grounding import lengths, safety
    from grounding.printable import text_width, wrap

    tell = (lambda line: None) if quiet else say
    where = (f"to {options.out}" if options.out else "(dry run)" if options.dry_run else "")
    if safety.first_run() and not quiet and not options.dry_run:
        _write(sys.stderr, wrap(safety.NOTICE, text_width(sys.stderr)) + "\n")
        safety.mark_shown()

    def announce(session) -> None:
        tell(f"{script.title} · {lengths.words(session.timeline.seconds)}"
             + (f" · {where}" if where else ""))

    if options.out is not None or options.dry_run:
        _run_offline(script, options, tell, announce, voice, palette, as_json)
        return
    _run_live(script, options, announce, voice, palette, debug, quiet,
              plain or not sys.stdout.isatty() or os.environ.get("TERM", "") == "dumb",
              night, animate, short)


def _run_offline(script, options, tell, announce, voice, palette,
                 as_json: bool = False) -> None:
    """Into a file, or nowhere (``--dry-run``), as fast as it renders."""
    from grounding.player import play
    from grounding.printable import printable
    from grounding.display import clock

    existed = options.out is not None and options.out.is_file()  # replaced only when done
    try:
        session, report = play(script, options, say, palette, voice, on_ready=announce)
    except Stopped as stop:
        stop.tell(say, "Stopped." if not options.out else
                  f"Stopped; {options.out} is as it was." if existed else
                  f"Stopped; {options.out} was not written.")
        raise
    timeline = session.timeline
    length = clock(round(timeline.seconds))
    if options.dry_run:
        if as_json:
            from grounding import jsonout

            jsonout.emit(**dry_run_document(session.script, timeline, report.sha256))
        else:
            show(printable("\n".join(timeline.describe()), newlines=True))
        tell(f"Rendered {length} at {timeline.samplerate} Hz "
             f"({report.frames} frames, sha256 {report.sha256[:16]}).")
    else:
        size = ""
        if options.out.suffix.lower() != ".wav" and options.out.is_file():  # compressed
            size = f", {options.out.stat().st_size / 1e6:.1f} MB"
        tell(f"{'Replaced' if existed else 'Wrote'} {options.out} ({length}, "
             f"{timeline.samplerate} Hz{size}).")


def dry_run_document(script, timeline, sha256: str) -> dict:
    """What ``--dry-run --json`` prints (docs/json.md): the session's title and name, its
    rate, length and the sha256 of its samples, and each event of ``timeline.events()`` with
    its start and length in samples and in seconds."""
    from grounding.jsonout import seconds

    rate = timeline.samplerate
    events = [{"kind": e.kind,
               "start_samples": e.start, "start_seconds": seconds(e.start, rate),
               "duration_samples": e.frames, "duration_seconds": seconds(e.frames, rate),
               "phase": e.phase, "breath": e.breath, "text": e.text, "cue": e.cue}
              for e in timeline.events()]
    return {"kind": "dry-run", "title": script.title, "name": script.name,
            "samplerate": rate, "total_samples": timeline.frames,
            "total_seconds": seconds(timeline.frames, rate), "sha256": sha256,
            "events": events}


def _run_live(script, options, announce, voice, palette, debug: bool, quiet: bool,
              plain: bool, night: bool = False, animate: bool = False,
              short: list[int] | None = None) -> None:
    """On the sound card, with the display and the keys."""
    from grounding.keys import Keys
    from grounding.player import play

    def sounding(epoch: float) -> None:
        say(f"debug: first audible block handed to the device "
            f"{1000 * (epoch - _START):.0f} ms after the command line loaded "
            f"(epoch {epoch:.6f})")

    with Keys() as keys:
        live = _Live(keys, announce, quiet, plain, night, animate)
        try:
            session, report = play(script, options, say, palette, voice, on_ready=live.ready,
                                   on_sound=sounding if debug else None, on_tick=live.tick)
        except Stopped as stop:
            live.close()
            if not quiet:
                stop.tell(say)
            raise
        finally:
            live.close()
    for line in session.afterwards:
        say(line)
    if debug:
        say(f"debug: underflows: {report.unrendered} with no block rendered in time, "
            f"{report.underflows - report.unrendered} with the callback late")
    if short is not None:
        short.append(report.underflows)
    elif not quiet:
        tell_short([report.underflows])


def tell_short(short: list[int]) -> None:
    """Say, once, how often the sound card ran short of audio, if it did."""
    times = sum(short)
    if times:
        say(f"The sound card ran short of audio {times} time{'s' if times != 1 else ''}; "
            "you may have heard small gaps.")


BACK_NOTE_SECONDS = 4.0
"""How long the live display says that the sound is back."""
NO_SOUND = ("No sound here: the words carry on on screen. 'grounding doctor' can look for "
            "the cause.",
            "No sound here: the words carry on on screen.",
            "No sound here; words on screen.",
            "No sound here.")
"""What the live display says when there is no sound card: its forms, longest first."""
SOUND_GONE = ("The sound output went away, so the guidance carries on here, in step. "
              "'grounding doctor' can look for the cause.",
              "The sound went away; the guidance carries on here.",
              "The sound went away.")
"""What the live display says when the sound output goes away mid-session."""


class _Live:
    """What the terminal shows and hears while one session plays on the sound card: the
    display, made once the session is ready, and the keys, read on every tick."""

    def __init__(self, keys, announce, quiet: bool, plain: bool, night: bool, animate: bool):
        from grounding.display import QuietDisplay

        self.keys = keys
        self.announce = announce
        self.quiet, self.plain, self.night, self.animate = quiet, plain, night, animate
        self.display = QuietDisplay()
        self.session = None
        self.shown = None
        self.status = None
        self.start_volume = 0
        self.lost_said = False
        """Whether the sound is gone as far as the person was told."""
        self.sound_card = False
        self.back_note_until = 0.0

    def ready(self, session) -> None:
        """Announce the session and put up its display."""
        import os

        from grounding.display import LiveDisplay, PlainDisplay, Status
        from grounding.soundcard import DeviceSink

        self.announce(session)
        self.session = session
        self.shown = session.timeline
        """The timeline the display follows."""
        # the volume is the device's own on a sound card, the mix's without one (one of them 1)
        self.start_volume = round(session.controls.volume * session.mix.volume * 100)
        self.status = Status(volume=self.start_volume, voice=session.mix.voice,
                             tones=session.mix.tones, keys=self.keys.active)
        self.sound_card = isinstance(session.sink, DeviceSink)
        self.lost_said = not self.sound_card  # no sound card: said once, here
        if self.quiet:
            return
        if self.plain:
            self.display = PlainDisplay(sys.stdout, session.timeline)
            return
        self.display = LiveDisplay(sys.stdout, session.timeline, session.script.title,
                                   self.status, color="NO_COLOR" not in os.environ,
                                   night=self.night, animate=self.animate)
        if self.lost_said:
            self.display.note = NO_SOUND

    def tick(self, frame: int) -> None:
        """Act on the keys pressed since the last tick, then redraw for ``frame``."""
        from grounding.display import LiveDisplay

        session, status = self.session, self.status
        if session.timeline is not self.shown:  # lines made while it plays move what follows
            self.shown = session.timeline
            self.display.retime(session.timeline)
        for key in self.keys.read():
            if key in "hH":
                self.display.toggle_help(_help_lines)
            done = _press(key, status, session.mix, session.controls)
            if done:
                self.display.key_pressed(done)
        if self.sound_card and session.controls.lost != self.lost_said:
            self._tell_sound_state(session.controls.lost)
        if self.back_note_until and time.monotonic() > self.back_note_until:
            self.back_note_until = 0.0
            if isinstance(self.display, LiveDisplay):
                self.display.note = ()
        self.display.tick(frame)

    def _tell_sound_state(self, lost: bool) -> None:
        """Say that the sound went away, or that it is back (a note on the live display for a
        few seconds, else a line)."""
        from grounding.display import LiveDisplay

        self.lost_said = lost
        forms = SOUND_GONE if lost else ("The sound is back.",)
        self.back_note_until = 0.0 if lost else time.monotonic() + BACK_NOTE_SECONDS
        if isinstance(self.display, LiveDisplay):
            self.display.note = forms
        else:
            say(forms[0])

    def close(self) -> None:
        """Put the terminal's cursor back, and remember a volume changed by the keys."""
        self.display.close()
        if self.status is not None and self.status.volume != self.start_volume:
            _remember_volume(self.status.volume)
            self.start_volume = self.status.volume


def _press(key: str, status, mix, controls) -> str:
    """What one key does while a session plays; what it did, in a few words ("paused",
    "volume 65"), or "" for a key that does nothing here."""
    if key in "qQ":
        raise Stopped()
    done = ""
    if key == " ":
        controls.paused = status.paused = not status.paused
        done = "paused" if status.paused else "resumed"
    elif key in "+=-_":
        status.volume = (min(100, status.volume + 5) if key in "+=" else
                         max(0, status.volume - 5))
        done = f"volume {status.volume}"
    elif key in "vV":
        mix.voice = status.voice = not status.voice
        done = f"voice {'on' if status.voice else 'off'}"
    elif key in "tT":
        mix.tones = status.tones = not status.tones
        done = f"tones {'on' if status.tones else 'off'}"
    controls.volume = status.volume / 100
    return done


def _help_lines(width: int | None = None) -> str:
    """The help lines for the user's country, wrapped to ``width`` columns."""
    from grounding import config, safety

    return safety.help_now(config.load(lambda line: None).country, width=width)


def _remember_volume(volume: int) -> None:
    from dataclasses import replace

    from grounding import config

    try:
        config.save(replace(config.load(lambda line: None), volume=volume))
    except OSError:
        pass  # not remembered this time; nothing else is affected


NOT_SAFE = "not-safe"
"""The first question's answer for not feeling safe: the help lines, then orienting."""

CHOICES = (
    ("1", "I feel the pull to reach out", "pause"),
    ("2", "They've just messaged me", "when-they-reach-out"),
    ("3", "I was in touch with them", "after-contact"),
    ("4", "I feel overwhelmed", "orienting"),
    ("5", "I can't sleep", "bedtime"),
    ("6", "I just want to breathe", "resonance"),
    ("7", "Show me everything", ""),
    ("0", "I'm not safe right now", NOT_SAFE),
)
"""The first question's answers: the key, the words, and what each starts (an exercise or a
command's name; "" lists them all; :data:`NOT_SAFE` shows the help lines at once)."""


def ask() -> str | None:
    """"What do you need right now?", answered with one key; a short countdown to change
    one's mind before an exercise starts (none before the help lines). What to start (see
    :data:`CHOICES`), or None to leave."""
    import time

    from grounding.keys import Keys

    import shutil

    roomy = shutil.get_terminal_size().lines >= len(CHOICES) + 6  # else no blank lines
    gap = "\n" if roomy else ""
    show(f"What do you need right now?{gap}")
    for key, text, action in CHOICES:
        show(f"{gap if action == NOT_SAFE else ''}  {key}  {text}")
    show(f"{gap}Press a number, or q to leave.", end="")  # 40x10 holds it all
    actions = {key: action for key, _, action in CHOICES}
    with Keys() as keys:
        while True:
            key = keys.read()[-1:]
            if key in ("q", "Q", "\x1b"):
                show("")
                return None
            if key in actions:
                name = actions[key]
                break
            time.sleep(0.05)
        if name in ("", NOT_SAFE):
            show("")
            return name
        for left in (3, 2, 1):
            show(f"\rStarting '{name}' in {left} (q to cancel) ", end="")
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline:
                if "q" in keys.read().lower():
                    show("")
                    return None
                time.sleep(0.05)
        show("")
    return name
