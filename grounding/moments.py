"""The flows for the hardest moments: the first question's answers that are more than one
exercise (a message from that person just arrived, not feeling safe), and writing or hearing
one's own reasons for keeping distance. Each shows what it needs at once and asks nothing that
cannot be skipped; q always leaves."""

from __future__ import annotations

import sys
from typing import Callable

from grounding import safety
from grounding.errors import Stopped, UsageError
from grounding.questions import Aside, choose, let_go, wait_for_enter, write_here
from grounding.terminal import on_terminal, run_script, say, session_options

REACH_OUT_STEPS = [("1", "Wait an hour, then check in with yourself again"),
                   ("2", "Talk to someone safe"),
                   ("3", "See the help lines"),
                   ("4", "Answer later, with care")]
"""The choice at the end of "when they reach out" (docs/protocols.md card T1): none of them
is "never answer"; the person decides."""


def _reach_out_answers(country: str) -> dict[str, str]:
    """What each of :data:`REACH_OUT_STEPS` shows, for ``country``'s help lines."""
    lines = safety.help_now(country)
    return {
        "1": ("The message can wait. If you like, set a timer for an hour; when it goes off, "
              "you can check in with yourself again. If the pull is strong before then, "
              "'grounding pause' is there."),
        "2": ("Someone safe could be a friend, someone in your family, or anyone you trust who "
              "is not that person. If nobody comes to mind right now, these lines are there to "
              "talk to:\n" + lines),
        "3": lines,
        "4": ("When you're ready, you might write what you want to say first, without sending "
              "it, and read it again a little later ('grounding pause' has a place to write "
              "it). Whether and when to answer is yours to decide."),
    }


def after_reaching_out(country: str, out=None) -> str | None:
    """The four next steps after "when they reach out", one key each, until Enter; the label
    of the last one taken (None if none was)."""
    out = out or sys.stdout
    answers = _reach_out_answers(country)
    chosen = None
    while True:
        picked = choose(out, "What would you like to do next? (Enter when done)",
                        REACH_OUT_STEPS, on_help=lambda: _show(out, safety.help_now(country)))
        if picked is None:
            return chosen
        chosen = dict(REACH_OUT_STEPS)[picked]
        _show(out, answers[picked])


NOT_SAFE_OFFER = ("When you're ready, Enter starts a few minutes of orienting to the room, "
                  "eyes open, with nothing to answer. The numbers stay above. q leaves.")


def not_safe(country: str, orient: Callable[[], None], out=None) -> None:
    """"I'm not safe right now": the help lines at once, then orienting to the room if the
    person wants it (``orient`` plays it), and the lines again at the end. No questions."""
    out = out or sys.stdout
    _show(out, safety.help_now(country))
    _show(out, f"{safety.DANGER}\n{NOT_SAFE_OFFER}")  # in view, however long the lines above
    if not wait_for_enter():
        return
    try:
        orient()
    finally:
        _show(out, "The help lines again, for when you need them "
                   "('grounding help-now' shows them at any time):\n"
                   + safety.help_now(country))


def _show(out, text: str) -> None:
    out.write(f"\n{text}\n")
    out.flush()


ADD_REASONS = ("A place to write the reasons you want to remember for keeping your distance, "
               "in your own words, one on each line. Afterwards you choose whether they are "
               "kept on this computer or let go.")


def write_reasons() -> None:
    """Write reasons on a screen that leaves nothing behind, and keep them only on a yes;
    what was written is overwritten in memory either way."""
    from grounding import config
    from grounding import reasons as store

    if not on_terminal():
        raise UsageError("Writing reasons needs a terminal: run 'grounding reasons --add' in "
                         "one.")
    store.check_keepable()  # before anything is written, not after
    out, country = sys.stdout, config.load(lambda line: None).country
    added, answered = 0, False

    def help_lines() -> None:
        out.write(f"\n{safety.help_now(country)}\n")

    try:
        with Aside(out):
            out.write(f"{ADD_REASONS}\n")
            text = write_here(out)
            try:
                if any(byte not in b" \t\r\n" for byte in text):  # no copy of the words
                    answered = True
                    keep = choose(out, "Keep them, or let them go?", [
                        ("k", "Keep them only on this computer (only your user can read "
                              "them; 'grounding reasons --forget' deletes them)"),
                        ("l", "Let them go")], on_help=help_lines)
                    if keep == "k":
                        added = store.add(store.lines_of(text.decode("utf-8", "replace")))
            finally:
                let_go(text)
    except Stopped as stop:
        stop.tell(say, "Stopped; nothing new was kept.")
        raise
    if added:
        say(f"Kept {added} reason{'s' if added != 1 else ''}, only on this computer "
            "('grounding reasons' lists them).")
    else:
        say("Let go. Nothing was written anywhere." if answered
            else "Nothing was written, so nothing is kept.")


def say_reasons() -> None:
    """Read the reasons aloud, with the user's voice and volume, on a screen of its own; the
    voice renders them for this session only."""
    from grounding import reasons as store

    items = store.kept()
    if not items:
        say("No reasons are kept, so there is nothing to read aloud. 'grounding reasons "
            "--add' is a place to write some.")
        return
    options = session_options(no_voice=False, no_tones=False, volume=None, no_holds=False,
                              voice=None, rate=None, device=None)
    with Aside(sys.stdout):
        run_script(store.spoken(items), options, debug=False)
