"""Shared fixtures."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


@pytest.fixture(scope="session")
def pulse_daemon(tmp_path_factory):
    """A private PulseAudio daemon with one null sink (TECH.md §7.2), stopped after the session.

    Skips when pulseaudio, pactl or parecord is missing, or PortAudio cannot reach the daemon
    through ALSA's ``pulse`` device; with CI=true those are failures instead, so an audio test
    never passes on CI by quietly not running.
    """
    import pulse  # tests/pulse.py, importable because pytest puts tests/ on sys.path

    def unavailable(why: str):
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true but the device tests cannot run: {why}", pytrace=False)
        pytest.skip(why)

    missing = pulse.missing_tools()
    if missing:
        unavailable(f"{', '.join(missing)} not found; install the Debian packages pulseaudio "
                    "and pulseaudio-utils (TECH.md §7.2).")
    daemon = pulse.start_daemon()
    try:
        listed = subprocess.run([sys.executable, "-m", "grounding", "devices"],
                                env=daemon.environ(GROUNDING_HOME=str(tmp_path_factory.mktemp("home"))),
                                capture_output=True, text=True, timeout=30)
        if not re.search(r"^\*?\s*\d+\s+pulse\s+\(", listed.stdout, re.MULTILINE):
            unavailable("PortAudio does not list ALSA's 'pulse' device under the private daemon "
                        "(is libasound2-plugins installed?). 'grounding devices' printed: "
                        f"{(listed.stdout + listed.stderr).strip()!r}")
        yield daemon
    finally:
        daemon.stop()
