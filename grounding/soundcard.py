"""The sound card: a stream fed from a bounded queue by a producer thread (python-sounddevice's
``examples/play_long_file.py``), whose callback only copies ready blocks and applies the live
volume and pause ramps. The device itself is found by :mod:`grounding.devices`.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import sys
import threading
import time
from typing import Callable, Iterable

import numpy as np

from grounding.devices import find_output, import_sounddevice, no_device_message, quiet_alsa
from grounding.errors import AudioUnavailable
from grounding.sinks import BLOCKSIZE, STALL_SECONDS, Controls, Report

FADE_SECONDS = 0.25
"""Pausing and stopping fade out over this long, inside the audio callback
(docs/audio-stack.md §4)."""
QUEUE_BLOCKS = 16
"""Blocks rendered ahead of the sound card (about 0.7 s at 48 kHz)."""
LATENCY_SECONDS = 0.2
"""The output latency asked of the stream: the audio the device holds ahead of what is heard.
With PortAudio's 'high' latency (85 ms through ALSA's pulse device), a machine busy with other
sound servers, speech synthesis, renders and disk writes at once made the callback come too
late a few times a minute, each a gap; the render itself was never behind (bench/, measure
7). Pause, volume and stop act in the callback, so they are heard this much later: still well
within 300 ms."""


def tail_blocks(latency_seconds: float, samplerate: int) -> int:
    """Silent blocks to play after the last sound (the end, or the end of a fade) before
    ``CallbackStop``: one more than the stream's output latency.

    Through ALSA's ``pulse`` device (PortAudio 19.6), the last ``stream.latency`` of audio
    written before ``CallbackStop`` is never heard: measured on a private null sink, exactly
    the last 2 blocks of 2048 frames at 48 kHz (latency 85 ms), whether or not the program
    waits before closing the stream. Without this tail a Ctrl-C fade stopped at a quarter of full level, with
    a click, and a session lost its last 85 ms.
    """
    return math.ceil(latency_seconds * samplerate / BLOCKSIZE) + 1


class DeviceSink:
    """The sound card, fed from a bounded queue by a producer thread (python-sounddevice's
    ``examples/play_long_file.py``): the callback only copies ready blocks."""

    blocksize = BLOCKSIZE

    def __init__(self, device: str | int | None = None, samplerate: int | None = None):
        self.sd = import_sounddevice()
        if sys.platform.startswith("linux"):
            quiet_alsa()
        found = find_output(self.sd, device, samplerate)
        self.device, self.name = found.device, found.name
        self.channels, self.samplerate = found.channels, found.samplerate

    def play(self, blocks: Iterable[np.ndarray],
             on_sound: Callable[[float], None] | None = None,
             on_tick: Callable[[int], None] | None = None,
             controls: Controls | None = None,
             total_frames: int | None = None) -> Report:
        """Play every block. Stop gently (a fade inside the callback) on KeyboardInterrupt,
        raised by Ctrl-C or by ``on_tick``, then re-raise it.

        ``on_sound`` is called once with the ``time.time()`` at which the first non-silent
        block was handed to the device; ``on_tick`` about every 50 ms with the frame being
        heard now. Both run on this thread. ``controls`` (volume, pause) are followed at once,
        with ramps. If the device stops taking audio mid-session (unplugged, the sound server
        gone), the session goes on silently on the wall clock until ``total_frames``, so what is
        on screen stays in step, while the device is opened again every half second; once it
        opens, the sound goes on from where the session is then. ``report.lost_at`` says where
        it was first lost. A stop of this process (a suspend, SIGSTOP) is not a loss: the
        session goes on from where it was stopped."""
        report = Report()
        controls = controls or Controls()
        playback = _Playback(self.samplerate, report, controls, self.sd.CallbackStop)
        run = _Run(self, playback, on_sound, on_tick, total_frames)
        with _c_stderr_hidden():
            return run.play(blocks)

    def open(self, playback: _Playback):
        """A stream on the device, fed by ``playback``'s callback, not yet started."""
        stream = self.sd.OutputStream(
            samplerate=self.samplerate, blocksize=BLOCKSIZE, device=self.device,
            channels=self.channels, dtype="float32", latency=LATENCY_SECONDS,
            callback=playback.callback, finished_callback=playback.done.set)
        playback.tail = tail_blocks(stream.latency, self.samplerate)
        playback.latency = round(stream.latency * self.samplerate)
        return stream


SUSPEND_SECONDS = 1.0
"""A gap this long between two callbacks is this process having been stopped (a suspend,
SIGSTOP), not the machine being busy: the underflow it leaves is not counted as the card
running short, and the sound fades back in."""
RETRY_SECONDS = 0.5
"""How often a device that stopped taking audio is opened again."""


class _Run:
    """One session on the sound card: its streams, one after another if the device goes away
    and comes back, and the session's clock while there is none."""

    def __init__(self, sink: DeviceSink, playback: _Playback,
                 on_sound: Callable[[float], None] | None,
                 on_tick: Callable[[int], None] | None, total_frames: int | None):
        self.sink, self.playback = sink, playback
        self.on_sound, self.on_tick, self.total = on_sound, on_tick, total_frames

    def play(self, blocks: Iterable[np.ndarray]) -> Report:
        """Start the producer, open the device, and follow the session to its end."""
        playback, sd = self.playback, self.sink.sd
        producer = threading.Thread(target=playback.produce, args=(blocks,),
                                    name="grounding-render", daemon=True)
        producer.start()
        while playback.queue.qsize() < 2 and producer.is_alive():
            time.sleep(0.001)
        try:
            stream = self.sink.open(playback)
        except Exception as exc:
            playback.stop_producer.set()
            raise AudioUnavailable(no_device_message(str(exc))) from None
        try:
            try:
                stream.start()
            except sd.PortAudioError as exc:
                _close(stream, playback)
                raise AudioUnavailable(no_device_message(str(exc))) from None
            while stream is not None and not self._follow(stream):
                stream = self._without_sound()
        finally:
            playback.stop_producer.set()
            producer.join(1.0)
        if playback.problems:
            raise playback.problems[0]
        return playback.report

    def _follow(self, stream) -> bool:
        """Follow a started stream until it has played the end (True) or stopped taking
        audio (False); it is closed either way."""
        playback = self.playback
        last = time.monotonic()
        try:
            while True:
                finished = playback.done.wait(0.05)
                now = time.monotonic()
                if now - last > STALL_SECONDS:
                    playback.stalled(now)
                last = now
                if self.on_sound and playback.report.first_audible is not None:
                    self.on_sound(playback.report.first_audible)
                    self.on_sound = None
                if playback.lost():
                    return False
                if finished:
                    return True
                if self.on_tick:
                    self.on_tick(playback.position())
        except KeyboardInterrupt:
            playback.stopping = True
            deadline = time.monotonic() + FADE_SECONDS + 1.0
            while not playback.done.wait(0.02) and time.monotonic() < deadline:
                pass
            raise
        finally:
            _close(stream, playback)

    def _reopen(self, position: int):
        """The device opened and started again, to play on from ``position``; None if it
        cannot be (yet)."""
        playback = self.playback
        playback.restart(position)
        try:
            stream = self.sink.open(playback)
        except Exception:
            return None
        try:
            stream.start()
        except Exception:
            _close(stream, playback)
            return None
        return stream

    def _without_sound(self):
        """After the device stopped taking audio: open it again at once, from where the
        session was (a stream that died while this process was stopped comes back this
        way, unheard of); else say it went away, keep the session's clock on wall time, and
        try again every ``RETRY_SECONDS``. The reopened stream, or None at the session's
        end."""
        playback = self.playback
        controls, report = playback.controls, playback.report
        position = playback.position()
        stream = self._reopen(position)
        if stream is not None or self.total is None:
            return stream
        if report.lost_at is None:
            report.lost_at = position
        controls.lost = True
        last = time.monotonic()
        retry = last + RETRY_SECONDS
        while position < self.total:
            time.sleep(0.05)
            now = time.monotonic()
            if not controls.paused and now - last <= STALL_SECONDS:
                position = min(self.total, position + round((now - last) * self.sink.samplerate))
            last = now
            playback.skip_to = position
            playback.catch_up()
            if self.on_tick:
                self.on_tick(position)
            if now >= retry and position < self.total:
                stream = self._reopen(position)
                if stream is not None:
                    controls.lost = False
                    return stream
                retry = time.monotonic() + RETRY_SECONDS
        return None


@contextlib.contextmanager
def _c_stderr_hidden():
    """Send what C libraries write to file descriptor 2 to /dev/null while sound plays:
    PortAudio's ALSA host API prints lines like ``Expression '...' failed in
    'src/hostapi/alsa/pa_linux_alsa.c'`` when a device goes away. Python's own ``sys.stderr``
    is moved to a copy of the old descriptor, so the program's sentences still show."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield
        return
    original = sys.stderr
    replacement = None
    try:
        replacement = os.fdopen(os.dup(saved), "w", buffering=1,
                                encoding=getattr(original, "encoding", None) or "utf-8",
                                errors="backslashreplace")
        sys.stderr = replacement
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        yield
    finally:
        if replacement is not None:
            replacement.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr = original
        if replacement is not None:
            replacement.close()


def _close(stream, playback: _Playback) -> None:
    """Close the stream without hanging on a device that has gone away."""
    closer = threading.Thread(target=(stream.abort if not playback.done.is_set()
                                      else stream.close), daemon=True)
    closer.start()
    closer.join(1.0)


class _Playback:
    """The state shared by the producer thread, the audio callback and the waiting thread.

    The callback copies one ready block, applies a gain ramp into preallocated buffers and
    counts frames: no allocation, no locks beyond the queue's, no I/O (docs/audio-stack.md §4).
    Each queued block carries the frame it starts at, so that after the device was lost the
    blocks the session has passed meanwhile are dropped rather than played late."""

    def __init__(self, samplerate: int, report: Report, controls: Controls,
                 stop_signal: type[Exception]):
        self.report = report
        self.stop_signal = stop_signal
        self.controls = controls
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUE_BLOCKS)
        self.done = threading.Event()
        """Set by the stream playing now when it has finished (a new one for each stream)."""
        self.stop_producer = threading.Event()
        self.problems: list[BaseException] = []
        self.stopping = False
        self.ended = False
        """The callback played the end (or the stop's fade) and its silent tail."""
        self.closing = 0
        self.tail = 1
        self.latency = 0
        self.handed = 0
        """The frame after the last one handed to the device."""
        self.skip_to = 0
        """Blocks that end at or before this frame are dropped: the session has passed them
        while there was no sound."""
        self.held = None
        """A block taken from the queue while no stream ran, to be played first."""
        self.heard_from = time.monotonic()
        self.last_call: float | None = None
        self.excused = 0
        """Callbacks left whose underflow flags come from this process having been stopped."""
        self.last_handed = 0
        self.moved_at = time.monotonic()
        self.on = 1.0  # 1 = fully in, 0 = faded out (paused, or stopped)
        self.gain = controls.volume
        self.on_step = BLOCKSIZE / (FADE_SECONDS * samplerate)
        self.gain_step = BLOCKSIZE / (0.05 * samplerate)
        self.line = (np.arange(1, BLOCKSIZE + 1, dtype=np.float32) / BLOCKSIZE)
        self.ramp = np.empty(BLOCKSIZE, dtype=np.float32)
        self.level = np.empty(BLOCKSIZE, dtype=np.float32)

    def produce(self, blocks: Iterable[np.ndarray]) -> None:
        """Render ahead into the bounded queue (runs on the producer thread)."""
        start = 0
        try:
            for block in blocks:
                frames = len(block)
                if frames < BLOCKSIZE:
                    padded = np.zeros((BLOCKSIZE, 1), dtype=np.float32)
                    padded[:frames] = block
                    block = padded
                self.report.frames += frames
                if start + frames > self.skip_to and not self._put((block, frames, start)):
                    break
                start += frames
                if frames < BLOCKSIZE:
                    break
            self._put((None, 0, start))
        except BaseException as exc:  # surfaced by play(); the callback plays silence
            self.problems.append(exc)
            self._put((None, 0, start))

    def _put(self, item) -> bool:
        while not self.stop_producer.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def position(self) -> int:
        """The frame being heard now (what was handed over, less the output latency)."""
        return max(0, self.handed - self.latency)

    def lost(self) -> bool:
        """Whether the device has stopped taking audio before the end: the stream ended on
        its own, its callback has been silent for over a second and a half, or it has taken
        nothing for two seconds while not paused (called from the waiting thread only)."""
        if self.done.is_set():
            return not self.ended
        now = time.monotonic()
        if self.handed != self.last_handed or self.controls.paused or self.stopping:
            self.last_handed, self.moved_at = self.handed, now
        return now - self.heard_from > 1.5 or now - self.moved_at > 2.0

    def stalled(self, now: float) -> None:
        """This process was stopped for a while (seen by the waiting thread): the callback
        could not run either, so its silence until now says nothing about the device."""
        self.heard_from = max(self.heard_from, now)
        self.moved_at = max(self.moved_at, now)

    def restart(self, position: int) -> None:
        """Make ready for a new stream that plays on from ``position``, fading in."""
        self.done = threading.Event()
        self.ended = False
        self.closing = 0
        self.skip_to = position
        self.handed = position + self.latency
        self.last_handed = self.handed
        self.heard_from = self.moved_at = time.monotonic()
        self.last_call = None
        self.on = 0.0

    def catch_up(self) -> None:
        """Drop the queued blocks the session has passed (while no stream runs)."""
        while True:
            if self.held is None:
                try:
                    self.held = self.queue.get_nowait()
                except queue.Empty:
                    return
            block, valid, start = self.held
            if block is None or start + valid > self.skip_to:
                return
            self.held = None

    def _next(self):
        """The next block to play, past any the session has passed; None if none is ready."""
        while True:
            item, self.held = self.held, None
            if item is None:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    return None
            block, valid, start = item
            if block is None or start + valid > self.skip_to:
                return item

    def callback(self, outdata, frames, time_info, status) -> None:
        """The audio callback (see the class docstring)."""
        now = time.monotonic()
        if self.last_call is not None and now - self.last_call > SUSPEND_SECONDS:
            self.excused = 4  # this process was stopped: the device ran dry meanwhile
            if not self.stopping:
                self.on = 0.0  # and the sound comes back with a fade
        self.heard_from = self.last_call = now
        report = self.report
        if status.output_underflow:
            if self.excused:
                self.excused -= 1
            else:
                report.underflows += 1
        if self.closing:  # the end has been played: silence for the tail, then stop
            outdata.fill(0)
            self.closing -= 1
            if not self.closing:
                self.ended = True
                raise self.stop_signal
            return
        want_on = 0.0 if (self.stopping or self.controls.paused) else 1.0
        if want_on == 0.0 and self.on == 0.0:
            outdata.fill(0)  # paused: hold still, consume nothing
            if self.stopping:
                self.closing = self.tail
            return
        item = self._next()
        if item is None:
            outdata.fill(0)
            report.underflows += 1
            report.unrendered += 1
            return
        block, valid, start = item
        if block is None:
            outdata.fill(0)
            self.closing = self.tail
            return
        self.handed = start + valid
        if report.first_audible is None and valid and block[:valid].any():
            report.first_audible = time.time()
        on = min(1.0, self.on + self.on_step) if want_on else max(0.0, self.on - self.on_step)
        gain = self.controls.volume
        gain = (min(gain, self.gain + self.gain_step) if gain > self.gain
                else max(gain, self.gain - self.gain_step))
        if on == self.on == 1.0 and gain == self.gain:  # steady: one multiply, or a copy
            if gain == 1.0:
                outdata[:] = block
            else:
                np.multiply(block, np.float32(gain), out=outdata)
        else:
            # level = ease(on ramp) * gain ramp, sample by sample across this block
            np.multiply(self.line, on - self.on, out=self.ramp)
            self.ramp += self.on
            np.multiply(self.ramp, np.float32(np.pi), out=self.ramp)
            np.cos(self.ramp, out=self.ramp)
            np.multiply(self.ramp, -0.5, out=self.ramp)
            self.ramp += 0.5
            np.multiply(self.line, gain - self.gain, out=self.level)
            self.level += self.gain
            self.level *= self.ramp
            np.multiply(block, self.level[:, None], out=outdata)
        self.on, self.gain = on, gain
        if valid < frames:
            self.closing = self.tail
