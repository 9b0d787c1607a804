"""``grounding doctor``: checks each part in its own process, so nothing can take it down
(a broken ALSA configuration can abort PortAudio's start-up; docs/audio-stack.md §4), and
names the fix."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field

from grounding import paths
from grounding.printable import printable, text_width, wrap_line

FIXES = {
    "portaudio": [
        "Debian/Ubuntu: sudo apt install libportaudio2",
        "Fedora: sudo dnf install portaudio",
        "macOS and Windows: PortAudio comes inside the sounddevice package; reinstall grounding",
    ],
    "device": [
        "Check that a sound server runs: 'pactl info' (PulseAudio, PipeWire) on Linux",
        "Debian/Ubuntu: sudo apt install libasound2-plugins (lets PortAudio reach PulseAudio)",
        "Fedora: sudo dnf install alsa-plugins-pulseaudio",
        "macOS: System Settings, Sound, Output; Windows: Settings, System, Sound",
        "Or save sessions as files: --out session.wav",
    ],
    "speech": [
        "Debian/Ubuntu: sudo apt install espeak-ng",
        "Fedora: sudo dnf install espeak-ng",
        "macOS: uses the system voices; check System Settings, Accessibility, Spoken Content",
        "Windows: uses the SAPI5 voices; check Settings, Time and language, Speech",
    ],
    "folders": [
        "Make sure your home folder is writable, or point GROUNDING_HOME at a writable folder",
    ],
}

_PORTAUDIO = """
import json, sounddevice as sd
print(json.dumps({"version": sd.get_portaudio_version()[1]}))
"""

_DEVICES = """
import json, numpy as np, sounddevice as sd
outputs = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
result = {"count": len(outputs)}
if outputs:
    info = sd.query_devices(kind="output")
    rate = int(info["default_samplerate"])
    t = np.arange(int(0.4 * rate)) / rate
    tone = 0.05 * np.sin(2 * np.pi * 330 * t) * np.minimum(1, np.minimum(t, t[::-1]) / 0.05)
    sd.play(tone.astype(np.float32), rate, blocking=True)
    result.update(name=info["name"], rate=rate, played=True)
print(json.dumps(result))
"""

_SPEECH = """
import json, tempfile
from pathlib import Path
from grounding import paths
from grounding.printable import printable
from grounding.cache import ClipCache
from grounding.speech import Pyttsx3Voice
cache = ClipCache(Path(tempfile.mkdtemp(prefix="doctor-", dir=paths.temp_dir())))
voice = Pyttsx3Voice(cache=cache)
clip = voice.clips(["This is a test of the voice."], 22050)["This is a test of the voice."]
print(json.dumps({"seconds": round(len(clip) / 22050, 2)}))
"""

_NATURAL = """
import json, tempfile
from pathlib import Path
from grounding import natural, paths
from grounding.cache import ClipCache
from grounding.speech import Pyttsx3Voice
cache = ClipCache(Path(tempfile.mkdtemp(prefix="doctor-", dir=paths.temp_dir())))
text = "This is a test of the natural voice."
clip = Pyttsx3Voice(natural.NAME, cache=cache).clips([text], 22050)[text]
print(json.dumps({"seconds": round(len(clip) / 22050, 2), "published": natural.model_matches()}))
"""


@dataclass
class Check:
    """One finding."""

    name: str
    ok: bool
    summary: str
    fixes: list[str] = field(default_factory=list)

    def lines(self, width: int | None = None) -> list[str]:
        """The finding as printed, wrapped to ``width`` columns (the screen's by default): ok
        or FIX, what was found, and each fix indented below."""
        width = text_width() if width is None else width
        found = wrap_line(printable(f"{'ok  ' if self.ok else 'FIX '}  {self.name}: "
                                    f"{self.summary}"), width, hang=" " * 6)
        return found + [line for fix in self.fixes
                        for line in wrap_line(printable(fix), width, " " * 8, " " * 10)]


def _probe(code: str, timeout: float = 30) -> tuple[dict | None, str]:
    """Run ``code`` in a fresh interpreter; its JSON answer, or None and why not. Its
    temporary files go to this process's temporary folder, removed when doctor ends, even if
    the check had to be stopped (without one, the speech check fails and says why)."""
    try:
        env = paths.helper_environ()
    except OSError:
        env = None
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, f"it did not answer within {timeout:g} seconds"
    if done.returncode == 0:
        try:
            return json.loads(done.stdout.strip().splitlines()[-1]), ""
        except (ValueError, IndexError):
            pass
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    why = lines[-1] if lines else f"it stopped with exit code {done.returncode}"
    return None, why


def check_portaudio() -> Check:
    """Can the sound library load?"""
    answer, why = _probe(_PORTAUDIO)
    if answer:
        return Check("sound library", True, answer["version"])
    return Check("sound library", False, f"PortAudio cannot be loaded ({why})",
                 FIXES["portaudio"])


def check_devices() -> Check:
    """Is there an output device, and does a short, quiet test tone play?"""
    answer, why = _probe(_DEVICES)
    if answer and answer["count"]:
        return Check("sound output", True, f"{answer['count']} output device(s); the default "
                     f"is '{answer['name']}' at {answer['rate']} Hz; a short test tone played")
    if answer:
        return Check("sound output", False, "no output device was found", FIXES["device"])
    return Check("sound output", False, f"the test tone could not play ({why})", FIXES["device"])


def check_speech() -> Check:
    """Can the speech engine make a test phrase? It is synthesised, not played: the sound
    output is checked on its own."""
    answer, why = _probe(_SPEECH, timeout=60)
    if answer and answer["seconds"] > 0.3:
        return Check("speech", True, f"a test phrase was synthesised ({answer['seconds']} s "
                                     "of speech, not played)")
    return Check("speech", False, f"the speech engine could not synthesise a test phrase "
                                  f"({why})", FIXES["speech"])


def check_natural() -> Check:
    """Is the optional natural voice installed, does it make a test phrase, and is its model
    the one Piper published?"""
    from grounding import natural
    from grounding.extras import install_hint

    hint = install_hint(*natural.REQUIREMENTS)
    if not natural.installed():
        return Check("natural voice", True, f"not installed, which is fine: it is optional "
                                            f"(--voice natural); {hint} adds it")
    answer, why = _probe(_NATURAL, timeout=90)
    if not answer or answer["seconds"] <= 0.3:
        return Check("natural voice", False, f"Piper could not synthesise a test phrase "
                                             f"({why})", [f"Reinstall it: {hint}"])
    if not answer["published"]:
        return Check("natural voice", False, f"the model of {natural.MODEL} is not the one "
                                             "Piper published", [f"Reinstall it: {hint}"])
    return Check("natural voice", True, f"a test phrase was synthesised ({answer['seconds']} s "
                                        f"of speech, not played); the model is Piper's "
                                        f"published {natural.MODEL}")


def check_folders() -> Check:
    """Can the cache and settings folders be written?"""
    problems = []
    for label, folder in (("cache", paths.cache_dir()), ("settings", paths.config_dir())):
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            probe = folder / ".doctor-check"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            problems.append(f"{label} folder {folder}: {exc.strerror or exc}")
    if problems:
        return Check("folders", False, "; ".join(problems), FIXES["folders"])
    return Check("folders", True, f"cache {paths.cache_dir()}, settings {paths.config_dir()}")


CHECKS = (check_portaudio, check_devices, check_speech, check_natural, check_folders)
