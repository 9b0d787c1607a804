"""The pre-contact pause as it is lived (research/CONTENT.md card F1): its parts played one
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

import typer

from grounding import config, history, safety
from grounding.library import find_script
from grounding.pause import part, surf_part, surf_stretches
from grounding.player import as_played
from grounding.questions import choose, let_go, rating, write_here
from grounding.script import Script

HIGH = 8
"""A rating this high, or a rise of RISE, offers body-first grounding and the help lines
(CONTENT.md §3.3; design heuristics, not validated cut-offs)."""
RISE = 2

MENU = [("1", "Wait a little longer, and check in again"),
        ("2", "Write the message here, without sending it"),
        ("3", "Reach out to someone else"),
        ("4", "Do something kind for your body"),
        ("5", "Contact that person, if that's your choice")]

BODY = ("Some kind things for the body: a glass of water; a warm drink; washing your face or "
        "hands; stepping outside or to a window; stretching slowly; something to eat.")

BODY_FIRST = "orienting"
"""The body-first grounding offered when things run high (card G2: low demand, eyes open)."""
WAIT_LONGER = "out-breath"
"""What "wait a little longer" plays (card B2)."""


class Pausing:
    """One pause. ``play`` plays a script live (the command line's player, with the shared
    voice); ``voice`` is that voice, told here which parts come later. ``ask`` is False for
    ``--no-ask``: the parts play straight through and nothing is asked."""

    def __init__(self, options, minutes: float, country: str,
                 play: Callable[[Script], None], say: Callable[[str], None], voice,
                 ask: bool = True):
        self.options = options
        self.minutes = minutes
        self.country = country
        self.play = play
        self.say = say
        self.voice = voice
        self.ask = ask
        self.out = sys.stdout
        self.offered: dict[str, int] = {}
        """The highest urge and distress ratings at which body-first grounding was offered."""

    def _show(self, text: str) -> None:
        self.out.write(f"\n{text}\n")
        self.out.flush()

    def _help(self) -> None:
        self._show(safety.help_now(self.country))

    def _rating(self, question: str, anchors: bool = False) -> int | None:
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
        except typer.Exit:
            self._keep(started, clock, entry, ask=False)
            raise
        except KeyboardInterrupt:
            self._keep(started, clock, entry, ask=False)
            self.say("Stopped.")
            raise typer.Exit(130) from None
        self._keep(started, clock, entry, ask=self.ask)

    def _ahead(self, surfing: list[Script]) -> None:
        """Tell the voice every part that may come after the first, in the order they may
        be needed, so their speech is made while the first part plays."""
        later = [part("settle")]
        if self.ask:
            later.append(find_script(BODY_FIRST))
        later += surfing
        if self.ask:
            later.append(part("reflect"))
        later += [part("kind"), part("choose")]
        if self.ask:
            later.append(find_script(WAIT_LONGER))
        for script in later:
            self.voice.later(as_played(script, self.options).texts())

    def _flow(self, entry: dict) -> None:
        surfing = surf_stretches(self.minutes) if self.ask else [surf_part(self.minutes)]
        self._ahead(surfing)
        self.play(part("arrive"))
        if self.ask:
            entry["urge_before"] = self._rating("How strong is the pull to reach out, right "
                                                "now, from 0 to 10?", anchors=True)
            entry["distress_before"] = self._rating("And how stressed or upset do you feel, "
                                                    "0 to 10?")
            self._check(entry, entry["urge_before"], entry["distress_before"])
        self.play(part("settle"))
        for piece in surfing:
            self.play(piece)
            if self.ask:
                now = self._rating("Where is the urge now, 0 to 10? Higher, lower or the "
                                   "same, any number is fine.")
                if now is not None:
                    entry["urge_after"] = now
                    self._check(entry, urge=now)
        distress = entry.get("distress_before")
        if distress is not None and distress <= 5:
            self.play(part("reflect"))
        self.play(part("kind"))
        self.play(part("choose"))
        self._show(safety.help_now(self.country, abuse_only=True))
        if not self.ask:
            return
        entry["next_step"] = self._menu(entry)
        urge = self._rating("Before you go: the pull to reach out, 0 to 10?")
        if urge is not None:
            entry["urge_after"] = urge
        entry["distress_after"] = self._rating("And how stressed or upset, 0 to 10?")
        self._show(_change(entry.get("urge_before"), urge))
        self._check(entry, urge, entry["distress_after"])

    def _check(self, entry: dict, urge: int | None = None,
               distress: int | None = None) -> None:
        """A rating of 8 or more, or 2 or more above the first one: the help lines, and an
        offer of body-first grounding. Offered again only if that rating goes higher still."""
        raised = {}
        for kind, value in (("urge", urge), ("distress", distress)):
            if value is None:
                continue
            first = entry.get(f"{kind}_before")
            high = value >= HIGH or (first is not None and value - first >= RISE)
            if high and value > self.offered.get(kind, -1):
                raised[kind] = value
        if not raised:
            return
        self.offered.update(raised)
        self._help()
        picked = self._choose("Things may be running high. Would a minute or two with the "
                              "room and the body help first?",
                              [("b", "Yes, body first: orienting to the room"),
                               ("c", "No, carry on")])
        if picked == "b":
            self.play(find_script(BODY_FIRST))

    def _menu(self, entry: dict) -> str | None:
        chosen = None
        while True:
            picked = self._choose("What would you like to do now? (Enter when done)", MENU)
            if picked is None:
                return chosen
            chosen = dict(MENU)[picked]
            if picked == "1":
                self.play(find_script(WAIT_LONGER))
                now = self._rating("Checking in: the pull to reach out now, 0 to 10?")
                if now is not None:
                    entry["urge_after"] = now
                    self._check(entry, urge=now)
            elif picked == "2":
                self._write(entry)
            elif picked == "3":
                self._show("A friend, someone you trust, or a support line:\n"
                           + safety.help_now(self.country))
            elif picked == "4":
                self._show(BODY)
            else:
                self._show("That's your choice to make. If you do contact them, you might "
                           "notice how you feel afterwards. That's useful information too.")
                return chosen

    def _write(self, entry: dict) -> None:
        text = write_here(self.out)
        if not text:
            return
        try:
            keep = self._choose("Keep it in your private log, or let it go?",
                                [("k", "Keep it (only on this computer)"), ("l", "Let it go")])
            if keep == "k":
                entry["note"] = text.decode("utf-8", "replace")
                if config.load(lambda line: None).log != "on":
                    self._set_log("on")
                    self._show("The private log is now on; 'grounding history --forget' "
                               "deletes it.")
        finally:
            let_go(text)
        if keep != "k":
            self._show("Let go. It was not written anywhere.")

    def _set_log(self, value: str) -> None:
        settings = config.load(lambda line: None)
        config.save(replace(settings, log=value))

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
        if setting != "on":
            entry.pop("note", None)
            return
        history.record(history.PauseRecord(
            started=started, seconds=round(monotonic() - clock), ended=entry["ended"],
            urge_before=entry.get("urge_before"), urge_after=entry.get("urge_after"),
            distress_before=entry.get("distress_before"),
            distress_after=entry.get("distress_after"), next_step=entry.get("next_step"),
            note=entry.get("note")))


def _change(before: int | None, after: int | None) -> str:
    """The change, reflected neutrally (card U1)."""
    if before is None or after is None:
        return "You gave yourself a pause."
    if before == after:
        return (f"It stayed at {after}. That happens, and you still gave yourself a pause.")
    return f"It moved from {before} to {after}. You gave yourself a pause."
