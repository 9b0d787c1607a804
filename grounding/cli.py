"""The command line: the commands, thin over the library; playing a session in the terminal
is in grounding.console."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from grounding.console import ask, on_terminal, run_script, say, session_options
from grounding.errors import GroundingError, Stopped
from grounding.printable import printable


class _Commands(TyperGroup):
    """The commands, run so that a stop reaches :func:`main` as it is: on its own, Typer
    turns every KeyboardInterrupt into exit code 130, SIGTERM's included."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except Stopped as stop:
            raise _PastTyper(stop) from None


class _PastTyper(BaseException):
    """A :class:`Stopped` on its way past Typer to :func:`main`."""

    def __init__(self, stop: Stopped):
        super().__init__(stop)
        self.stop = stop


app = typer.Typer(
    cls=_Commands, add_completion=False, invoke_without_command=True, rich_markup_mode=None,
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
NightRate = Annotated[Optional[int], typer.Option(
    "--rate", min=80, max=300,
    help="Speaking speed in words per minute (default: your usual rate, 15 % slower).")]
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

@app.callback()
def start(ctx: typer.Context) -> None:
    """Voice-guided grounding and paced-breathing exercises, fully offline."""
    if ctx.invoked_subcommand is not None:
        return
    if not on_terminal():
        typer.echo(ctx.get_help())
        return
    name = ask()
    if name is None:
        return
    if name == "":
        ctx.invoke(list_command)
        typer.echo("\nTo start one: grounding play NAME")
        return
    if name == "pause":
        ctx.invoke(pause)
    elif name == "bedtime":
        ctx.invoke(bedtime)
    else:
        ctx.invoke(play, name=name)


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
            notes.append(f"{printable(str(entry.path))} cannot be read; 'grounding validate "
                         f"{printable(str(entry.path))}' says why.")
            continue
        if tag is not None and tag not in s.tags:
            continue
        mark = " *" if entry.own else ""
        rows.append((s.name + mark, f"{s.minutes:g} min", "holds" if s.holds else "",
                     ", ".join(s.tags), s.summary))
        if entry.replaces:
            notes.append(f"Your own '{s.name}' ({printable(str(entry.path))}) is used instead "
                         "of the bundled one.")
    if not rows:
        say(f"No exercise has the tag '{tag}'." if tag else "There are no exercises yet.")
    else:
        name_w, tags_w = max(len(r[0]) for r in rows), max(len(r[3]) for r in rows)
        for name, minutes, holds, tags, summary in rows:
            typer.echo(f"{name:<{name_w}}  {minutes:>9}  {holds:<5}  {tags:<{tags_w}}  {summary}")
        if any(r[0].endswith(" *") for r in rows):
            notes.insert(0, "* your own exercise")
    for note in notes:
        say(note)


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

    run_script(find_script(name), session_options(
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
    run_script(breathing_script(shape, count, spoken=not no_voice, ramp=ramp), session_options(
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

    options = session_options(no_holds=False, out=out, no_voice=no_voice, no_tones=no_tones,
                       voice=voice, rate=rate, volume=volume, device=device,
                       samplerate=samplerate, dry_run=dry_run)
    from grounding.pausing import FIRST_NOTICE

    country = config.load(lambda line: None).country
    live = out is None and not dry_run
    if not quiet:  # a few lines at most before the first word (the help stays one key away)
        if live and safety.first_run():
            say(FIRST_NOTICE)
            safety.mark_shown()
        line = safety.abuse_line(country)
        if line:
            say(line)
        if live:
            say("h shows the help lines at any moment.")
    if not live:  # one file, or one timeline to print
        run_script(pause_script(minutes), options, debug, plain, quiet)
        return
    from grounding.pausing import Pausing
    from grounding.player import make_voice

    ask = not (no_ask or quiet) and on_terminal()
    with make_voice(options) as voice:
        Pausing(options, minutes, country,
                lambda script: run_script(script, options, debug, plain, quiet, voice=voice),
                say, voice, ask=ask, quiet=quiet).run()


@app.command()
def bedtime(
    minutes: Annotated[float, typer.Option(
        "--minutes", min=10, max=45, help="How long, from 10 to 45 minutes.")] = 20.0,
    pace: Annotated[float, typer.Option(
        "--pace", min=5.5, max=10,
        help="Your easy breathing pace, in breaths a minute, to start from; it glides down to "
             "about 5.5.")] = 8.0,
    tones_until: Annotated[Optional[float], typer.Option(
        "--tones-until", min=10, max=60,
        help="Keep the quiet tones going, without the voice, until this many minutes, then "
             "fade (at most 60).")] = None,
    noise: Annotated[Optional[str], typer.Option(
        "--noise", help="A soft noise bed that breathes with the tones: brown or pink.")] = None,
    animate: Annotated[bool, typer.Option(
        "--animate", help="Keep the breathing bar moving after the first minute.")] = False,
    out: Out = None, no_voice: NoVoice = False, no_tones: NoTones = False,
    voice: VoiceOpt = None, rate: NightRate = None, volume: Volume = None,
    device: Device = None, samplerate: Samplerate = None, dry_run: DryRun = False,
    plain: Plain = False, quiet: Quiet = False, debug: Debug = False,
) -> None:
    """The bedtime routine: slow, quiet, nothing to answer; it fades to silence and ends by
    itself."""
    from dataclasses import replace

    from grounding import config
    from grounding.bedtime import PITCH, bedtime_script, night_rate
    from grounding.errors import UsageError
    from grounding.palette import load_palette

    if noise is not None and noise.lower() not in ("brown", "pink"):
        raise UsageError("--noise is brown or pink.")
    spoken = rate or night_rate(config.load(lambda line: None).rate)
    options = session_options(no_holds=False, out=out, no_voice=no_voice, no_tones=no_tones,
                              voice=voice, rate=spoken, volume=volume, device=device,
                              samplerate=samplerate, dry_run=dry_run)
    options = replace(options, pitch=PITCH,
                      mix=replace(options.mix, noise=noise.lower() if noise else None))
    run_script(bedtime_script(minutes, pace, tones_until, spoken), options, debug, plain,
               quiet, palette=load_palette("night"), night=True, animate=animate)


@app.command()
def history(
    export: Annotated[Optional[str], typer.Option(
        "--export", help="Write the log out as csv or json (to standard output).")] = None,
    show: Annotated[Optional[int], typer.Option(
        "--show", metavar="N",
        help="Show pause N of the list in full, with the note kept with it.")] = None,
    forget: Annotated[bool, typer.Option(
        "--forget", help="Delete the log for good (the file, not only its rows) and turn it "
                         "off.")] = False,
) -> None:
    """Your private log of pauses, if you turned it on: ratings before and after, a chart."""
    from grounding import config
    from grounding import history as log
    from grounding.errors import UsageError

    if forget:
        say("The log is deleted and turned off; nothing more is kept unless you turn it on "
            "again." if log.forget(say) else "There was no log to delete; the log is off.")
        return
    if export is not None:
        if export not in ("csv", "json"):
            raise UsageError("--export takes csv or json.")
        typer.echo(log.export(export), nl=False if export == "csv" else True)
        return
    entries = log.pauses()
    if show is not None:
        _show_pause(entries, show)
        return
    setting = config.load(say).log
    if not entries:
        typer.echo({
            "on": "Nothing is kept yet. The log is on: each pause is kept when it ends.",
            "off": "Nothing is kept: the log is off. 'grounding config set log on' turns it "
                   "on.",
        }.get(setting, "Nothing is kept: the log is not on. At the end of your first pause, "
                       "you are asked whether to keep one."))
        return
    number_w = len(str(len(entries)))
    typer.echo(f"{'#':>{number_w}}  {'when':<16}  {'minutes':>7}  {'urge':>7}  {'distress':>8}  "
               "ended     note  next")
    for number, p in enumerate(entries, 1):
        urge = f"{_rating(p.urge_before)}→{_rating(p.urge_after)}"
        distress = f"{_rating(p.distress_before)}→{_rating(p.distress_after)}"
        typer.echo(f"{number:>{number_w}}  {p.started:<16}  {p.seconds / 60:>7.1f}  {urge:>7}  "
                   f"{distress:>8}  {p.ended:<8}  {'note' if p.note else '':<4}  "
                   f"{p.next_step or ''}".rstrip())
    chart = log.chart(entries)
    if chart:
        typer.echo("")
        typer.echo("\n".join(chart))
    typer.echo("\n" + log.summary(entries))
    if any(p.note for p in entries):
        typer.echo("'grounding history --show N' shows pause N with its note.")
    if setting == "off":
        typer.echo("The log is off now: these were kept while it was on. "
                   "'grounding history --forget' deletes them.")


def _show_pause(entries: list, number: int) -> None:
    """One pause of the list in full, with its note; a sentence (exit 2) if there is no such
    pause or it holds no note."""
    from grounding.errors import UsageError

    if not 1 <= number <= len(entries):
        raise UsageError(f"There is no pause {number}: " + (
            "nothing is kept." if not entries else
            f"'grounding history' numbers them 1 to {len(entries)}."))
    p = entries[number - 1]
    if not p.note:
        raise UsageError(f"Pause {number} holds no note; 'grounding history' marks the ones "
                         "that do with 'note'.")
    typer.echo(f"Pause {number}, {p.started}, {p.seconds / 60:.1f} minutes, {p.ended}")
    typer.echo(f"urge {_rating(p.urge_before)}→{_rating(p.urge_after)}, distress "
               f"{_rating(p.distress_before)}→{_rating(p.distress_after)}")
    if p.next_step:
        typer.echo(f"next: {p.next_step}")
    # the note as written, without terminal control codes typed along with it
    note = "".join(c if c in "\n\t" or c.isprintable() else "?" for c in p.note)
    typer.echo("\n" + note)


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
            say(str(exc))
            continue
        breaths = sum(1 for s in script.steps if isinstance(s, Breathe))
        typer.echo(f"{printable(str(path))}: fine. {script.title}, {len(script.steps)} steps "
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
        typer.echo(printable(f"{'ok  ' if found.ok else 'FIX '}  {found.name}: {found.summary}"))
        for fix in found.fixes:
            typer.echo(f"        {printable(fix)}")
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
        "--country",
        help="Any country: a two-letter code such as NZ, FR or GB (UK works too) or its English "
             "name. Where there are no lines yet, its emergency number if known and "
             "findahelpline.com. Default: your setting, else your system's language setting, "
             "else a short list.")] = None,
) -> None:
    """Crisis and domestic-abuse lines, at once, with no sound. It always answers: a country it
    does not know gets a sentence on stderr and the usual help."""
    from grounding import safety

    try:
        code = ""
        if country is not None:
            try:
                code = safety.country_code(country)
            except GroundingError:
                say(safety.not_a_country(country))
        if not code:
            from grounding import config

            code = config.load(say).country
        text = safety.help_now(code)
    except Exception:  # a crisis command never answers with an error: what needs no data
        text = f"{safety.DANGER}\n\nAnywhere: {safety.ANYWHERE}"
    typer.echo(text)


@app.command("config")
def config_command(
    action: Annotated[Optional[str], typer.Argument(help="Leave out to show the settings, or 'set'.")] = None,
    key: Annotated[Optional[str], typer.Argument(
        help="voice, rate, volume, device, tones, holds, country or log.")] = None,
    value: Annotated[Optional[str], typer.Argument(
        help="The new value. For country: any two-letter country code (NZ, fr), UK, or an "
             "English name such as New Zealand; \"\" for none.")] = None,
) -> None:
    """Show your default settings, or change one: grounding config set volume 50, or
    grounding config set country NZ (any country; help-now and the pause then show its
    lines, or its emergency number and findahelpline.com where there are none yet)."""
    from dataclasses import fields, replace

    from grounding import config
    from grounding.errors import UsageError

    settings = config.load(say)
    if action is None:
        for f in fields(config.Config):
            shown = getattr(settings, f.name)
            shown = ("on" if shown else "off") if isinstance(shown, bool) else (shown or "(default)")
            typer.echo(f"{f.name:<7} {shown}")
        typer.echo(f"(kept in {printable(str(config.path()))})")
        return
    if action != "set" or key is None or value is None:
        raise UsageError("Write 'grounding config' to see the settings, or "
                         "'grounding config set KEY VALUE' to change one.")
    parsed = config.parse_value(key, value)
    path = config.save(replace(settings, **{key: parsed}))
    typer.echo(printable(f"{key} is now {parsed} (in {path})."))


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
        say(f"No voices for '{language}'." if language else "The speech engine offers no voices.")
        raise typer.Exit(1)
    width = max(len(printable(v["id"])) for v in found)
    for v in found:
        langs = printable(", ".join(lang.lstrip("\x05") for lang in v["languages"]))
        typer.echo(f"{printable(v['id']):<{width}}  {langs:<14}  {printable(v['name'])}")


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
        api = printable(sd.query_hostapis(d["hostapi"])["name"])
        typer.echo(f"{mark} {d['index']:>2}  {printable(d['name'])}  ({api}, "
                   f"{d['max_output_channels']} ch, {d['default_samplerate']:g} Hz)")


def _stop(signum, frame) -> None:
    """Ctrl-C and SIGTERM stop a session the way q does: a fade, the terminal put back, and
    the exit code that says which (see :class:`Stopped`)."""
    raise Stopped(signum)


def main() -> None:
    """Run the command line; turn our errors into one sentence and an exit code, and a stop
    into its exit code (what it stopped has said so)."""
    import signal

    from grounding import paths

    signal.signal(signal.SIGTERM, _stop)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not if ignored
        signal.signal(signal.SIGINT, _stop)
    try:
        paths.sweep_temp()  # what a killed run left (its own folder goes at exit, by atexit)
        try:
            app(prog_name="grounding")
        except _PastTyper as passing:
            raise passing.stop from None
    except GroundingError as exc:
        say(str(exc))
        sys.exit(exc.exit_code)
    except Stopped as stop:
        sys.exit(stop.exit_code)
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
    say(f"Sorry, something unexpected went wrong ({type(exc).__name__}).{where}")
    sys.exit(70)
