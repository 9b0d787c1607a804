"""Where blocks go: the sound card, a WAV file, or nowhere (counted and hashed).

Every sink has ``samplerate`` (known before rendering starts, so the timeline is built at the
rate the sink wants) and ``play(blocks)``, which consumes the render and returns a report.
A KeyboardInterrupt during ``play`` fades out (sound card) or removes the partial file, then
propagates.
"""

from __future__ import annotations

import hashlib
import math
import os
import queue
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from grounding.errors import AudioUnavailable, UsageError
from grounding.tones import fade_out

FILE_SAMPLERATE = 48000
FADE_SECONDS = 0.25
"""Ctrl-C fades out over this long, inside the audio callback (TECH.md §4)."""
BLOCKSIZE = 2048
"""Frames per block on the sound card: robust with latency='high' (TECH.md §4)."""
FILE_BLOCKSIZE = 8192
"""Frames per block when rendering to a file or nowhere: fewer, larger numpy calls."""
QUEUE_BLOCKS = 16
"""Blocks rendered ahead of the sound card (about 0.7 s at 48 kHz)."""


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


@dataclass
class Report:
    """What a sink did."""

    frames: int = 0
    underflows: int = 0
    """Times the sound card asked for audio that was not ready."""
    sha256: str = ""
    first_audible: float | None = None
    """``time.time()`` when the first non-silent block was handed to the device."""
    notes: list[str] = field(default_factory=list)


class NullSink:
    """Consumes the render, counting frames and hashing the samples (also ``--dry-run``)."""

    blocksize = FILE_BLOCKSIZE

    def __init__(self, samplerate: int = FILE_SAMPLERATE):
        self.samplerate = samplerate

    def play(self, blocks: Iterable[np.ndarray]) -> Report:
        """Consume every block."""
        digest = hashlib.sha256()
        report = Report()
        for block in blocks:
            digest.update(block.tobytes())
            report.frames += len(block)
        report.sha256 = digest.hexdigest()
        return report


class WavSink:
    """Writes 16-bit mono WAV, atomically: the file appears only when it is complete."""

    blocksize = FILE_BLOCKSIZE

    def __init__(self, path: Path, samplerate: int = FILE_SAMPLERATE):
        self.path = Path(path)
        self.samplerate = samplerate
        if self.path.suffix.lower() != ".wav":
            raise UsageError(f"'{path}': only .wav files can be written for now; "
                             "name the file something.wav.")
        folder = self.path.parent
        if not folder.is_dir():
            raise UsageError(f"'{folder}' is not a folder, so '{path}' cannot be written there.")
        if not os.access(folder, os.W_OK):
            raise UsageError(f"The folder '{folder}' cannot be written to.")

    def play(self, blocks: Iterable[np.ndarray]) -> Report:
        """Write every block; on any interruption, leave no partial file behind."""
        report = Report()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".grounding-", suffix=".wav")
        os.close(fd)
        try:
            with wave.open(tmp, "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(self.samplerate)
                for block in blocks:
                    pcm = np.round(np.clip(block[:, 0], -1, 1) * 32767).astype("<i2")
                    out.writeframes(pcm.tobytes())
                    report.frames += len(block)
            os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return report


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def import_sounddevice():
    """sounddevice, or AudioUnavailable with a sentence when PortAudio is missing."""
    try:
        import sounddevice
    except OSError as exc:
        raise AudioUnavailable(
            f"Sound output is not available: the PortAudio library is missing ({exc}). "
            "Install it (Debian/Ubuntu: sudo apt install libportaudio2; Fedora: sudo dnf "
            "install portaudio), or save the session with --out session.wav.") from None
    return sounddevice


_ALSA_QUIET = []


def quiet_alsa() -> None:
    """Stop alsa-lib printing its own lines (``ALSA lib pcm.c:…: underrun occurred``) over the
    program's calm ones: underruns are counted and reported in a sentence instead."""
    if _ALSA_QUIET:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if not name:
        return
    try:
        alsa = ctypes.CDLL(name)
        handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                        ctypes.c_int, ctypes.c_char_p)
        handler = handler_type(lambda *args: None)
        alsa.snd_lib_error_set_handler(handler)
        _ALSA_QUIET.append(handler)  # keep it alive as long as the process
    except (OSError, AttributeError):
        pass


def no_device_message(detail: str = "") -> str:
    """The one calm line for 'there is nowhere to play sound'."""
    why = f" ({detail})" if detail else ""
    return (f"There is no sound output here{why}. You can save the session as a file with "
            "--out session.wav.")


class DeviceSink:
    """The sound card, fed from a bounded queue by a producer thread (python-sounddevice's
    ``examples/play_long_file.py``): the callback only copies ready blocks."""

    blocksize = BLOCKSIZE

    def __init__(self, device: str | int | None = None, samplerate: int | None = None):
        sd = import_sounddevice()
        if sys.platform.startswith("linux"):
            quiet_alsa()
        self.sd = sd
        self.device = _device_arg(device)
        try:
            info = sd.query_devices(self.device, "output")
        except ValueError as exc:
            raise AudioUnavailable(_device_problem(device, str(exc))) from None
        except sd.PortAudioError as exc:
            raise AudioUnavailable(_device_problem(device, str(exc))) from None
        self.name = info["name"]
        self.channels = max(1, min(2, int(info["max_output_channels"])))
        self.samplerate = int(samplerate or info["default_samplerate"])
        try:
            sd.check_output_settings(self.device, samplerate=self.samplerate,
                                     channels=self.channels, dtype="float32")
        except Exception as exc:  # PortAudioError or ValueError, depending on the host API
            if samplerate:
                raise UsageError(f"The device '{self.name}' cannot play at {samplerate} Hz "
                                 f"({exc}).") from None
            raise AudioUnavailable(no_device_message(str(exc))) from None

    def play(self, blocks: Iterable[np.ndarray],
             on_sound: Callable[[float], None] | None = None) -> Report:
        """Play every block; on KeyboardInterrupt fade out in the callback, then re-raise.

        ``on_sound`` is called once, from this thread, with the ``time.time()`` at which the
        first non-silent block was handed to the device."""
        sd = self.sd
        report = Report()
        q: queue.Queue = queue.Queue(maxsize=QUEUE_BLOCKS)
        done = threading.Event()
        fading = threading.Event()
        stop_producer = threading.Event()
        ramp = fade_out(round(FADE_SECONDS * self.samplerate))
        state = {"fade_at": 0, "first": False, "tail": 1, "closing": 0}
        problems: list[BaseException] = []

        def produce() -> None:
            try:
                for block in blocks:
                    if len(block) < BLOCKSIZE:
                        padded = np.zeros((BLOCKSIZE, 1), dtype=np.float32)
                        padded[: len(block)] = block
                        report.frames += len(block)
                        _put(padded, len(block))
                        break
                    report.frames += len(block)
                    if not _put(block, BLOCKSIZE):
                        return
                _put(None, 0)
            except BaseException as exc:  # surfaced by play(); the callback plays silence
                problems.append(exc)
                _put(None, 0)

        def _put(item, frames) -> bool:
            while not stop_producer.is_set():
                try:
                    q.put((item, frames), timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def callback(outdata, frames, time_info, status) -> None:
            if status.output_underflow:
                report.underflows += 1
            closing = state["closing"]
            if closing:  # the end has been played: silence for the tail, then stop
                outdata.fill(0)
                state["closing"] = closing - 1
                if closing == 1:
                    raise sd.CallbackStop
                return
            try:
                block, valid = q.get_nowait()
            except queue.Empty:
                outdata.fill(0)
                report.underflows += 1
                return
            if block is None:
                outdata.fill(0)
                if state["tail"] <= 1:
                    raise sd.CallbackStop
                state["closing"] = state["tail"] - 1
                return
            outdata[:] = block
            if not state["first"] and valid and block[:valid].any():
                state["first"] = True
                report.first_audible = time.time()
            if fading.is_set():
                at = state["fade_at"]
                n = min(frames, len(ramp) - at)
                if n > 0:
                    np.multiply(outdata[:n], ramp[at:at + n, None], out=outdata[:n])
                outdata[max(n, 0):] = 0
                state["fade_at"] = at + frames
                if at + frames >= len(ramp):
                    state["closing"] = state["tail"]
            elif valid < frames:
                state["closing"] = state["tail"]

        producer = threading.Thread(target=produce, name="grounding-render", daemon=True)
        producer.start()
        while q.qsize() < 2 and producer.is_alive():
            time.sleep(0.001)
        try:
            stream = sd.OutputStream(
                samplerate=self.samplerate, blocksize=BLOCKSIZE, device=self.device,
                channels=self.channels, dtype="float32", latency="high",
                callback=callback, finished_callback=done.set)
        except Exception as exc:
            stop_producer.set()
            raise AudioUnavailable(no_device_message(str(exc))) from None
        state["tail"] = tail_blocks(stream.latency, self.samplerate)
        try:
            with stream:
                try:
                    while not done.wait(0.05):
                        if on_sound and report.first_audible is not None:
                            on_sound(report.first_audible)
                            on_sound = None
                        if not stream.active and not done.is_set():
                            break
                except KeyboardInterrupt:
                    fading.set()
                    deadline = time.monotonic() + FADE_SECONDS + 1.0
                    while not done.wait(0.02) and time.monotonic() < deadline:
                        pass
                    if not done.is_set():
                        stream.abort()
                    raise
        except sd.PortAudioError as exc:
            raise AudioUnavailable(no_device_message(str(exc))) from None
        finally:
            stop_producer.set()
            producer.join(1.0)
        if problems:
            raise problems[0]
        return report


def _device_arg(device: str | int | None) -> str | int | None:
    if isinstance(device, str) and device.strip().isdigit():
        return int(device)
    return device


def _device_problem(device: str | int | None, detail: str) -> str:
    if device is None or "-1" in detail:
        return no_device_message()
    return (f"No output device matches '{device}' ({detail.rstrip('.')}). "
            "'grounding devices' lists the ones you can use.")
