"""Playing a session in the terminal: the display, the keys, the first question, and the
sentences that say what happened. The commands in grounding.cli call into it."""

from __future__ import annotations

import sys
import time

import typer

_START = time.time()


def say(line: str) -> None:
    """Tell the person something, on standard error; whatever it quotes from a file, the
    settings or the system reaches the terminal without control characters."""
    from grounding.printable import printable

    typer.echo(printable(line, newlines=True), err=True)


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


TERMINATED = []


def run_script(script, options, debug: bool, plain: bool = False, quiet: bool = False,
               voice=None, palette=None, night: bool = False, animate: bool = False) -> None:
    """Play a script with a display and keys; print what happened. ``voice`` is one shared
    by several scripts in a row (the pause's parts); else each makes its own. ``palette``
    is how it sounds (the day's by default); ``night`` dims the display, which then keeps
    still after the first minute unless ``animate``."""
    import os

    from grounding import safety
    from grounding.player import open_session

    tell = (lambda line: None) if quiet else say
    where = (f"to {options.out}" if options.out else "(dry run)" if options.dry_run else "")
    if safety.first_run() and not quiet and not options.dry_run:
        typer.echo(safety.NOTICE + "\n", err=True)
        safety.mark_shown()
    session = open_session(script, options, notice=say, palette=palette, voice=voice)
    tell(f"{script.title} · {_length(session.timeline.seconds / 60)}"
        + (f" · {where}" if where else ""))
    if not session.live:
        report = _run_offline(session, options)
        seconds = session.timeline.seconds
        if options.dry_run:
            typer.echo("\n".join(session.timeline.describe()))
            tell(f"Rendered {_clock(seconds)} at {session.timeline.samplerate} Hz "
                f"({report.frames} frames, sha256 {report.sha256[:16]}).")
        else:
            tell(f"Wrote {options.out} ({_clock(seconds)}, {session.timeline.samplerate} Hz).")
        return
    _run_live(session, options, debug, quiet or False,
              plain or not sys.stdout.isatty() or os.environ.get("TERM", "") == "dumb",
              night, animate)


def _run_offline(session, options):
    try:
        return session.run()
    except KeyboardInterrupt:
        say(f"Stopped; {options.out} was not written." if options.out else "Stopped.")
        raise typer.Exit(130) from None


def _run_live(session, options, debug: bool, quiet: bool, plain: bool, night: bool = False,
              animate: bool = False) -> None:
    import os

    from grounding.keys import Keys
    from grounding.screen import LiveDisplay, PlainDisplay, QuietDisplay, Status
    from grounding.soundcard import DeviceSink

    mix, controls = session.mix, session.controls
    start_volume = round(controls.volume * 100)
    status = Status(volume=start_volume, voice=mix.voice, tones=mix.tones)
    lost_said = []

    def sounding(epoch: float) -> None:
        say(f"debug: first audible block handed to the device "
             f"{1000 * (epoch - _START):.0f} ms after the command line loaded "
             f"(epoch {epoch:.6f})")

    with Keys() as keys:
        status.keys = keys.active
        if not isinstance(session.sink, DeviceSink):  # no sound card: said once already
            lost_said.append(True)
        if quiet:
            display = QuietDisplay()
        elif plain:
            display = PlainDisplay(sys.stdout, session.timeline)
        else:
            display = LiveDisplay(sys.stdout, session.timeline, session.script.title, status,
                                  color="NO_COLOR" not in os.environ, night=night,
                                  animate=animate)
            if lost_said:
                display.note = ("No sound here: the words carry on on screen. "
                                "'grounding doctor' can look for the cause.")

        def tick(frame: int) -> None:
            for key in keys.read():
                if key in "hH":
                    display.show_above(_help_lines())
                _press(key, status, mix, controls)
            if controls.lost and not lost_said:
                lost_said.append(True)
                line = ("The sound output went away, so the guidance carries on here, in "
                        "step. 'grounding doctor' can look for the cause.")
                if isinstance(display, LiveDisplay):
                    display.note = line
                else:
                    say(line)
            display.tick(frame)

        try:
            report = session.run(sounding if debug else None, tick)
        except KeyboardInterrupt:
            display.close()
            if not quiet:
                say("Stopped.")
            raise typer.Exit(143 if TERMINATED else 130) from None
        finally:
            display.close()
            if status.volume != start_volume:
                _remember_volume(status.volume)
    if report.underflows and not quiet:
        say(f"The sound card ran short of audio {report.underflows} time"
             f"{'s' if report.underflows != 1 else ''}; you may have heard small gaps.")


def _press(key: str, status, mix, controls) -> None:
    """What one key does while a session plays."""
    if key in "qQ":
        raise KeyboardInterrupt
    if key == " ":
        controls.paused = status.paused = not status.paused
    elif key in "+=":
        status.volume = min(100, status.volume + 5)
    elif key in "-_":
        status.volume = max(0, status.volume - 5)
    elif key in "vV":
        mix.voice = status.voice = not status.voice
    elif key in "tT":
        mix.tones = status.tones = not status.tones
    controls.volume = status.volume / 100


def _help_lines() -> str:
    from grounding import config, safety

    return safety.help_now(config.load(lambda line: None).country)


def _remember_volume(volume: int) -> None:
    from dataclasses import replace

    from grounding import config

    try:
        config.save(replace(config.load(lambda line: None), volume=volume))
    except OSError:
        pass  # not remembered this time; nothing else is affected


def _length(minutes: float) -> str:
    if minutes < 1:
        return f"about {round(minutes * 60 / 5) * 5} seconds"
    whole = round(minutes)
    return f"about {whole} minute{'s' if whole != 1 else ''}"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


CHOICES = (
    ("I want to reach out to someone, and want to pause first", "pause"),
    ("I can't sleep", "bedtime"),
    ("I feel overwhelmed", "orienting"),
    ("I just want to breathe", "resonance"),
    ("Show me everything", None),
)
"""The first question's answers and the exercise each starts (None: list them all)."""


def ask() -> str | None:
    """"What do you need right now?", answered with one key; a short countdown to change
    one's mind. The exercise's name, "" for the full list, or None to leave."""
    import time

    from grounding.keys import Keys

    typer.echo("What do you need right now?\n")
    for number, (text, _) in enumerate(CHOICES, 1):
        typer.echo(f"  {number}  {text}")
    typer.echo("\nPress a number, or q to leave.")
    with Keys() as keys:
        while True:
            key = keys.read()[-1:]
            if key in ("q", "Q", "\x1b"):
                return None
            if key.isdigit() and 1 <= int(key) <= len(CHOICES):
                name = CHOICES[int(key) - 1][1]
                break
            time.sleep(0.05)
        if name is None:
            return ""
        for left in (3, 2, 1):
            typer.echo(f"\rStarting '{name}' in {left} (q to cancel) ", nl=False)
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline:
                if "q" in keys.read().lower():
                    typer.echo("")
                    return None
                time.sleep(0.05)
        typer.echo("")
    return name


