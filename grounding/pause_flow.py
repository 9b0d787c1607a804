"""The pre-contact pause as it is lived (docs/protocols.md card F1): its parts played one
after another with one voice, the later parts' speech made in the background while the first
plays; on a terminal, ratings that can be skipped, body-first help when things run high, a
free choice, a place to write, and the private log if the user wants it. Without questions
(``--no-ask``) the same parts play straight through."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from time import monotonic
from typing import Callable

from grounding import config, history, reasons, safety
from grounding.errors import GroundingError, Stopped
from grounding.library import find_script
from grounding.pause_plan import part, surf_part, surf_stretches
from grounding.player import as_played
from grounding.printable import text_width, wrap
from grounding.questions import (DISTRESS_ANCHORS, URGE_ANCHORS, Aside, choose, let_go,
                                  rating, write_here)
from grounding.script import Script

BODY_FIRST_DISTRESS = 8
"""Distress this high offers body-first grounding (docs/protocols.md card G11: 8 or more, body
first)."""
BODY_FIRST_URGE = 9
"""An urge this high offers body-first grounding too: a strong pull is what a pause is for,
so only the very top of the scale calls for more than the pause itself."""
HELP_LINES_DISTRESS = 9
"""Distress this high shows the help lines unasked; below it they are one key away (h).
These are design heuristics, not validated cut-offs (docs/protocols.md card G11,
docs/safety.md §3.3). A rise alone never escalates: an urge that crests from 3 to 5 is the
wave the surfing is about."""
REFLECT_DISTRESS = 5
"""The question part is offered only at this distress or lower (card R1, F1 step 6)."""

FIRST_NOTICE = ("This is a pause, not therapy or a crisis service. Everything in it is "
                "optional: space pauses, q stops. 'grounding about' has the full notice.")
"""The first-run notice as a first pause shows it: short, so nothing scrolls away before
the first word (the full text stays in ``grounding about``)."""
CLOSING = "Take care. The help lines are h in any session, or 'grounding help-now'."
"""The last line of every pause: calm, and where help is."""
TAKE_CARE = "Take care of yourself. The help lines are in 'grounding help-now'."
"""The last line of a pause stopped early (q, Ctrl-C): stopping is fine, and help is there."""
LET_GO = "What you wrote was let go; it was not written anywhere."
"""Said when the writing step ends without keeping the words: written, or stopped."""

MENU = [("1", "Wait a little longer, and check in again"),
        ("2", "Write the message here, without sending it"),
        ("3", "Reach out to someone else"),
        ("4", "Do something kind for your body"),
        ("5", "Contact that person, if that's your choice"),
        ("6", "I was already in touch with them: something kind for after")]

BODY = ("Some kind things for the body: a glass of water; a warm drink; washing your face or "
        "hands; stepping outside or to a window; stretching slowly; something to eat.")

BODY_FIRST = "orienting"
"""The body-first grounding offered when things run high (card G2: low demand, eyes open)."""
STRONGER = "body-first"
"""Offered beside it: cool water, movement, a long out-breath, tensing and releasing (card G9,
DBT TIPP; card F1 step 4: at distress 8 or more)."""
AFTER_CONTACT = "after-contact"
"""What "I was already in touch with them" plays (card T2)."""
WAIT_LONGER = "out-breath"
"""What "wait a little longer" plays (card B2)."""


class Pausing:
    """One pause. ``play`` plays a script live (the command line's player, with the shared
    voice); ``voice`` is that voice, told here which parts come later. ``ask`` is False for
    ``--no-ask``: the parts play straight through and nothing is asked; ``quiet`` shows
    nothing but what is asked; ``before_closing`` says what is said once about the whole
    (how often the sound card ran short), just before the closing line."""

    def __init__(self, options, minutes: float, country: str,
                 play: Callable[[Script], None], say: Callable[[str], None], voice,
                 ask: bool = True, quiet: bool = False,
                 before_closing: Callable[[], None] = lambda: None):
        self.options = options
        self.minutes = minutes
        self.country = country
        self.play = play
        self.say = say
        self.voice = voice
        self.ask = ask
        self.quiet = quiet
        self.before_closing = before_closing
        """Called just before the last line: what is to be said once about the whole pause."""
        self.out = sys.stdout
        self.log_turned_on = False
        """Whether the user turned the log on during this pause."""
        self.offered: dict[str, int] = {}
        """The highest ratings at which something was offered (see :func:`escalation`)."""

    def _show(self, text: str, lines: str = "") -> None:
        """Show ``text`` after a blank line, wrapped to the screen, and below it ``lines``
        as they are (the help lines, laid out already)."""
        if self.quiet:
            return
        shown = "\n".join(part for part in (wrap(text, text_width(self.out)), lines) if part)
        self.out.write(f"\n{shown}\n")
        self.out.flush()

    def _help(self) -> None:
        self._show("", safety.help_now(self.country))

    def _rating(self, question: str, anchors: str = "") -> int | None:
        return rating(self.out, question, anchors=anchors, on_help=self._help)

    def _choose(self, prompt: str, options: list[tuple[str, str]]) -> str | None:
        return choose(self.out, prompt, options, on_help=self._help)

    def run(self) -> None:
        """The whole pause; the log is written at the end if the user keeps one."""
        started, clock = datetime.now().strftime("%Y-%m-%d %H:%M"), monotonic()
        entry: dict = {"ended": "stopped"}
        try:
            self._flow(entry)
            entry["ended"] = "finished"
        except Stopped as stop:
            self._keep(started, clock, entry, ask=False)
            if not self.quiet:  # "Stopped." is said here if it came at a question
                stop.tell(self.say)
                self.before_closing()
                self.say(TAKE_CARE)
            raise
        self._keep(started, clock, entry, ask=self.ask)
        self.before_closing()
        self._show(CLOSING)

    def _ahead(self, surfing: list[Script]) -> None:
        """Tell the voice every part that may come after the first, in the order they may
        be needed, so their speech is made while the first part plays."""
        later = [part("settle")]
        if self.ask:
            later += [find_script(BODY_FIRST), find_script(STRONGER)]
        later += surfing
        if self.ask:
            later.append(part("reflect"))
        later += [part("kind"), part("choose"), part("safety"), part("close")]
        if self.ask:
            later += [find_script(WAIT_LONGER), find_script(AFTER_CONTACT)]
        for script in later:
            self.voice.later(as_played(script, self.options).texts())

    def _flow(self, entry: dict) -> None:
        surfing = surf_stretches(self.minutes) if self.ask else [surf_part(self.minutes)]
        self._ahead(surfing)
        urges: list[int] = []
        self.play(part("arrive"))
        if self.ask:
            entry["urge_before"] = self._urge("How strong is the pull to reach out, right "
                                              "now, from 0 to 10?", urges, URGE_ANCHORS)
            entry["distress_before"] = self._rating("And how stressed or upset do you feel, "
                                                    "0 to 10?", DISTRESS_ANCHORS)
            self._check(entry.get("urge_before"), entry["distress_before"])
        self.play(part("settle"))
        for piece in surfing:
            self.play(piece)
            if self.ask:
                now = self._urge("Where is the urge now, 0 to 10? Higher, lower or the same, "
                                 "any number is fine.", urges)
                if now is not None:
                    entry["urge_after"] = now
                    self._check(urge=now)
        if self.ask and reflection_fits(entry.get("distress_before"), urges):
            self.play(part("reflect"))
        self.play(part("kind"))
        if self.ask:
            self._reasons()
        self.play(part("choose"))
        line = safety.abuse_line(self.country)
        if line:
            self._show(line)  # on screen, never in a file (card F1 step 9)
        self.play(part("safety"))
        self.play(part("close"))
        if not self.ask:
            return
        entry["next_step"] = self._menu(entry, urges)
        urge = self._urge("Before you go: the pull to reach out, 0 to 10?", urges)
        if urge is not None:
            entry["urge_after"] = urge
        entry["distress_after"] = self._rating("And how stressed or upset, 0 to 10?")
        self._show(_change(entry.get("urge_before"), urge))
        self._check(urge, entry["distress_after"])

    def _urge(self, question: str, urges: list[int], anchors: str = "") -> int | None:
        """An urge rating, remembered in ``urges`` (for whether it is rising)."""
        value = self._rating(question, anchors)
        if value is not None:
            urges.append(value)
        return value

    def _check(self, urge: int | None = None, distress: int | None = None) -> None:
        """What the latest ratings call for (:func:`escalation`): the help lines, an offer
        of body-first grounding, or, most often, nothing."""
        body_first, help_lines = escalation(urge, distress, self.offered)
        if help_lines:
            self._show("If talking to someone would help right now, these lines are there:",
                       safety.help_now(self.country))
        if body_first:
            picked = self._choose("That's a lot to hold. Would a few minutes with the room "
                                  "and the body help first?",
                                  [("b", "Yes, body first: orienting to the room, eyes open"),
                                   ("t", "Yes, something stronger: cool water, movement, a "
                                         "long out-breath"),
                                   ("c", "No, carry on")])
            if picked in ("b", "t"):
                self.play(find_script(BODY_FIRST if picked == "b" else STRONGER))

    def _reasons(self) -> None:
        """The user's own reasons for keeping distance, if they wrote some (``grounding
        reasons``), before the free choice: shown on a screen of their own that leaves nothing
        in view or in the scrollback, and read aloud only if the user asks (their sound is
        never kept)."""
        try:
            items = reasons.kept()
        except GroundingError as exc:
            self._show(str(exc))
            return
        if not items:
            return
        with Aside(self.out):
            self.out.write("Before you choose: the reasons you wrote down for yourself.\n\n"
                           + "\n".join(reasons.numbered(items)) + "\n")
            if self._choose("Hear them read aloud? (Enter to go on)",
                            [("r", "Read them aloud")]) == "r":
                self.play(reasons.spoken(items))

    def _menu(self, entry: dict, urges: list[int]) -> str | None:
        chosen = None
        while True:
            picked = self._choose("What would you like to do now? (Enter when done)", MENU)
            if picked is None:
                return chosen
            chosen = dict(MENU)[picked]
            if picked == "1":
                self.play(find_script(WAIT_LONGER))
                now = self._urge("Checking in: the pull to reach out now, 0 to 10?", urges)
                if now is not None:
                    entry["urge_after"] = now
                    self._check(urge=now)
            elif picked == "2":
                self._write(entry)
            elif picked == "3":
                self._show("A friend, someone you trust, or a support line:",
                           safety.help_now(self.country))
            elif picked == "4":
                self._show(BODY)
            elif picked == "6":
                self.play(find_script(AFTER_CONTACT))
            else:
                self._show("That's your choice to make. If you do contact them, you might "
                           "notice how you feel afterwards. That's useful information too. "
                           "'grounding play after-contact' is there for afterwards, if you "
                           "like.")
                return chosen

    def _write(self, entry: dict) -> None:
        """Write the message in a screen of its own, so nothing of it stays in view or in
        the scrollback; keep it only if the log is on, or the user turns it on now."""
        try:
            with Aside(self.out):
                kept = self._write_aside(entry)
        except Stopped as stop:  # the main screen is back: said on a line of its own
            if not self.quiet:
                stop.tell(self.say, f"Stopped. {LET_GO}")
            raise
        if kept and self.log_turned_on:
            self._show(f"Kept. {history.turned_on()}")
        elif kept is not None:
            self._show("Kept in your private log ('grounding history' shows it)." if kept
                       else "Let go. It was not written anywhere.")

    def _write_aside(self, entry: dict) -> bool | None:
        """The writing step, on the screen :meth:`_write` set aside: whether the message
        was kept, or None if nothing was written."""
        text = write_here(self.out)
        if not text:
            return None
        try:
            keep = self._choose("Keep it in your private log, or let it go?",
                                [("k", "Keep it (only on this computer)"),
                                 ("l", "Let it go")])
            if keep == "k" and config.load(lambda line: None).log != "on":
                keep = self._choose("Keeping it turns on the private log of your pauses, "
                                    "on this computer only ('grounding history --forget' "
                                    "deletes it and turns it off). Turn it on?",
                                    [("y", "Yes, keep the log and this message"),
                                     ("n", "No, let it go")])
                if keep == "y":
                    self._set_log("on")
            if keep not in ("k", "y"):
                return False
            entry["note"] = text.decode("utf-8", "replace")
            return True
        finally:
            let_go(text)

    def _set_log(self, value: str) -> None:
        settings = config.load(lambda line: None)
        try:
            config.save(replace(settings, log=value))
        except OSError as exc:  # a settings file that cannot be read is never overwritten
            self._show(str(exc))
            return
        self.log_turned_on = self.log_turned_on or value == "on"

    def _keep(self, started: str, clock: float, entry: dict, ask: bool) -> None:
        setting = config.load(lambda line: None).log
        if setting == "" and ask:
            answer = self._choose("Would you like to keep a private log of your pauses on "
                                  "this computer, to see how urges change over time? Nothing "
                                  "leaves this computer, and 'grounding history --forget' "
                                  "deletes it.",
                                  [("y", "Yes, keep a log"), ("n", "No, thank you")])
            setting = "on" if answer == "y" else "off"
            self._set_log(setting)
            if setting == "on":
                self._show(history.turned_on())
        if setting != "on":
            entry.pop("note", None)
            return
        history.record(history.PauseRecord(
            started=started, seconds=round(monotonic() - clock), ended=entry["ended"],
            urge_before=entry.get("urge_before"), urge_after=entry.get("urge_after"),
            distress_before=entry.get("distress_before"),
            distress_after=entry.get("distress_after"), next_step=entry.get("next_step"),
            note=entry.get("note")))


def escalation(urge: int | None, distress: int | None,
               offered: dict[str, int]) -> tuple[bool, bool]:
    """Whether the latest ratings call for (body-first grounding, the help lines): body
    first at distress 8+ or urge 9+, the help lines at distress 9+. Each is offered again
    only if its rating goes higher still; ``offered`` keeps the levels already answered."""
    body_first = help_lines = False
    for kind, value, at in (("urge", urge, BODY_FIRST_URGE),
                            ("distress", distress, BODY_FIRST_DISTRESS)):
        if value is not None and value >= at and value > offered.get(kind, -1):
            offered[kind] = value
            body_first = True
    if distress is not None and distress >= HELP_LINES_DISTRESS and \
            distress > offered.get("help", -1):
        offered["help"] = distress
        help_lines = True
    return body_first, help_lines


def reflection_fits(distress: int | None, urges: list[int]) -> bool:
    """Whether the question part fits: distress known and 5 or less, and the urge neither
    rising (above the rating before it, or above the first) nor at the top of the scale
    (card R1: reflecting at high arousal feeds rumination)."""
    if distress is None or distress > REFLECT_DISTRESS:
        return False
    if not urges:
        return True
    latest = urges[-1]
    rising = len(urges) > 1 and (latest > urges[-2] or latest > urges[0])
    return not rising and latest < BODY_FIRST_URGE


def _change(before: int | None, after: int | None) -> str:
    """The change, reflected neutrally (card U1)."""
    if before is None or after is None:
        return "You gave yourself a pause."
    if before == after:
        return (f"It stayed at {after}. That happens, and you still gave yourself a pause.")
    return f"It moved from {before} to {after}. You gave yourself a pause."
