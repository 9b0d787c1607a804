"""The bench's output: progress lines on stderr, and the table of results on stdout."""

from __future__ import annotations

import re
import sys
import time

ROWS: list[tuple[str, str, str, str, str]] = []  # measure, result, target, verdict, note
DETAILS: list[str] = []  # printed after the table


def say(text: str) -> None:
    """Progress, on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def add(measure: str, result: str, target="", ok: bool | str = "", note="") -> None:
    """A row of the table; a bool ``ok`` becomes PASS or MISS."""
    ROWS.append((measure, result, target, ("PASS" if ok else "MISS") if ok in (True, False)
                 else ok, note))


def attempt(measure: str, fn, *args):
    """Run one measure; an exception becomes an ERROR row and the bench goes on."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - report and go on
        add(measure, "not measured", "", "ERROR", f"{type(exc).__name__}: {exc}"[:200])


def fmt_runs(values, unit="", digits=0) -> str:
    """The values of every run, as a comma-separated list for a note."""
    return ", ".join(f"{v:.{digits}f}{unit}" for v in values)


def print_table(header: list[str], mode: str, elapsed: float) -> None:
    """The header lines, every row with its note, the counts of verdicts, details and notes."""
    ROWS.sort(key=lambda r: (int(re.match(r"\d*", r[0]).group() or 99),
                             r[0].startswith("3. peak memory, playback")))
    print(f"\ngrounding benchmark  ({mode})\n" + "\n".join("  " + line for line in header))
    w = [max(len(row[k]) for row in ROWS + [("measure", "result", "target")]) for k in range(3)]
    rule = "-" * (sum(w) + 13)
    print(f"\n{'measure':<{w[0]}}  {'result':>{w[1]}}  {'target':<{w[2]}}  verdict\n{rule}")
    for measure, result, target, ok, note in ROWS:
        print(f"{measure:<{w[0]}}  {result:>{w[1]}}  {target:<{w[2]}}  {ok}".rstrip())
        if note:
            print(f"    {note}")
    print(rule)
    print("  ".join(f"{sum(1 for r in ROWS if r[3].rstrip('*') == v)} {v}"
                    for v in ("PASS", "MISS", "ERROR")))
    if DETAILS:
        print("\n" + "\n".join(DETAILS))
    print(f"""
Notes: results are medians; targets from docs/design.md §4. Start-up runs the console script
as a user would, from just before the spawn to the epoch on its own `--debug` line: the moment
the audio callback handed the first audible block to PortAudio (a private PulseAudio null sink).
The target is for `grounding pause`; `breathe` and `play quick-reset` are shown beside it.
* = shorter than the 10 minutes the target names. Playback CPU is user+sys of the process from its first
audible block to its end.
Bench took {elapsed:.0f} s.""")
