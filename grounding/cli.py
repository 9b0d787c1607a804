"""The command line: the only module that prints to the user or exits."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from grounding.errors import GroundingError

app = typer.Typer(
    add_completion=False, invoke_without_command=True, rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Voice-guided grounding and paced-breathing exercises, fully offline.",
    context_settings={"help_option_names": ["-h", "--help"]})

Out = Annotated[Optional[Path], typer.Option(
    "--out", "-o", help="Write the session to this .wav file instead of the sound card.",
    dir_okay=False)]
NoVoice = Annotated[bool, typer.Option("--no-voice", help="Leave out the spoken guidance.")]
NoTones = Annotated[bool, typer.Option("--no-tones", help="Voice only, no breathing tones.")]
VoiceOpt = Annotated[Optional[str], typer.Option(
    "--voice", help="A voice id or a language such as en or en-us (see 'grounding voices').")]
Rate = Annotated[Optional[int], typer.Option(
    "--rate", min=80, max=300, help="Speaking speed in words per minute (default 150).")]
Volume = Annotated[Optional[int], typer.Option(
    "--volume", min=0, max=100, help="Loudness from 0 to 100 (default 70).")]
Device = Annotated[Optional[str], typer.Option(
    "--device", help="Output device: a number or part of a name (see 'grounding devices').")]
Samplerate = Annotated[Optional[int], typer.Option(
    "--samplerate", min=8000, max=192000,
    help="Sample rate in Hz (default: the device's own rate, or 48000 for files).")]
DryRun = Annotated[bool, typer.Option(
    "--dry-run", help="Render everything but play nothing, and print a summary.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show timings and full error details.")]
NoHolds = Annotated[bool, typer.Option(
    "--no-holds", help="Turn every breath hold into ordinary breathing.")]
Plain = Annotated[bool, typer.Option(
    "--plain", help="No animation or colour: one timestamped line per caption and phase "
                    "(screen-reader friendly; automatic when not on a terminal).")]
Quiet = Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")]

_START = time.time()


def _say(line: str) -> None:
    typer.echo(line, err=True)


def _options(*, no_voice: bool, no_tones: bool, volume: int | None, no_holds: bool,
             voice: str | None, rate: int | None, device: str | None, **rest):
    """Options from the command line, with the user's settings filling what it leaves out."""
    from grounding import config
    from grounding.player import Options
    from grounding.render import Mix

    settings = config.load(_say)
    volume = settings.volume if volume is None else volume
    return Options(
        voice=voice or settings.voice, rate=rate or settings.rate,
        device=device or settings.device or None, speak=not no_voice,
        holds=settings.holds and not no_holds,
        mix=Mix(volume=volume / 100, voice=not no_voice, tones=settings.tones and not no_tones),
        **rest)


_TERMINATED = []


def _run(script, options, debug: bool, plain: bool = False, quiet: bool = False) -> None:
    """Play a script with a display and keys; print what happened."""
    import os

    from grounding import safety
    from grounding.player import open_session

    say = (lambda line: None) if quiet else _say
    where = (f"to {options.out}" if options.out else "(dry run)" if options.dry_run else "")
    if safety.first_run() and not quiet and not options.dry_run:
        typer.echo(safety.NOTICE + "\n", err=True)
        safety.mark_shown()
    session = open_session(script, options, notice=_say)
    say(f"{script.title} · {_length(session.timeline.seconds / 60)}"
        + (f" · {where}" if where else ""))
    if not session.live:
        report = _run_offline(session, options)
        seconds = session.timeline.seconds
        if options.dry_run:
            typer.echo("\n".join(session.timeline.describe()))
            say(f"Rendered {_clock(seconds)} at {session.timeline.samplerate} Hz "
                f"({report.frames} frames, sha256 {report.sha256[:16]}).")
        else:
            say(f"Wrote {options.out} ({_clock(seconds)}, {session.timeline.samplerate} Hz).")
        return
    _run_live(session, options, debug, quiet or False,
              plain or not sys.stdout.isatty() or os.environ.get("TERM", "") == "dumb")


def _run_offline(session, options):
    try:
        return session.run()
    except KeyboardInterrupt:
        _say(f"Stopped; {options.out} was not written." if options.out else "Stopped.")
        raise typer.Exit(130) from None


def _run_live(session, options, debug: bool, quiet: bool, plain: bool) -> None:
    import os

    from grounding.keys import Keys
    from grounding.screen import LiveDisplay, PlainDisplay, QuietDisplay, Status
    from grounding.soundcard import DeviceSink

    mix, controls = session.mix, session.controls
    start_volume = round(controls.volume * 100)
    status = Status(volume=start_volume, voice=mix.voice, tones=mix.tones)
    lost_said = []

    def sounding(epoch: float) -> None:
        _say(f"debug: first audible block handed to the device "
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
                                  color="NO_COLOR" not in os.environ)
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
                    _say(line)
            display.tick(frame)

        try:
            report = session.run(sounding if debug else None, tick)
        except KeyboardInterrupt:
            display.close()
            if not quiet:
                _say("Stopped.")
            raise typer.Exit(143 if _TERMINATED else 130) from None
        finally:
            display.close()
            if status.volume != start_volume:
                _remember_volume(status.volume)
    if report.underflows and not quiet:
        _say(f"The sound card ran short of audio {report.underflows} time"
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
    ("I can't sleep", "resonance-slow"),
    ("I feel overwhelmed", "orienting"),
    ("I just want to breathe", "resonance"),
    ("Show me everything", None),
)
"""The first question's answers and the exercise each starts (None: list them all)."""


@app.callback()
def start(ctx: typer.Context) -> None:
    """Voice-guided grounding and paced-breathing exercises, fully offline."""
    if ctx.invoked_subcommand is not None:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        typer.echo(ctx.get_help())
        return
    name = _ask()
    if name is None:
        return
    if name == "":
        ctx.invoke(list_command)
        typer.echo("\nTo start one: grounding play NAME")
        return
    if name == "pause":
        ctx.invoke(pause)
    else:
        ctx.invoke(play, name=name)


def _ask() -> str | None:
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


@app.command("list")
def list_command(
    tag: Annotated[Optional[str], typer.Option(
        "--tag", help="Only exercises with this tag: breathing, grounding, sleep, urge, quick.")] = None,
) -> None:
    """List the exercises: name, minutes, whether they hold the breath, tags, what each is for."""
    from grounding.errors import UsageError
    from grounding.library import catalogue
    from grounding.script import TAGS, load_script

    if tag is not None and tag not in TAGS:
        raise UsageError(f"There is no tag '{tag}'; the tags are {', '.join(TAGS)}.")
    rows, notes = [], []
    for entry in catalogue():
        try:
            s = load_script(entry.path)
        except GroundingError:
            notes.append(f"{entry.path} cannot be read; 'grounding validate {entry.path}' "
                         "says why.")
            continue
        if tag is not None and tag not in s.tags:
            continue
        mark = " *" if entry.own else ""
        rows.append((s.name + mark, f"{s.minutes:g} min", "holds" if s.holds else "",
                     ", ".join(s.tags), s.summary))
        if entry.replaces:
            notes.append(f"Your own '{s.name}' ({entry.path}) is used instead of the bundled one.")
    if not rows:
        _say(f"No exercise has the tag '{tag}'." if tag else "There are no exercises yet.")
    else:
        name_w, tags_w = max(len(r[0]) for r in rows), max(len(r[3]) for r in rows)
        for name, minutes, holds, tags, summary in rows:
            typer.echo(f"{name:<{name_w}}  {minutes:>9}  {holds:<5}  {tags:<{tags_w}}  {summary}")
        if any(r[0].endswith(" *") for r in rows):
            notes.insert(0, "* your own exercise")
    for note in notes:
        _say(note)


@app.command()
def play(
    name: Annotated[str, typer.Argument(help="An exercise from 'grounding list', or a .toml file.")],
    minutes: Annotated[Optional[float], typer.Option(
        "--minutes", min=0.5, max=60,
        help="Make the breathing parts longer or shorter so the whole lasts about this long; "
             "the words stay the same.")] = None,
    no_holds: NoHolds = False,
    out: Out = None, no_voice: NoVoice = False, no_tones: NoTones = False,
    voice: VoiceOpt = None, rate: Rate = None, volume: Volume = None, device: Device = None,
    samplerate: Samplerate = None, dry_run: DryRun = False, plain: Plain = False,
    quiet: Quiet = False, debug: Debug = False,
) -> None:
    """Play an exercise: spoken guidance with soft breathing tones."""
    from grounding.library import find_script

    _run(find_script(name), _options(
        minutes=minutes, no_holds=no_holds, out=out, no_voice=no_voice, no_tones=no_tones,
        voice=voice, rate=rate, volume=volume, device=device, samplerate=samplerate,
        dry_run=dry_run), debug, plain, quiet)


@app.command()
def breathe(
    pattern: Annotated[str, typer.Argument(
        help="Seconds per phase: IN-OUT, IN-HOLD-OUT or IN-HOLD-OUT-HOLD (4-6, 4-7-8, "
             "4-4-4-4), IN+MORE-OUT for a sigh (2.5+0.7-6), or a name: resonance, coherent, "
             "box, gentle-box, 4-7-8, sigh.")] = "resonance",
    minutes: Annotated[Optional[float], typer.Option(
        "--minutes", min=0.1, max=60, help="How long, rounded to whole breaths (default 5).")] = None,
    cycles: Annotated[Optional[int], typer.Option(
        "--cycles", min=1, max=1000, help="How many breaths, instead of --minutes.")] = None,
    ramp: Annotated[Optional[float], typer.Option(
        "--ramp", min=1, max=10,
        help="Start at this many breaths a minute and slow down gently to the pattern.")] = None,
    no_holds: NoHolds = False,
    out: Out = None, no_voice: NoVoice = False, no_tones: NoTones = False,
    voice: VoiceOpt = None, rate: Rate = None, volume: Volume = None, device: Device = None,
    samplerate: Samplerate = None, dry_run: DryRun = False, plain: Plain = False,
    quiet: Quiet = False, debug: Debug = False,
) -> None:
    """Paced breathing with the tone: rising as you breathe in, falling as you breathe out."""
    from grounding.breath import parse_pattern
    from grounding.errors import UsageError
    from grounding.player import breathing_script
    from grounding.script import cycles_for

    if minutes is not None and cycles is not None:
        raise UsageError("Give either --minutes or --cycles, not both.")
    shape = parse_pattern(pattern)
    if no_holds:
        shape = shape.without_holds()
    if ramp is not None and ramp <= shape.per_minute:
        raise UsageError(f"--ramp is where the pace starts, so it must be faster than the "
                         f"pattern's {shape.per_minute:.3g} breaths a minute.")
    count = cycles if cycles is not None else cycles_for(shape, minutes or 5.0, ramp)
    _run(breathing_script(shape, count, spoken=not no_voice, ramp=ramp), _options(
        no_holds=no_holds, out=out, no_voice=no_voice, no_tones=no_tones, voice=voice,
        rate=rate, volume=volume, device=device, samplerate=samplerate, dry_run=dry_run),
         debug, plain, quiet)


@app.command()
def pause(
    minutes: Annotated[float, typer.Option(
        "--minutes", min=1, max=30, help="How long the urge surfing lasts.")] = 5.0,
    no_ask: Annotated[bool, typer.Option(
        "--no-ask", help="No questions: the whole pause straight through (for a shortcut, "
                         "or with --out for a phone).")] = False,
    out: Out = None, no_voice: NoVoice = False, no_tones: NoTones = False,
    voice: VoiceOpt = None, rate: Rate = None, volume: Volume = None, device: Device = None,
    samplerate: Samplerate = None, dry_run: DryRun = False, plain: Plain = False,
    quiet: Quiet = False, debug: Debug = False,
) -> None:
    """The pre-contact pause: for the pull to text or call someone. Nothing has to be decided."""
    from grounding import config, safety
    from grounding.pause import pause_script

    options = _options(no_holds=False, out=out, no_voice=no_voice, no_tones=no_tones,
                       voice=voice, rate=rate, volume=volume, device=device,
                       samplerate=samplerate, dry_run=dry_run)
    country = config.load(lambda line: None).country
    if not quiet:
        _say(safety.help_now(country, abuse_only=True) + "\n")
    if no_ask or out is not None or dry_run or quiet or not (
            sys.stdin.isatty() and sys.stdout.isatty()):
        _run(pause_script(minutes), options, debug, plain, quiet)
        return
    from grounding.pausing import Pausing

    Pausing(options, minutes, country, lambda script: _run(script, options, debug, plain),
            _say).run()


@app.command()
def history(
    export: Annotated[Optional[str], typer.Option(
        "--export", help="Write the log out as csv or json (to standard output).")] = None,
    forget: Annotated[bool, typer.Option(
        "--forget", help="Delete the log for good (the file, not only its rows).")] = False,
) -> None:
    """Your private log of pauses, if you turned it on: ratings before and after, a chart."""
    from grounding import history as log
    from grounding.errors import UsageError

    if forget:
        _say("The log is deleted." if log.forget() else "There was no log to delete.")
        return
    if export is not None:
        if export not in ("csv", "json"):
            raise UsageError("--export takes csv or json.")
        typer.echo(log.export(export), nl=False if export == "csv" else True)
        return
    entries = log.pauses()
    if not entries:
        typer.echo("Nothing is kept. The log is off unless you turn it on at the end of a pause.")
        return
    typer.echo(f"{'when':<16}  {'minutes':>7}  {'urge':>7}  {'distress':>8}  ended     next")
    for p in entries:
        urge = f"{_rating(p.urge_before)}→{_rating(p.urge_after)}"
        distress = f"{_rating(p.distress_before)}→{_rating(p.distress_after)}"
        typer.echo(f"{p.started:<16}  {p.seconds / 60:>7.1f}  {urge:>7}  {distress:>8}  "
                   f"{p.ended:<8}  {p.next_step or ''}")
    chart = log.chart(entries)
    if chart:
        typer.echo("")
        typer.echo("\n".join(chart))
    typer.echo("\n" + log.summary(entries))


def _rating(value: int | None) -> str:
    return "-" if value is None else str(value)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(
        help="Exercise files (.toml) to check.", exists=False, dir_okay=False)],
) -> None:
    """Check exercise files without playing them, and explain every mistake."""
    from grounding.script import Breathe, load_script

    broken = 0
    for path in files:
        try:
            script = load_script(path)
        except GroundingError as exc:
            broken += 1
            _say(str(exc))
            continue
        breaths = sum(1 for s in script.steps if isinstance(s, Breathe))
        typer.echo(f"{path}: fine. {script.title}, {len(script.steps)} steps "
                   f"({breaths} breathing), about {script.minutes:g} minutes"
                   f"{', with breath holds' if script.holds else ''}.")
    if broken:
        raise typer.Exit(2)


@app.command()
def doctor() -> None:
    """Check sound output, speech and folders, each on its own, and say how to fix a problem."""
    from grounding.doctor import CHECKS

    failed = 0
    for check in CHECKS:
        found = check()
        typer.echo(f"{'ok  ' if found.ok else 'FIX '}  {found.name}: {found.summary}")
        for fix in found.fixes:
            typer.echo(f"        {fix}")
        failed += not found.ok
    if failed:
        raise typer.Exit(1)


@app.command()
def about() -> None:
    """What this program is and is not, how to stay safe with it, and when to seek help."""
    from grounding import safety

    typer.echo(safety.NOTICE + "\n\n" + safety.WHEN_TO_SEEK_HELP)


@app.command("help-now")
def help_now(
    country: Annotated[Optional[str], typer.Option(
        "--country", help="US, CA, GB, IE or AU (default: your setting, or all).")] = None,
) -> None:
    """Crisis and domestic-abuse lines, at once, with no sound."""
    from grounding import safety

    if country is None:
        from grounding import config

        code = config.load(_say).country
    else:
        code = safety.country_code(country)
    typer.echo(safety.help_now(code))


@app.command("config")
def config_command(
    action: Annotated[Optional[str], typer.Argument(help="Leave out to show the settings, or 'set'.")] = None,
    key: Annotated[Optional[str], typer.Argument(
        help="voice, rate, volume, device, tones, holds or country.")] = None,
    value: Annotated[Optional[str], typer.Argument(help="The new value.")] = None,
) -> None:
    """Show your default settings, or change one: grounding config set volume 50."""
    from dataclasses import fields, replace

    from grounding import config
    from grounding.errors import UsageError

    settings = config.load(_say)
    if action is None:
        for f in fields(config.Config):
            shown = getattr(settings, f.name)
            shown = ("on" if shown else "off") if isinstance(shown, bool) else (shown or "(default)")
            typer.echo(f"{f.name:<7} {shown}")
        typer.echo(f"(kept in {config.path()})")
        return
    if action != "set" or key is None or value is None:
        raise UsageError("Write 'grounding config' to see the settings, or "
                         "'grounding config set KEY VALUE' to change one.")
    parsed = config.parse_value(key, value)
    path = config.save(replace(settings, **{key: parsed}))
    typer.echo(f"{key} is now {parsed} (in {path}).")


@app.command()
def voices(
    language: Annotated[Optional[str], typer.Argument(
        help="Only voices for this language, such as en or de.")] = None,
) -> None:
    """List the voices the speech engine offers."""
    from grounding.speech import list_voices

    found = list_voices()
    if language:
        want = language.replace("_", "-").lower()
        found = [v for v in found if any(
            lang.lower().replace("_", "-").lstrip("\x05").startswith(want)
            for lang in v["languages"])]
    if not found:
        _say(f"No voices for '{language}'." if language else "The speech engine offers no voices.")
        raise typer.Exit(1)
    width = max(len(v["id"]) for v in found)
    for v in found:
        langs = ", ".join(lang.lstrip("\x05") for lang in v["languages"])
        typer.echo(f"{v['id']:<{width}}  {langs:<14}  {v['name']}")


@app.command()
def devices() -> None:
    """List the sound output devices (the default is marked with *)."""
    from grounding.errors import AudioUnavailable
    from grounding.soundcard import import_sounddevice, no_device_message

    sd = import_sounddevice()
    outputs = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    if not outputs:
        raise AudioUnavailable(no_device_message())
    default = sd.default.device[1]
    for d in outputs:
        mark = "*" if d["index"] == default else " "
        api = sd.query_hostapis(d["hostapi"])["name"]
        typer.echo(f"{mark} {d['index']:>2}  {d['name']}  ({api}, "
                   f"{d['max_output_channels']} ch, {d['default_samplerate']:g} Hz)")


def _terminate(signum, frame) -> None:
    """SIGTERM stops a session the way Ctrl-C does: a fade, the terminal put back, exit 143."""
    _TERMINATED.append(signum)
    raise KeyboardInterrupt


def main() -> None:
    """Run the command line; turn our errors into one sentence and an exit code."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app(prog_name="grounding")
    except GroundingError as exc:
        _say(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _say("Stopped.")
        sys.exit(143 if _TERMINATED else 130)
    except Exception as exc:  # anything unforeseen: an apology and where the details are
        _unexpected(exc, "--debug" in sys.argv)


def _unexpected(exc: BaseException, debug: bool) -> None:
    import traceback

    from grounding import paths

    if debug:
        traceback.print_exception(exc)
        sys.exit(70)
    log = paths.cache_dir() / "error.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        where = f" The details are in {log}."
    except OSError:
        where = " Run the same command with --debug to see the details."
    _say(f"Sorry, something unexpected went wrong ({type(exc).__name__}).{where}")
    sys.exit(70)
