"""The package as a user installs it: a wheel built from the repository, under its own
distribution name, with its licence and its exercises, installed into a new virtual
environment outside the repository and played from the root folder."""

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import numpy as np
import pytest

from support import ROOT, read_wav, require_espeak

SOURCE_VERSION = re.search(r'__version__ = "([^"]+)"',
                           (ROOT / "grounding" / "__init__.py").read_text()).group(1)
"""The version, where it is kept."""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(folder), str(ROOT)], check=True, capture_output=True, timeout=300)
    [built] = folder.glob("*.whl")
    return built


def test_the_wheel_has_its_own_name_the_version_the_licence_and_every_exercise(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(info).decode())
        licence = next(n for n in names if n.endswith("/LICENSE"))
        assert z.read(licence) == (ROOT / "LICENSE").read_bytes()
    # "grounding" on PyPI is another project's: installing under it would fetch that one
    assert meta["Name"] == "grounding-player" and meta["Version"] == SOURCE_VERSION
    assert "License :: OSI Approved :: MIT License" in meta.get_all("Classifier")
    bundled = {p.relative_to(ROOT / "scripts").as_posix() for p in (ROOT / "scripts").rglob("*.toml")}
    packed = {n.split("grounding/_data/scripts/", 1)[1] for n in names
              if "grounding/_data/scripts/" in n and n.endswith(".toml")}
    assert bundled and packed == bundled


def test_installed_from_the_wheel_it_plays_from_the_root_folder(wheel, tmp_path):
    require_espeak()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {**os.environ, "GROUNDING_HOME": str(tmp_path / "home")}
    env.pop("PYTHONPATH", None)
    command = str(venv / "bin" / "grounding")
    version = subprocess.run([command, "--version"], cwd="/", env=env, capture_output=True,
                             text=True, timeout=60)
    assert version.stdout == f"grounding {SOURCE_VERSION}\n"
    out = tmp_path / "quick-reset.wav"
    played = subprocess.run([command, "play", "quick-reset", "--out", str(out)], cwd="/",
                            env=env, capture_output=True, text=True, timeout=300)
    assert played.returncode == 0, played.stderr
    samples, rate = read_wav(out)
    voiced = np.abs(samples[: 20 * rate]).max()
    assert len(samples) / rate > 120 and voiced > 0.05  # minutes long, and not silence

    # the formats extra is not installed (soundfile is only in it): its formats say how to
    # add it, and export writes WAV files, saying so
    assert subprocess.run([str(venv / "bin" / "python"), "-c", "import soundfile"],
                          capture_output=True).returncode
    mp3 = subprocess.run([command, "play", "quick-reset", "--out", str(tmp_path / "x.mp3")],
                         cwd="/", env=env, capture_output=True, text=True, timeout=60)
    assert mp3.returncode == 2 and "Traceback" not in mp3.stderr
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["formats"]
    assert len(extra) == 1
    said = re.search(r"Writing \.mp3 files needs the optional 'formats' extra \(soundfile\): "
                     r"(\S+) -m pip install '(.+)' adds it; \.wav files need nothing more\.",
                     " ".join(mp3.stderr.split()))
    assert said and said[2] == extra[0], mp3.stderr
    # the Python it names is the one the command runs in, so the extra goes where it is used
    prefix = subprocess.run([said[1], "-c", "import sys; print(sys.prefix)"],
                            capture_output=True, text=True).stdout.strip()
    assert Path(prefix) == venv
    assert not (tmp_path / "x.mp3").exists()
    exported = subprocess.run([command, "export", str(tmp_path / "phone"), "--only",
                               "quick-reset"], cwd="/", env=env, capture_output=True,
                              text=True, timeout=300)
    assert exported.returncode == 0, exported.stderr
    assert "These are .wav files" in exported.stderr and "formats" in exported.stderr
    assert read_wav(tmp_path / "phone" / "quick-reset.wav")[0].size == samples.size

    # nor is the natural extra: asking for its voice says how to add it where grounding runs,
    # the list of voices says so too, and the command it names makes the voice work
    natural = subprocess.run([command, "play", "quick-reset", "--voice", "natural", "--out",
                              str(tmp_path / "n.wav")], cwd="/", env=env, capture_output=True,
                             text=True, timeout=60)
    assert natural.returncode == 2 and "Traceback" not in natural.stderr
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["natural"]
    said = re.search(r"The natural voice needs the optional 'natural' extra \(piper-tts, which "
                     r"is GPL-3\.0-or-later, .*\): (\S+) -m pip install (.+) adds it\.",
                     " ".join(natural.stderr.split()))
    assert said and said[2].split() == [f"'{w}'" for w in wanted], natural.stderr
    assert "Making" not in natural.stderr  # nothing is promised that will not happen
    assert Path(said[1]).parent == venv / "bin" and not (tmp_path / "n.wav").exists()
    listed = subprocess.run([command, "voices", "en"], cwd="/", env=env, capture_output=True,
                            text=True, timeout=60)
    assert listed.returncode == 0 and "natural " not in listed.stdout
    assert "--voice natural" in listed.stderr and said[2] in " ".join(listed.stderr.split())
    added = subprocess.run([said[1], "-m", "pip", "install", "--quiet", *wanted],
                           capture_output=True, text=True, timeout=600)
    assert added.returncode == 0, added.stderr[-2000:]
    natural = subprocess.run([command, "play", "quick-reset", "--voice", "natural", "--out",
                              str(tmp_path / "n.wav")], cwd="/", env=env, capture_output=True,
                             text=True, timeout=300)
    assert natural.returncode == 0, natural.stderr
    assert read_wav(tmp_path / "n.wav")[0].size > 120 * 48000
