import numpy as np

from grounding.cache import ClipCache, clip_key, samples_of


def test_a_stored_clip_loads_back_unchanged(tmp_path):
    cache = ClipCache(tmp_path)
    clip = np.linspace(-16000, 16000, 1000).astype(np.int16)
    cache.store("ab" * 32, clip)
    assert np.array_equal(cache.load("ab" * 32), clip)
    assert not list(cache.path("ab" * 32).parent.glob(".part-*"))


def test_a_missing_clip_is_none(tmp_path):
    assert ClipCache(tmp_path).load("cd" * 32) is None


def test_a_truncated_clip_is_treated_as_missing_and_removed(tmp_path):
    cache = ClipCache(tmp_path)
    cache.store("ef" * 32, np.full(5000, 3000, dtype=np.int16))
    path = cache.path("ef" * 32)
    path.write_bytes(path.read_bytes()[:300])
    assert cache.load("ef" * 32) is None
    assert not path.exists()


def test_a_clip_of_the_wrong_kind_is_treated_as_missing(tmp_path):
    cache = ClipCache(tmp_path)
    path = cache.path("01" * 32)
    path.parent.mkdir(parents=True)
    np.save(path, np.ones((3, 3), dtype=np.int16))
    assert cache.load("01" * 32) is None
    np.save(path, np.ones(100, dtype=np.float32))  # an earlier version's clip
    assert cache.load("01" * 32) is None
    path.write_bytes(b"not numpy at all")
    assert cache.load("01" * 32) is None


def test_every_part_of_the_key_changes_it():
    base = dict(text="in", engine="e", voice="v", rate=150, samplerate=48000)
    keys = {clip_key(**base)}
    for name, other in [("text", "out"), ("engine", "f"), ("voice", "w"), ("rate", 151),
                        ("samplerate", 44100)]:
        keys.add(clip_key(**{**base, name: other}))
    assert len(keys) == 6
    assert clip_key(**base) == clip_key(**dict(reversed(list(base.items()))))


def test_a_stored_clip_is_read_only_when_it_plays(tmp_path):
    cache = ClipCache(tmp_path)
    clip = np.arange(-3000, 3000, 3, dtype=np.int16)
    cache.store("aa" * 32, clip)
    stored = cache.stored("aa" * 32)
    assert len(stored) == len(clip) and stored.path == cache.path("aa" * 32)
    assert np.array_equal(stored.read(), clip) and np.array_equal(samples_of(stored), clip)
    assert samples_of(clip) is clip  # a clip held in memory is its own samples


def test_a_clip_whose_file_goes_away_mid_session_plays_as_silence_of_its_length(tmp_path):
    cache = ClipCache(tmp_path)
    cache.store("bb" * 32, np.full(4000, 1234, dtype=np.int16))
    stored = cache.stored("bb" * 32)
    cache.path("bb" * 32).unlink()  # say, the user cleared the cache while it played
    silent = stored.read()
    assert len(silent) == 4000 and not silent.any()
    cache.store("bb" * 32, np.full(10, 1, dtype=np.int16))  # replaced by something shorter
    assert len(stored.read()) == 4000 and not stored.read().any()


def test_a_clip_shorter_or_longer_than_its_header_is_treated_as_missing(tmp_path):
    cache = ClipCache(tmp_path)
    for extra in (b"", b"\x00\x00"):
        cache.store("cc" * 32, np.full(5000, 3000, dtype=np.int16))
        path = cache.path("cc" * 32)
        data = path.read_bytes()
        path.write_bytes(data[:-2] if not extra else data + extra)
        assert cache.stored("cc" * 32) is None
        assert not path.exists()
