"""The command line: the commands, thin over the library; playing a session in the terminal
is in grounding.terminal."""

from __future__ import annotations

import functools
import inspect
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Optional, get_type_hints

import typer
from typer.core import TyperCommand, TyperGroup

from grounding import defaults
from grounding.errors import GroundingError, Stopped, UsageError
from grounding.printable import printable, text_width, wrap
from grounding.terminal import (NOT_SAFE, ask, on_terminal, run_script, say, session_options,
                                tell_short)


class _Commands(TyperGroup):
    """The commands, run so that a stop reaches :func:`main` as it is: on its own, Typer
    turns every KeyboardInterrupt into exit code 130, SIGTERM's included."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            words = range_words(exc.param)
            if words is None:
                raise
            raise UsageError(words) from None
        except Stopped as stop:
            raise _PastTyper(stop) from None


def range_words(param) -> str | None:
    """What an option with a range takes, in plain words ("--minutes is a number from 0.5
    to 60."), for any value it cannot use; None for other parameters."""
    bounds = getattr(param, "type", None)
    kind = getattr(bounds, "name", "")  # as Click names its IntRange and FloatRange
    if kind not in ("int range", "float range") or not param.opts:
        return None
    what = "a whole number" if kind == "int range" else "a number"
    low = "" if bounds.min is None else f"{bounds.min:g}"
    high = "" if bounds.max is None else f"{bounds.max:g}"
    span = (f"from {low} to {high}" if low and high else
            f"of at least {low}" if low else f"of at most {high}")
    return f"{max(param.opts, key=len)} is {what} {span}."


class _Playing(TyperCommand):
    """A command that plays a session: its help gives the volume and speaking speed the
    user keeps in their settings, where they differ from the built-in ones."""

    def format_help(self, ctx: typer.Context, formatter) -> None:
        from grounding import config

        try:
            settings = config.load(lambda line: None)
        except Exception:  # the help is always shown, with the built-in defaults if need be
            settings = config.Config()
        for param in self.params:
            if param.name == "volume":
                param.help = volume_help(settings.volume)
            elif param.name == "rate" and param.help == RATE_HELP:
                param.help = rate_help(settings.rate)
        super().format_help(ctx, formatter)


def volume_help(kept: int = defaults.VOLUME) -> str:
    """--volume's help, with the volume the user keeps (``kept``) as its default."""
    low, high = defaults.VOLUME_RANGE
    return f"Loudness from {low} to {high} ({_default(kept, defaults.VOLUME)})."


def rate_help(kept: int = defaults.RATE) -> str:
    """--rate's help, with the speed the user keeps (``kept``) as its default."""
    return f"Speaking speed in words per minute ({_default(kept, defaults.RATE)})."


def _default(kept: int, built_in: int) -> str:
    return (f"default {built_in}" if kept == built_in else
            f"default {kept}, from your settings; 'grounding config set' changes it")


RATE_HELP = rate_help()


class _PastTyper(BaseException):
    """A :class:`Stopped` on its way past Typer to :func:`main`."""

    def __init__(self, stop: Stopped):
        super().__init__(stop)
        self.stop = stop


app = typer.Typer(
    cls=_Commands, add_completion=True, invoke_without_command=True, rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Voice-guided grounding and paced-breathing exercises, fully offline.",
    context_settings={"help_option_names": ["-h", "--help"]})

# What Tab completes (``grounding --install-completion``): each answer is read from a file or
# a table at once, without the sound or speech engines, and a failure completes nothing.

def _completing(find):
    """A completion function made of ``find(ctx, incomplete)`` (the command's context, with
    the values given before the word, and the word begun): what it gives, or nothing if it
    fails (a Tab never shows an error)."""
    @functools.wraps(find)
    def complete(ctx: typer.Context, incomplete: str):
        try:
            return list(find(ctx, incomplete))
        except Exception:  # noqa: BLE001 - an unreadable folder or file completes nothing
            return []

    return complete


@_completing
def complete_exercise(ctx, incomplete: str):
    """The names of the exercises, bundled and the user's own."""
    from grounding.library import catalogue

    return [e.name for e in catalogue() if e.name.startswith(incomplete)]


@_completing
def complete_pattern(ctx, incomplete: str):
    """The named breathing patterns, with their seconds."""
    from grounding.breath import NAMED

    return [(name, text) for name, text in NAMED.items() if name.startswith(incomplete)]


@_completing
def complete_tag(ctx, incomplete: str):
    """The exercises' tags."""
    from grounding.script import TAGS

    return [tag for tag in TAGS if tag.startswith(incomplete)]


@_completing
def complete_noise(ctx, incomplete: str):
    """The noise beds."""
    return [n for n in ("brown", "pink") if n.startswith(incomplete)]


@_completing
def complete_config_action(ctx, incomplete: str):
    """What ``grounding config`` does."""
    return [a for a in ("set", "reset") if a.startswith(incomplete)]


@_completing
def complete_config_key(ctx, incomplete: str):
    """The settings, after ``set`` or ``reset``."""
    from dataclasses import fields

    from grounding.config import Config

    if ctx.params.get("action") not in ("set", "reset"):
        return []
    return [f.name for f in fields(Config) if f.name.startswith(incomplete)]


@_completing
def complete_config_value(ctx, incomplete: str):
    """After ``set KEY``: on or off for the settings that are, the countries for country."""
    if ctx.params.get("action") != "set":
        return []
    key = ctx.params.get("key")
    if key in ("tones", "holds", "log"):
        return [v for v in ("on", "off") if v.startswith(incomplete)]
    if key == "country":
        return complete_country(ctx, incomplete)
    return []


@_completing
def complete_country(ctx, incomplete: str):
    """The two-letter country codes, each with its name, in the case begun in (nz or NZ)."""
    from grounding.safety import country_codes

    lower = incomplete != incomplete.upper()
    return [(code.lower() if lower else code, name) for code, name in country_codes().items()
            if code.startswith(incomplete.upper())]


# The options the playing commands share, each declared once, and how a command takes them.

Out = Annotated[Optional[Path], typer.Option(
    "--out", "-o", help="Write the session to this file instead of the sound card: .wav, "
                         "or with the formats extra .mp3, .ogg, .opus or .flac.")]
Force = Annotated[bool, typer.Option(
    "--force", help="With --out: replace the file if it exists, without asking.")]
NoVoice = Annotated[bool, typer.Option("--no-voice", help="Leave out the spoken guidance.")]
NoTones = Annotated[bool, typer.Option("--no-tones", help="Voice only, no breathing tones.")]
VoiceOpt = Annotated[Optional[str], typer.Option(
    "--voice", help="A voice id, a language such as en or en-us, or natural (see "
                     "'grounding voices').")]
Rate = Annotated[Optional[int], typer.Option(
    "--rate", min=defaults.RATE_RANGE[0], max=defaults.RATE_RANGE[1],
    help=RATE_HELP)]
NightRate = Annotated[Optional[int], typer.Option(
    "--rate", min=defaults.RATE_RANGE[0], max=defaults.RATE_RANGE[1],
    help="Speaking speed in words per minute (default: your usual rate, 15 % slower).")]
Volume = Annotated[Optional[int], typer.Option(
    "--volume", min=defaults.VOLUME_RANGE[0], max=defaults.VOLUME_RANGE[1],
    help=volume_help())]
Device = Annotated[Optional[str], typer.Option(
    "--device", help="Output device: a number or part of a name (see 'grounding devices').")]
Samplerate = Annotated[Optional[int], typer.Option(
    "--samplerate", min=8000, max=192000,
    help=f"Sample rate in Hz (default: the device's own rate, or {defaults.FILE_SAMPLERATE} "
         "for files).")]
DryRun = Annotated[bool, typer.Option(
    "--dry-run", help="Play nothing: print what would be said and when, and each breath "
                      "phase.")]
AsJson = Annotated[bool, typer.Option(
    "--json", help="With --dry-run: print the timeline as one JSON document instead (each "
                   "event's start and length in samples and seconds, the sha256; see "
                   "docs/json.md).")]
Debug = Annotated[bool, typer.Option("--debug", help="Show timings and full error details.")]
NoHolds = Annotated[bool, typer.Option(
    "--no-holds", help="Turn every breath hold into ordinary breathing.")]
Plain = Annotated[bool, typer.Option(
    "--plain", help="No animation or colour: one timestamped line per caption and phase "
                    "(screen-reader friendly; automatic when not on a terminal).")]
Quiet = Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")]
Loudness = Annotated[Optional[float], typer.Option(
    "--loudness", min=-40, max=-10, metavar="LUFS",
    help="Level the whole session to this loudness at the usual volume (default: -18 for "
         "--out files, as for a phone; -24 on the sound card).")]


@dataclass(frozen=True)
class SessionFlags:
    """The options every playing command takes, in the order its help lists them after the
    command's own; ``session_flags`` adds them to a command and gathers them into one of
    these."""

    no_holds: NoHolds = False
    out: Out = None
    force: Force = False
    no_voice: NoVoice = False
    no_tones: NoTones = False
    voice: VoiceOpt = None
    rate: Rate = None
    volume: Volume = None
    loudness: Loudness = None
    device: Device = None
    samplerate: Samplerate = None
    dry_run: DryRun = False
    as_json: AsJson = False
    plain: Plain = False
    quiet: Quiet = False
    debug: Debug = False

    def options(self, **chosen):
        """How to play: these flags, with the user's settings filling what they leave out;
        ``chosen`` are what the command decides itself (``minutes``, its own ``rate``)."""
        if self.as_json and not self.dry_run:
            raise UsageError(JSON_WITHOUT_DRY_RUN)
        if self.out is not None and not self.dry_run and not self.force:
            _may_replace(self.out)
        given = {f.name: getattr(self, f.name) for f in fields(self)
                 if f.name not in ("plain", "quiet", "debug", "force", "as_json")}
        if self.device:  # a name typed now that matches no output is to be corrected
            from grounding.devices import Typed

            given["device"] = Typed(self.device)
        return session_options(**{**given, **chosen})

    def play(self, script, options=None, **how) -> None:
        """Play ``script`` in the terminal with these flags (``options`` if the command has
        adjusted them; ``how``: the palette, the night display)."""
        run_script(script, options or self.options(), self.debug, self.plain, self.quiet,
                   as_json=self.as_json, **how)


JSON_WITHOUT_DRY_RUN = ("--json describes a dry run; add --dry-run to print the session's "
                        "timeline as JSON without playing it.")


def _may_replace(out: Path) -> None:
    """Before a session is written to ``out``: if a file is there already, ask on a
    terminal whether to replace it; elsewhere (a script, a pipe) refuse, as no one can be
    asked and the file may be wanted. ``--force`` skips this."""
    from grounding.errors import UsageError
    from grounding.terminal import show

    if not out.is_file():
        return
    shown = printable(str(out))
    if not on_terminal():
        raise UsageError(f"'{shown}' exists already; add --force to replace it, or choose "
                         "another name.")
    show(f"{shown} exists. Replace it? [y/N] ", end="")
    try:
        answer = sys.stdin.readline()
    except Stopped as stop:
        show()
        stop.tell(say, f"Stopped; {shown} is as it was.")
        raise
    if answer.strip().lower() not in ("y", "yes"):
        if not answer:  # the end of the input: the answer line was never ended
            show()
        say(f"{shown} is as it was; nothing was written.")
        raise typer.Exit(0)


def session_flags(*, holds: bool = True, rate=Rate):
    """Give a command the options every session takes, after its own, and pass them to it
    gathered as one ``SessionFlags``, its keyword ``flags``. ``holds``: whether it takes
    --no-holds; ``rate``: the --rate option, where it reads differently."""
    declared = get_type_hints(SessionFlags, include_extras=True) | {"rate": rate}
    shared = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                annotation=declared[f.name], default=f.default)
              for f in fields(SessionFlags) if holds or f.name != "no_holds"]
    names = {p.name for p in shared}

    def add(command):
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values()
               if p.name != "flags"]

        @functools.wraps(command)
        def with_flags(**given):
            flags = SessionFlags(**{name: given.pop(name) for name in names & given.keys()})
            return command(**given, flags=flags)

        with_flags.__signature__ = inspect.Signature(own + shared)
        with_flags.__annotations__ = {p.name: p.annotation for p in own + shared}
        return with_flags

    return add


def _version(wanted: bool) -> None:
    """``--version``: the version, and nothing else is done."""
    if wanted:
        from grounding import __version__

        typer.echo(f"grounding {__version__}")
        raise typer.Exit()


@app.callback()
def start(ctx: typer.Context, version: Annotated[bool, typer.Option(
        "--version", help="Say which version this is, and do nothing else.", is_eager=True,
        callback=_version)] = False) -> None:
    """Voice-guided grounding and paced-breathing exercises, fully offline."""
    if ctx.invoked_subcommand is not None:
        return
    if not on_terminal():
        typer.echo(ctx.get_help())
        return
    try:
        name = ask()
        if name == "":  # show me everything
            ctx.invoke(list_command)
            name = _pick_from_list()
    except Stopped as stop:
        typer.echo("")  # the question's line ends before the words below it
        stop.tell(tell, f"Stopped. {NOTHING_STARTED}")
        raise
    if name is None:
        tell(NOTHING_STARTED)
        return
    if name in (NOT_SAFE, "when-they-reach-out"):
        from grounding import config, moments

        country = config.load(say).country
        if name == NOT_SAFE:
            moments.not_safe(country, lambda: ctx.invoke(play, name="orienting"))
            return
        ctx.invoke(play, name=name)
        moments.after_reaching_out(country)
    elif name == "pause":
        ctx.invoke(pause)
    elif name == "bedtime":
        ctx.invoke(bedtime)
    else:
        ctx.invoke(play, name=name)


def tell(text: str) -> None:
    """Say ``text`` on standard error, wrapped to the screen (see :func:`say`)."""
    say(wrap(text, text_width(sys.stderr)))


BEDTIME_POINTER = ("For sleep: grounding bedtime, a slow, quiet wind-down that fades to "
                   "silence by itself.")
"""What ``list --tag sleep`` ends with: the routine made for the night is a command of its
own, not an exercise in the list."""


NOTHING_STARTED = "Nothing was started, and that's fine. Take care of yourself."
"""The last words when the first question is left without starting anything."""


def _pick_from_list() -> str | None:
    """After the list: the name of one to start, typed there, or None to leave."""
    from grounding.library import COMMANDS, find_script
    from grounding.questions import type_a_name

    def check(name: str) -> None:
        if name not in COMMANDS:
            find_script(name)

    return type_a_name(sys.stdout, "To start one, type its name and press Enter (Enter "
                                   "alone to leave):", check)


JsonList = Annotated[bool, typer.Option(
    "--json", help="Print one JSON document instead, for scripts (see docs/json.md).")]
"""``--json`` on the commands that list or show something."""


@app.command("list")
def list_command(
    tag: Annotated[Optional[str], typer.Option(
        "--tag", autocompletion=complete_tag,
        help="Only exercises with this tag: breathing, grounding, sleep, urge, quick, "
             "practice.")] = None,
    as_json: JsonList = False,
) -> None:
    """List the exercises: name, minutes, whether they hold the breath, tags, what each is for."""
    from grounding import available

    if as_json:
        from grounding import jsonout

        records, notes = available.exercise_records(tag)
        jsonout.emit(kind="exercises", exercises=records)
    else:
        lines, notes = available.exercises(tag)
        for line in lines:
            typer.echo(line)
    for note in notes:  # as they are: a path in one is easier to copy on one line
        say(note)
    if tag == "sleep":
        tell(BEDTIME_POINTER)


@app.command(cls=_Playing)
@session_flags()
def play(
    name: Annotated[str, typer.Argument(
        autocompletion=complete_exercise,
        help="An exercise from 'grounding list', or a .toml file.")],
    minutes: Annotated[Optional[float], typer.Option(
        "--minutes", min=0.5, max=60,
        help="Make the breathing parts longer or shorter so the whole lasts about this long; "
             "the words stay the same.")] = None,
    *, flags: SessionFlags,
) -> None:
    """Play an exercise: spoken guidance with soft breathing tones."""
    from grounding.library import find_script

    flags.play(find_script(name), flags.options(minutes=minutes))


@app.command(cls=_Playing)
@session_flags()
def breathe(
    pattern: Annotated[str, typer.Argument(
        autocompletion=complete_pattern,
        help="Seconds per phase: IN-OUT, IN-HOLD-OUT or IN-HOLD-OUT-HOLD (4-6, 4-7-8, "
             "4-4-4-4), IN+MORE-OUT for a sigh (2.5+0.7-6), or a name: resonance, coherent, "
             "box, gentle-box, 4-7-8, sigh.")] = "resonance",
    minutes: Annotated[Optional[float], typer.Option(
        "--minutes", min=0.1, max=60,
        help=f"How long, rounded to whole breaths (default {defaults.BREATHE_MINUTES:g}).")] = None,
    cycles: Annotated[Optional[int], typer.Option(
        "--cycles", min=1, max=1000, help="How many breaths, instead of --minutes.")] = None,
    ramp: Annotated[Optional[float], typer.Option(
        "--ramp", min=1, max=10,
        help="Start at this many breaths a minute and slow down gently to the pattern.")] = None,
    *, flags: SessionFlags,
) -> None:
    """Paced breathing with the tone: rising as you breathe in, falling as you breathe out."""
    from grounding.breath import parse_pattern
    from grounding.errors import UsageError
    from grounding.player import breathing_script
    from grounding.script import cycles_for

    if minutes is not None and cycles is not None:
        raise UsageError("Give either --minutes or --cycles, not both.")
    shape = parse_pattern(pattern)
    if flags.no_holds:
        shape = shape.without_holds()
    if ramp is not None and ramp <= shape.per_minute:
        raise UsageError(f"--ramp is where the pace starts, so it must be faster than the "
                         f"pattern's {shape.per_minute:.3g} breaths a minute.")
    count = (cycles if cycles is not None
             else cycles_for(shape, minutes or defaults.BREATHE_MINUTES, ramp))
    flags.play(breathing_script(shape, count, spoken=not flags.no_voice, ramp=ramp))


@app.command(cls=_Playing)
@session_flags(holds=False)
def pause(
    minutes: Annotated[float, typer.Option(
        "--minutes", min=3, max=30,
        help="How long the urge surfing lasts, from 3 to 30 minutes.")] = defaults.SURF_MINUTES,
    no_ask: Annotated[bool, typer.Option(
        "--no-ask", help="No questions: the whole pause straight through (for a shortcut, "
                         "or with --out for a phone).")] = False,
    *, flags: SessionFlags,
) -> None:
    """The pre-contact pause: for the pull to text or call someone. Nothing has to be decided."""
    if flags.out is None and not flags.dry_run:  # the sound card's library, meanwhile
        from grounding.devices import import_sounddevice_soon

        import_sounddevice_soon()
    from grounding import config, safety
    from grounding import lengths
    from grounding.pause_plan import pause_script, planned_minutes

    options = flags.options()
    debug, plain, quiet = flags.debug, flags.plain, flags.quiet
    from grounding.pause_flow import FIRST_NOTICE

    country = config.load(lambda line: None).country
    live = flags.out is None and not flags.dry_run
    if not quiet:  # a few lines at most before the first word (the help stays one key away)
        if live and safety.first_run():
            tell(FIRST_NOTICE)
            safety.mark_shown()
        line = safety.abuse_line(country)
        if line:
            tell(line)
        if live:
            tell(f"A pause of {lengths.words(60 * planned_minutes(minutes))}, and the time "
                 "your answers take.")
            tell("h shows the help lines at any moment.")
    if not live:  # one file, or one timeline to print
        run_script(pause_script(minutes), options, debug, plain, quiet, as_json=flags.as_json)
        return
    from dataclasses import replace

    from grounding.pause_flow import Pausing
    from grounding.player import make_voice, shared_gain

    # its parts play one by one, each at the level it has in the whole pause
    options = replace(options, mix=replace(options.mix, gain=shared_gain(
        pause_script(minutes), options)))
    ask = not (no_ask or quiet) and on_terminal()
    short: list[int] = []  # the sound card running short is told once, at the end

    def tell_once() -> None:
        if not quiet:
            tell_short(short)
        short[:] = []

    with make_voice(options) as voice:
        try:
            Pausing(options, minutes, country,
                    lambda script: run_script(script, options, debug, plain, quiet,
                                              voice=voice, short=short),
                    tell, voice, ask=ask, quiet=quiet, before_closing=tell_once).run()
        finally:
            tell_once()  # if it stopped early


@app.command(cls=_Playing)
@session_flags(holds=False, rate=NightRate)
def bedtime(
    minutes: Annotated[float, typer.Option(
        "--minutes", min=10, max=45,
        help="How long, from 10 to 45 minutes.")] = defaults.BEDTIME_MINUTES,
    pace: Annotated[float, typer.Option(
        "--pace", min=5.5, max=10,
        help="Your easy breathing pace, in breaths a minute, to start from; it glides down to "
             "about 5.5.")] = defaults.BEDTIME_PACE,
    tones_until: Annotated[Optional[float], typer.Option(
        "--tones-until", min=10, max=defaults.BEDTIME_LONGEST,
        help="Keep the quiet tones going, without the voice, until this many minutes, then "
             f"fade (at most {defaults.BEDTIME_LONGEST:g}).")] = None,
    noise: Annotated[Optional[str], typer.Option(
        "--noise", autocompletion=complete_noise,
        help="A soft noise bed that breathes with the tones: brown or pink.")] = None,
    animate: Annotated[bool, typer.Option(
        "--animate", help="Keep the breathing bar moving after the first minute.")] = False,
    *, flags: SessionFlags,
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
    spoken = flags.rate or night_rate(config.load(lambda line: None).rate)
    options = flags.options(rate=spoken)
    options = replace(options, pitch=PITCH,
                      mix=replace(options.mix, noise=noise.lower() if noise else None))
    flags.play(bedtime_script(minutes, pace, tones_until, spoken, voiced=not flags.no_voice),
               options, palette=load_palette("night"), night=True, animate=animate)


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
    as_json: JsonList = False,
) -> None:
    """Your private log of pauses, if you turned it on: ratings before and after, a chart."""
    from grounding import config
    from grounding import history as log
    from grounding.errors import UsageError

    if as_json and export is not None:
        raise UsageError("--export writes the whole log in its own format; give --export or "
                         "--json, not both.")
    if forget:
        deleted = log.forget(say)
        say("The log is deleted and turned off; nothing more is kept unless you turn it on "
            "again." if deleted else "There was no log to delete; the log is off.")
        if as_json:
            from grounding import jsonout

            jsonout.emit(kind="history-forget", deleted=deleted, log="off")
        return
    if export is not None:
        if export not in ("csv", "json"):
            raise UsageError("--export takes csv or json.")
        typer.echo(log.export(export), nl=False if export == "csv" else True)
        return
    entries = log.pauses()
    if as_json:
        from dataclasses import asdict

        from grounding import jsonout

        if show is not None:
            jsonout.emit(kind="history-pause",
                         pause={"number": show, **asdict(log.noted(entries, show))})
        else:
            jsonout.emit(kind="history", log=config.load(say).log or None,
                         pauses=log.records(entries))
        return
    if show is not None:
        typer.echo("\n".join(log.shown(entries, show)))
        return
    typer.echo("\n".join(log.listing(entries, config.load(say).log)))


@app.command()
def reasons(
    add: Annotated[bool, typer.Option(
        "--add", help="Write new ones, on a screen of their own; you then choose whether to "
                      "keep them.")] = False,
    remove: Annotated[Optional[int], typer.Option(
        "--remove", metavar="N", help="Remove reason N of the list.")] = None,
    forget: Annotated[bool, typer.Option(
        "--forget", help="Delete them for good (the file, not only its rows).")] = False,
    say_them: Annotated[bool, typer.Option(
        "--say", help="Read them aloud with your voice settings (their sound is never "
                      "stored).")] = False,
) -> None:
    """Your own reasons for keeping your distance, in your words: kept only if you say so,
    only on this computer."""
    from grounding import moments
    from grounding import reasons as store
    from grounding.errors import UsageError

    if add + (remove is not None) + forget + say_them > 1:
        raise UsageError("Give one of --add, --remove, --forget or --say at a time.")
    if forget:
        say("Your reasons are deleted for good." if store.forget()
            else "There were no reasons to delete.")
    elif add:
        moments.write_reasons()
    elif remove is not None:
        left = store.remove(remove)
        say(f"Reason {remove} is removed; " + (
            "none are kept now, so their file is deleted too." if not left else
            f"{left} {'is' if left == 1 else 'are'} kept."))
    elif say_them:
        moments.say_reasons()
    else:
        typer.echo("\n".join(store.listing(store.kept())))


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(
        help="Exercise files (.toml) to check.", exists=False, dir_okay=False)],
) -> None:
    """Check exercise files without playing them, and explain every mistake."""
    from grounding import lengths
    from grounding.duration import script_seconds
    from grounding.script import Breathe
    from grounding.scriptfile import load_script

    broken = 0
    for path in files:
        try:
            script = load_script(path)
        except GroundingError as exc:
            broken += 1
            say(str(exc))
            continue
        breaths = sum(1 for s in script.steps if isinstance(s, Breathe))
        seconds = script_seconds(script, defaults.RATE)
        stated = 60 * script.minutes
        says = ("" if stated / 1.5 <= seconds <= stated * 1.5  # else: far from its minutes
                else f" (minutes = {script.minutes:g} says {lengths.words(stated)})")
        typer.echo(f"{printable(str(path))}: fine. {script.title}, {len(script.steps)} steps "
                   f"({breaths} breathing), {lengths.words(seconds)}{says}"
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
        typer.echo("\n".join(found.lines()))
        failed += not found.ok
    if failed:
        raise typer.Exit(1)


@app.command()
def about() -> None:
    """What this program is and is not, how to stay safe with it, and when to seek help."""
    from grounding import safety

    typer.echo(wrap(safety.NOTICE + "\n\n" + safety.WHEN_TO_SEEK_HELP))


@app.command("help-now")
def help_now(
    country: Annotated[Optional[str], typer.Option(
        "--country", autocompletion=complete_country,
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
        text = wrap(f"{safety.DANGER}\n\nAnywhere: {safety.ANYWHERE}")
    typer.echo(text)


@app.command("config")
def config_command(
    action: Annotated[Optional[str], typer.Argument(
        autocompletion=complete_config_action,
        help="Leave out to show the settings; 'set' to change one; 'reset' to put one, or all "
             "of them, back to the default.")] = None,
    key: Annotated[Optional[str], typer.Argument(
        autocompletion=complete_config_key,
        help="voice, rate, volume, device, tones, holds, country or log.")] = None,
    value: Annotated[Optional[str], typer.Argument(
        autocompletion=complete_config_value,
        help="The new value. For country: any two-letter country code (NZ, fr), UK, or an "
             "English name such as New Zealand; \"\" for none.")] = None,
) -> None:
    """Show your default settings, or change one: grounding config set volume 50, or
    grounding config set country NZ (any country; help-now and the pause then show its
    lines, or its emergency number and findahelpline.com where there are none yet).
    grounding config reset volume puts one back to its default; grounding config reset puts
    them all back, keeping a copy of the old file.

    The settings: voice, rate (words a minute, 80 to 300), volume (0 to 100), device, tones
    (on or off), holds (on or off), country, log (on or off: the private log of pauses)."""
    from dataclasses import fields

    from grounding import config
    from grounding.errors import UsageError

    usage = ("Write 'grounding config' to see the settings, 'grounding config set KEY VALUE' "
             "to change one, or 'grounding config reset [KEY]' to put them back.")
    if action is None:
        settings = config.load(say)
        for f in fields(config.Config):
            typer.echo(printable(f"{f.name:<7} {config.shown(f.name, getattr(settings, f.name))}"))
        typer.echo(f"(kept in {printable(str(config.path()))})")
    elif action == "set" and key is not None and value is not None:
        from grounding.available import checked_setting

        parsed = config.parse_value(config.known(key), value)
        note = checked_setting(key, parsed)
        path = config.change({key: parsed})
        now = config.shown(key, parsed)
        typer.echo(printable(f"{key} is now {now} (in {path})." if now != "(default)" else
                             f"{key} is now back to its default (in {path})."))
        if note:
            say(note)
    elif action == "reset" and value is None:
        if key is None:
            old = config.reset()
            typer.echo(printable("Every setting is back to its default" + (
                f"; what the file said is kept in {old}." if old else ".")))
        else:
            config.reset(config.known(key))
            default = config.shown(key, getattr(config.Config(), key))
            typer.echo(f"{key} is back to its default" +
                       (f", {default}." if default != "(default)" else "."))
    else:
        raise UsageError(usage)


@app.command()
def voices(
    language: Annotated[Optional[str], typer.Argument(
        help="Only voices for this language, such as en or de.")] = None,
    as_json: JsonList = False,
) -> None:
    """List the voices the speech engine offers."""
    from grounding import available

    if as_json:
        _voices_json(language)
        return
    lines = available.voices(language)
    if not lines:
        say(f"No voices for '{language}'." if language else "The speech engine offers no voices.")
        raise typer.Exit(1)
    typer.echo("\n".join(lines))
    note = available.natural_note(language)
    if note:
        say(note)


def _voices_json(language: str | None) -> None:
    """``voices --json``: the voices; with none, an empty list, and on standard error why,
    with the exit status the text gives."""
    from grounding import available, jsonout
    from grounding.errors import SpeechUnavailable

    try:
        found = available.voice_records(language)
    except SpeechUnavailable as exc:
        jsonout.emit(kind="voices", voices=[])
        say(str(exc))
        raise typer.Exit(exc.exit_code) from None
    jsonout.emit(kind="voices", voices=found)
    if not found:
        say(f"No voices for '{language}'." if language else "The speech engine offers no voices.")
        raise typer.Exit(1)


@app.command()
def devices(as_json: JsonList = False) -> None:
    """List the sound output devices (the default is marked with *)."""
    from grounding import available

    if not as_json:
        typer.echo("\n".join(available.devices()))
        return
    from grounding import jsonout
    from grounding.errors import AudioUnavailable

    try:
        found = available.device_records()
    except AudioUnavailable as exc:  # the reason on standard error, the status as without --json
        jsonout.emit(kind="devices", devices=[])
        say(str(exc))
        raise typer.Exit(exc.exit_code) from None
    jsonout.emit(kind="devices", devices=found)


@app.command("export")
def export_command(
    folder: Annotated[Path, typer.Argument(
        help="The folder to write into; made if it is not there.")],
    format: Annotated[Optional[str], typer.Option(
        "--format", help="mp3, ogg, opus, flac or wav (default: mp3 with the formats extra, "
                         "else wav).")] = None,
    only: Annotated[Optional[list[str]], typer.Option(
        "--only", metavar="NAME", help="Only this one of the set, such as quick-reset or "
                                       "bedtime-20; give it again for more.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace files already there, without asking.")] = False,
    voice: VoiceOpt = None,
) -> None:
    """Write a set of sessions into a folder, to copy to a phone: the quick exercises, the
    pause without questions, and bedtime at 20 and 45 minutes."""
    from grounding import export
    from grounding.display import clock

    fmt = (format or export.default_format()).lower().lstrip(".")
    if fmt not in export.FORMATS:
        raise UsageError(f"--format is one of {', '.join(export.FORMATS)}.")
    if format is None and fmt == "wav":
        from grounding.encoded import extra_hint

        tell(f"These are .wav files, about 6 MB a minute: the formats extra, which writes "
             f"MP3 files a twentieth of that size or less, is not installed; {extra_hint()} "
             "adds it.")
    items = export.chosen(export.the_set(), only)
    export.prepare_folder(folder)
    paths = [folder / f"{item.name}.{fmt}" for item in items]
    there = [p for p in paths if p.exists()]
    if there and not force:
        names = ", ".join(printable(p.name) for p in there)
        replace = False
        if on_terminal():
            shown = printable(str(folder))
            typer.echo(f"{names} is in {shown} already. Replace it? [y/N] " if len(there) == 1
                       else f"{len(there)} of these files are in {shown} already ({names}). "
                            "Replace them? [y/N] ", nl=False)
            try:
                replace = sys.stdin.readline().strip().lower() in ("y", "yes")
            except Stopped as stop:
                typer.echo("")
                stop.tell(say, "Stopped; nothing was written.")
                raise
        if not replace:
            say(f"Kept as {'they are' if len(there) > 1 else 'it is'}: {names} (--force "
                f"replaces {'them' if len(there) > 1 else 'it'}).")
            kept = set(there)
            items = [i for i, p in zip(items, paths) if p not in kept]
            paths = [p for p in paths if p not in kept]
    if not items:
        say("Nothing else to write.")
        return
    widest = max(len(p.name) for p in paths)

    def done(made) -> None:
        length = clock(round(made.seconds))
        typer.echo(f"{printable(made.path.name):<{widest}}  {length:>7}  "
                   f"{made.size / 1e6:6.1f} MB")

    written = export.write(items, paths, voice, say, done)
    length = clock(round(sum(w.seconds for w in written)))
    typer.echo(f"{len(written)} file{'s' if len(written) != 1 else ''}, {length} in all, "
               f"{sum(w.size for w in written) / 1e6:.1f} MB, in {printable(str(folder))}.")


def _stop(signum, frame) -> None:
    """Ctrl-C and SIGTERM stop a session the way q does: a fade, the terminal put back, and
    the exit code that says which (see :class:`Stopped`)."""
    raise Stopped(signum)


def main() -> None:
    """Run the command line; turn our errors into one sentence and an exit code, and a stop
    into its exit code (what it stopped has said so)."""
    import signal

    from grounding import paths
    from grounding.printable import windows_console

    windows_console()
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
        say(str(exc) + _from_settings(exc, sys.argv[1:]))
        sys.exit(exc.exit_code)
    except paths.HomeUnusable as exc:
        say(printable(str(exc)))
        sys.exit(2)
    except Stopped as stop:
        sys.exit(stop.exit_code)
    except Exception as exc:  # anything unforeseen: an apology and where the details are
        _unexpected(exc, "--debug" in sys.argv)


def _from_settings(exc: GroundingError, args: list[str]) -> str:
    """For a voice that is not installed and was not given with --voice: that it comes from
    the settings, and how to change it there."""
    from grounding.errors import VoiceNotFound

    given = any(arg == "--voice" or arg.startswith("--voice=") for arg in args)
    if not isinstance(exc, VoiceNotFound) or given or args[:2] == ["config", "set"]:
        return ""
    return " It is your voice setting: grounding config set voice NAME changes it."


def _unexpected(exc: BaseException, debug: bool) -> None:
    import traceback

    from grounding import paths

    if debug:
        traceback.print_exception(exc)
        sys.exit(70)
    try:
        log = paths.cache_dir() / "error.log"
        log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        where = f" The details are in {log}."
    except (OSError, paths.HomeUnusable):
        where = " Run the same command with --debug to see the details."
    say(f"Sorry, something unexpected went wrong ({type(exc).__name__}).{where}")
    sys.exit(70)
