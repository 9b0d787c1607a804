"""What there is to choose from here, as lines to print: the exercises (``grounding list``),
the speech engine's voices (``grounding voices``) and the sound outputs (``grounding
devices``). Whatever comes from a file or the system is shown without control characters."""

from __future__ import annotations

from grounding.errors import AudioUnavailable, GroundingError, UsageError
from grounding.printable import printable, text_width, wrap_line


def exercises(tag: str | None = None, width: int | None = None) -> tuple[list[str], list[str]]:
    """The table of exercises (name, stated length rounded as it is said, whether they hold
    the breath, tags; below each, what it is for, indented), wrapped to ``width`` columns
    (the screen's, by default), only those with ``tag`` if one is given; and the
    notes to go with it: the user's own, those that cannot be read, those that set a bundled
    one aside."""
    from grounding.lengths import figures

    rows, notes = [], []
    for entry, s in _exercises(tag, notes):
        mark = " *" if entry.own else ""
        rows.append((s.name + mark, figures(s.minutes * 60), "holds" if s.holds else "",
                     ", ".join(s.tags), s.summary))
    if not rows:
        return [], [f"No exercise has the tag '{tag}'." if tag else
                    "There are no exercises yet.", *notes]
    name_w, tags_w = max(len(r[0]) for r in rows), max(len(r[3]) for r in rows)
    width = text_width() if width is None else width
    lines = []
    for name, minutes, holds, tags, summary in rows:
        head = f"{name:<{name_w}}  {minutes:>9}  {holds:<5}  {tags}".rstrip()
        if len(f"{head:<{name_w + 20 + tags_w}}") > width:  # the columns do not fit
            head = "  ".join(part for part in (name, minutes.strip(), holds, tags) if part)
        lines += wrap_line(head, width, hang="    ") + wrap_line(summary, width, "    ")
    if any(r[0].endswith(" *") for r in rows):
        notes.insert(0, "* your own exercise")
    return lines, notes


def _exercises(tag: str | None, notes: list[str]) -> list:
    """Each exercise with ``tag`` (all if None) as (catalogue entry, script), by name; the
    notes on those that cannot be read and those that set a bundled one aside are added to
    ``notes``. UsageError for a tag there is not."""
    from grounding.library import catalogue
    from grounding.script import TAGS
    from grounding.scriptfile import load_script

    if tag is not None and tag not in TAGS:
        raise UsageError(f"There is no tag '{tag}'; the tags are {', '.join(TAGS)}.")
    found = []
    for entry in catalogue():
        try:
            s = load_script(entry.path)
        except GroundingError:
            notes.append(f"{printable(str(entry.path))} cannot be read; 'grounding validate "
                         f"{printable(str(entry.path))}' says why.")
            continue
        if tag is not None and tag not in s.tags:
            continue
        found.append((entry, s))
        if entry.replaces:
            notes.append(f"Your own '{s.name}' ({printable(str(entry.path))}) is used instead "
                         "of the bundled one.")
    return found


def exercise_records(tag: str | None = None) -> tuple[list[dict], list[str]]:
    """The exercises as ``grounding list --json`` gives them (docs/json.md), only those with
    ``tag`` if one is given, and the notes to go with them (as :func:`exercises`)."""
    from grounding import defaults
    from grounding.duration import script_seconds

    notes: list[str] = []
    records = [{"name": s.name, "title": s.title, "minutes": s.minutes,
                "estimated_seconds": round(script_seconds(s, defaults.RATE), 1),
                "holds": s.holds, "tags": list(s.tags), "summary": s.summary,
                "own": entry.own, "file": str(entry.path) if entry.own else None}
               for entry, s in _exercises(tag, notes)]
    if not records:
        notes.insert(0, f"No exercise has the tag '{tag}'." if tag else
                     "There are no exercises yet.")
    return records, notes


def voices(language: str | None = None) -> list[str]:
    """One line per voice the speech engine offers (id, languages, name), only those for
    ``language`` (such as en or de) if one is given; empty if there are none."""
    found = voice_records(language)
    if not found:
        return []
    width = max(len(printable(v["id"])) for v in found)
    lines = []
    for v in found:
        langs = printable(", ".join(v["languages"]))
        lines.append(f"{printable(v['id']):<{width}}  {langs:<14}  {printable(v['name'])}")
    return lines


def voice_records(language: str | None = None) -> list[dict]:
    """The voices the speech engine offers, each its ``id``, ``name`` and ``languages``
    (as ``grounding voices --json`` gives them), only those for ``language`` if one is
    given."""
    from grounding.speech import list_voices

    found = list_voices()
    if language:
        want = language.replace("_", "-").lower()
        # espeak-ng's languages start with a priority byte (\x05), shown without it
        found = [v for v in found if any(
            lang.lower().replace("_", "-").lstrip("\x05").startswith(want)
            for lang in v["languages"])]
    return [{"id": v["id"], "name": v["name"],
             "languages": [lang.lstrip("\x05") for lang in v["languages"]]} for v in found]


def natural_note(language: str | None = None) -> str | None:
    """Below the list of voices: that the natural voice is not installed, and how to add it;
    None if it is, or if ``language`` is not one it speaks."""
    from grounding import natural
    from grounding.extras import install_hint

    want = (language or "en").replace("_", "-").lower()
    if natural.installed() or not "en-us".startswith(want):
        return None
    return (f"A natural-sounding voice, {natural.listing()['name']}, is not installed: "
            f"{install_hint(*natural.REQUIREMENTS)} adds it (about 190 MB; piper-tts is "
            "GPL-3.0-or-later), then --voice natural chooses it.")


def devices() -> list[str]:
    """One line per sound output (the default marked with *): its number, name, host API,
    channels and rate. AudioUnavailable if there is none."""
    lines = []
    for d in device_records():
        mark = "*" if d["default"] else " "
        lines.append(f"{mark} {d['index']:>2}  {printable(d['name'])}  "
                     f"({printable(d['hostapi'])}, {d['channels']} ch, "
                     f"{d['samplerate']:g} Hz)")
    return lines


def device_records() -> list[dict]:
    """The sound outputs as ``grounding devices --json`` gives them: each its ``index``,
    ``name``, ``hostapi``, whether it is the ``default``, its ``samplerate`` and output
    ``channels``. AudioUnavailable if there is none."""
    from grounding.devices import import_sounddevice, no_device_message

    sd = import_sounddevice()
    outputs = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    if not outputs:
        raise AudioUnavailable(no_device_message())
    default = sd.default.device[1]
    return [{"index": d["index"], "name": d["name"],
             "hostapi": sd.query_hostapis(d["hostapi"])["name"],
             "default": d["index"] == default, "samplerate": d["default_samplerate"],
             "channels": d["max_output_channels"]} for d in outputs]


def checked_setting(key: str, value: object) -> str | None:
    """Check a ``voice`` or ``device`` setting against what is installed here before it is
    kept: UsageError with a sentence if nothing matches it. What to tell besides, if anything:
    that the voice speaks another language than the exercises, or that it cannot be checked
    now (it is kept all the same)."""
    if key not in ("voice", "device") or not value:
        return None
    if key == "voice":
        from grounding.errors import SpeechUnavailable
        from grounding.speech import check_voice, language_note

        try:
            return language_note(str(value), check_voice(str(value)))
        except SpeechUnavailable as exc:
            return f"{exc} The voice is kept, unchecked."
    from grounding.devices import check_device, import_sounddevice

    try:
        found = check_device(import_sounddevice(), str(value))
    except AudioUnavailable as exc:
        return f"{exc} The device is kept, unchecked."
    if found is None:
        return "There is no sound output here now, so the device is kept, unchecked."
    return None
