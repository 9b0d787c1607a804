import numpy as np

from grounding.cache import ClipCache, clip_key


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
