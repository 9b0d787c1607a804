"""5. Breath-onset accuracy: the timeline against exact arithmetic, and the pitch turning points
in the rendered audio against the ideal in-breath onsets."""

from __future__ import annotations

from fractions import Fraction

from renders import PATTERN
from table import add, fmt_runs, say


def measure_onsets(script, palette, timeline, first: int, audio) -> None:
    """The timeline against exact arithmetic (phases parsed here from PATTERN's digits,
    independently of grounding), then the pitch turning points in the rendered audio."""
    from grounding.script import Breathe, Speak

    say("breath onsets: timeline against exact arithmetic, and in the rendered audio")
    sr = timeline.samplerate
    values = [Fraction(v) for v in PATTERN.split("-")]
    kinds = {2: ("in", "out"), 3: ("in", "hold", "out"), 4: ("in", "hold", "out", "rest")}
    phases = [(k, s) for k, s in zip(kinds[len(values)], values) if s > 0]
    cycle = sum(s for _, s in phases)
    offsets = [sum((s for _, s in phases[:j]), Fraction(0)) for j in range(len(phases))]
    cycles = round(Fraction(60 * 60) / cycle)  # --minutes 60, whole cycles
    tones = sorted(timeline.tones, key=lambda t: t.start)
    if len(tones) != cycles * len(phases):
        raise RuntimeError(f"{len(tones)} tone events, expected {cycles * len(phases)}")
    anchor = tones[0].start  # where the breathing step begins, after the spoken introduction
    worst_start = worst_end = 0
    ideal_in = []
    for i, tone in enumerate(tones):
        k, j = divmod(i, len(phases))
        kind, seconds = phases[j]
        start = anchor + round((k * cycle + offsets[j]) * sr)
        if tone.kind != kind:
            raise RuntimeError(f"tone {i} is '{tone.kind}', expected '{kind}'")
        worst_start = max(worst_start, abs(tone.start - start))
        end = anchor + round((k * cycle + offsets[j] + seconds) * sr)
        worst_end = max(worst_end, abs(tone.start + tone.frames - end))
        if kind == "in":
            ideal_in.append(start)
    note = ""  # the breathing step starts right after the last introductory line and its pause
    steps = list(script.steps)
    b = next(i for i, s in enumerate(steps) if isinstance(s, Breathe))
    if b > 0 and isinstance(steps[b - 1], Speak):
        line = steps[b - 1]
        clip = next(c for c in timeline.clips if c.text == line.text)
        expected = clip.start + clip.frames + round(Fraction(repr(line.after)) * sr)
        note = f"; breathing starts at frame {anchor} ({anchor - expected:+d} vs its line + pause)"
        worst_start = max(worst_start, abs(anchor - expected))
    add("5. breath-phase onset error over 60 min (timeline vs exact)", f"{worst_start} samples",
        "0 samples", worst_start == 0 and worst_end == 0,
        f"{len(tones)} phases, {cycles} cycles; max end error {worst_end} samples{note}")

    # in the audio: the pitch turning point at the last in-breath onsets clear of speech
    clips = [(c.start, c.start + c.frames) for c in timeline.clips]
    margin = 3 * sr
    chosen = [s for s in ideal_in
              if s - margin >= first and s + margin <= first + len(audio)
              and not any(a - 2 * sr < s + 2 * sr and e + 2 * sr > s - 2 * sr
                          for a, e in clips)][-5:]
    if not chosen:
        raise RuntimeError("no in-breath onset clear of speech in the rendered final minute")

    def at(s):  # seconds from the ideal onset, (fitted, raw)
        fit, raw = turning_point(audio[s - first - margin:s - first + margin], sr,
                                 palette.tone, phases[-1], phases[0])
        return fit - 3.0, raw - 3.0

    found = [at(s) for s in chosen]
    worst = max((fit for fit, _ in found), key=abs)
    check = at(chosen[-1] - round(0.005 * sr))[0] * 1000  # analysed 5 ms early: must say +5
    add("5. rendered pitch turning point vs ideal in-breath onset", f"{worst * 1000:+.4f} ms",
        "0 samples (±0.5)", abs(worst) * sr <= 0.5,
        f"{worst * sr:+.3f} samples; last {len(chosen)} in-breaths of the final "
        f"{len(audio) / sr:.0f} s; raw argmin of smoothed f: "
        f"{fmt_runs([raw * 1000 for _, raw in found], ' ms', 1)}; "
        f"method check (analysed 5 ms early): {check:+.3f} ms")


def turning_point(segment, sr: int, tone, left, right) -> tuple[float, float]:
    """Seconds into ``segment`` (6 s centred on an ideal in-breath onset) at which the pitch
    turns: (fitted, raw). The fundamental is isolated with a zero-phase FFT band-pass; its
    upward zero crossings (linearly interpolated) give one frequency per period. The fitted
    turning point is the t0 that best explains those frequencies in the central ±1.5 s with
    the glide shape (f = f_min + depth·g(|t - t0| / T) on each side, g from the palette,
    f_min and depth free); the raw one is the argmin of an 11-period moving average.
    ``left`` and ``right`` are the (kind, seconds) phases either side of the onset."""
    import numpy as np

    n = len(segment)
    freq = np.fft.rfftfreq(n, 1 / sr)
    lo, hi = 0.5 * tone.low_hz, 1.5 * tone.low_hz  # the fundamental near the turn, not 2f
    edge = np.clip(np.minimum(freq - lo, hi - freq) / 20 + 0.5, 0, 1)
    y = np.fft.irfft(np.fft.rfft(segment) * (0.5 - 0.5 * np.cos(np.pi * edge)), n)
    i = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    crossings = (i + y[i] / (y[i] - y[i + 1])) / sr
    f, t = 1 / np.diff(crossings), (crossings[:-1] + crossings[1:]) / 2
    centre = n / sr / 2
    keep = np.abs(t - centre) < 1.5
    f, t = f[keep], t[keep]

    def g(u):
        return np.sin(np.pi * u / 2) ** 2 if tone.glide == "ease" else u

    def misfit(t0: float) -> float:
        u = np.where(t < t0, g((t0 - t) / float(left[1])) if left[0] == "out" else 0.0,
                     g((t - t0) / float(right[1])))
        a = np.stack([np.ones_like(u), u], axis=1)
        coef, *_ = np.linalg.lstsq(a, f, rcond=None)
        return float(np.sum((a @ coef - f) ** 2))

    best = centre
    for span, step in ((0.05, 1e-4), (2e-4, 2e-6), (4e-6, 4e-8)):
        grid = np.arange(best - span, best + span + step / 2, step)
        best = float(grid[int(np.argmin([misfit(x) for x in grid]))])
    smooth = np.convolve(f, np.ones(11) / 11, mode="same")
    inner = slice(11, len(f) - 11)
    return best, float(t[inner][int(np.argmin(smooth[inner]))])
