"""AIFF and AIFF-C, as pyttsx3's macOS driver writes its clips, read without ``aifc`` (which
Python 3.13 removed): files made by sox, compared with sox's own reading of them, with the
WAV reader on the same sound, and with ``aifc`` where this Python still has it."""

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from grounding.errors import SpeechUnavailable
from grounding.recording import extended_float, read_audio, read_aiff
from support import require


@pytest.fixture(scope="module")
def sox() -> str:
    path = shutil.which("sox")
    require(path is not None, "sox (Debian package sox)")
    return path


def source(tmp: Path, sox: str, rate: int, channels: int = 1) -> Path:
    """A 0.3 s, 16-bit WAV of a sweep and noise at ``rate``, made by sox."""
    path = tmp / f"source-{rate}-{channels}.wav"
    subprocess.run([sox, "-n", "-r", str(rate), "-c", str(channels), "-b", "16", str(path),
                    "synth", "0.3", "sine", "200-3000", "whitenoise", "vol", "0.5"],
                   check=True)
    return path


def by_sox(sox: str, path: Path, channels: int) -> np.ndarray:
    """The samples of ``path`` as sox reads them (32-bit float), averaged to mono."""
    raw = subprocess.run([sox, str(path), "-t", "f32", "-e", "floating-point", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32).reshape(-1, channels).mean(axis=1)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 96000])
@pytest.mark.parametrize("kind", ["aiff", "aifc"])
@pytest.mark.parametrize("bits", [8, 16, 24, 32])
def test_aiff_made_by_sox_reads_as_sox_reads_it(tmp_path, sox, rate, kind, bits):
    wav = source(tmp_path, sox, rate)
    made = tmp_path / f"out.{kind}"
    subprocess.run([sox, str(wav), "-t", kind, "-e", "signed", "-b", str(bits), str(made)],
                   check=True)
    assert made.read_bytes()[8:12] == (b"AIFF" if kind == "aiff" else b"AIFC")
    samples, found_rate = read_aiff(made)
    assert found_rate == rate and samples.dtype == np.float32
    expected = by_sox(sox, made, 1)
    assert len(samples) == len(expected) > 0.29 * rate
    assert np.max(np.abs(samples - expected)) <= 1e-6  # float32 rounding of a 32-bit sample


@pytest.mark.parametrize("rate", [16000, 22050, 44100])
def test_16_bit_aiff_gives_the_same_samples_as_the_wav_it_was_made_from(tmp_path, sox, rate):
    wav = source(tmp_path, sox, rate)
    for name, args in [("a.aiff", []), ("b.aifc", ["-t", "aifc"])]:
        made = tmp_path / name
        subprocess.run([sox, str(wav), *args, str(made)], check=True)
        from_aiff, aiff_rate = read_audio(made)
        from_wav, wav_rate = read_audio(wav)
        assert aiff_rate == wav_rate == rate
        assert np.array_equal(from_aiff, from_wav)


def as_sowt(path: Path) -> bytes:
    """An AIFF-C file of 16-bit samples (compression NONE, as sox writes it) made into the
    little-endian kind, ``sowt``, as macOS writes it: the type renamed, each sample's bytes
    swapped (sox's own -L swaps the whole file's headers as well, which is no AIFF)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"NONE", data.index(b"COMM"))
    data[at:at + 4] = b"sowt"
    ssnd = data.index(b"SSND")
    size = int.from_bytes(data[ssnd + 4:ssnd + 8], "big")
    start = ssnd + 16 + int.from_bytes(data[ssnd + 8:ssnd + 12], "big")
    end = ssnd + 8 + size
    data[start:end] = np.frombuffer(bytes(data[start:end]), ">i2").astype("<i2").tobytes()
    return bytes(data)


def test_little_endian_aiff_c_sowt_reads_as_the_wav(tmp_path, sox):
    wav = source(tmp_path, sox, 22050)
    made = tmp_path / "none.aifc"
    subprocess.run([sox, str(wav), "-t", "aifc", "-e", "signed", "-b", "16", str(made)],
                   check=True)
    sowt = tmp_path / "sowt.aifc"
    sowt.write_bytes(as_sowt(made))
    assert np.array_equal(read_audio(sowt)[0], read_audio(wav)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import aifc
        except ImportError:
            return  # Python 3.13 removed it
    with aifc.open(str(sowt)) as f:  # aifc reads sowt too: the file made here is a real one
        assert f.getcomptype() == b"sowt"
        from_aifc = np.frombuffer(f.readframes(f.getnframes()), ">i2") / 32768  # it swaps
    assert np.array_equal(read_audio(sowt)[0], from_aifc.astype(np.float32))


def test_stereo_aiff_is_averaged_to_mono(tmp_path, sox):
    wav = source(tmp_path, sox, 44100, channels=2)
    made = tmp_path / "stereo.aiff"
    subprocess.run([sox, str(wav), "-b", "24", str(made)], check=True)
    samples, rate = read_aiff(made)
    assert rate == 44100
    assert np.max(np.abs(samples - by_sox(sox, made, 2))) <= 1e-6
    assert np.array_equal(samples, read_audio(wav)[0])  # 24 bits hold the 16-bit source whole


def test_aiff_read_as_aifc_reads_it_where_this_python_has_aifc(tmp_path, sox):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        aifc = pytest.importorskip("aifc", reason="Python 3.13 removed aifc")
    wav = source(tmp_path, sox, 22050, channels=2)
    for name, args in [("a.aiff", []), ("b.aifc", ["-t", "aifc"]), ("c.aiff", ["-b", "24"])]:
        made = tmp_path / name
        subprocess.run([sox, str(wav), *args, str(made)], check=True)
        with aifc.open(str(made)) as f:
            raw, rate, width, channels = (f.readframes(f.getnframes()), f.getframerate(),
                                          f.getsampwidth(), f.getnchannels())
        ints = np.frombuffer(raw, np.uint8).reshape(-1, width)
        values = sum(ints[:, k].astype(np.int64) << (8 * (width - 1 - k)) for k in range(width))
        values = np.where(values >= 1 << (8 * width - 1), values - (1 << 8 * width), values)
        expected = (values / 2.0 ** (8 * width - 1)).reshape(-1, channels).mean(axis=1)
        samples, found_rate = read_aiff(made)
        assert found_rate == rate == 22050
        assert np.max(np.abs(samples - expected)) <= 1e-6


def test_the_rate_is_read_from_its_80_bit_form():
    # 80-bit extended numbers as the x87 FPU stores them (little-endian there, reversed here)
    assert extended_float(bytes.fromhex("400eac44000000000000")) == 44100.0
    assert extended_float(bytes.fromhex("400dac44000000000000")) == 22050.0
    assert extended_float(bytes.fromhex("3fff8000000000000000")) == 1.0
    assert extended_float(bytes.fromhex("400ebb80000000000000")) == 48000.0
    assert extended_float(bytes(10)) == 0.0


def test_floating_point_aiff_c_reads_as_sox_reads_it(tmp_path, sox):
    wav = source(tmp_path, sox, 22050)
    for bits in (32, 64):
        made = tmp_path / f"float{bits}.aifc"
        subprocess.run([sox, str(wav), "-t", "aifc", "-e", "floating-point", "-b", str(bits),
                        str(made)], check=True)
        assert (b"fl32" if bits == 32 else b"fl64") in made.read_bytes()[:200]
        samples, rate = read_aiff(made)
        assert rate == 22050
        assert np.array_equal(samples, by_sox(sox, made, 1))
        assert np.array_equal(samples, read_audio(wav)[0])


def test_compressed_aiff_c_is_a_sentence(tmp_path, sox):
    # sox writes no compressed AIFF-C (asked for u-law, it writes PCM): its file, marked as
    # compressed with IMA ADPCM (what macOS's own tools write)
    wav = source(tmp_path, sox, 8000)
    made = tmp_path / "none.aifc"
    subprocess.run([sox, str(wav), "-t", "aifc", str(made)], check=True)
    ima4 = tmp_path / "ima4.aifc"
    ima4.write_bytes(made.read_bytes().replace(b"NONE", b"ima4", 1))
    with pytest.raises(SpeechUnavailable, match=r"^The speech engine wrote AIFF-C audio "
                                                r"encoded as 'ima4'; only PCM"):
        read_audio(ima4)


def test_a_cut_or_foreign_file_is_a_sentence(tmp_path, sox):
    wav = source(tmp_path, sox, 8000)
    made = tmp_path / "a.aiff"
    subprocess.run([sox, str(wav), str(made)], check=True)
    data = made.read_bytes()
    comm = data.index(b"COMM")
    cut = tmp_path / "cut.aiff"
    cut.write_bytes(data[:comm + 12])
    with pytest.raises(SpeechUnavailable, match="without its format or its sound"):
        read_audio(cut)
    other = tmp_path / "other.aiff"
    other.write_bytes(b"FORM\x00\x00\x00\x04WAVE")
    with pytest.raises(SpeechUnavailable, match="neither WAV nor AIFF"):
        read_audio(other)
