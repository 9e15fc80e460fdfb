"""motion3d.data.cache: content digests decide (size and mtime are never trusted), atomic entries,
and a way to turn caching off."""
from __future__ import annotations

import hashlib
import os

import numpy as np

from motion3d.data.cache import ArrayCache, cache_disabled, file_digest, file_digests
from motion3d.data.mocap import MocapDataModule

from tests.copying import copy_writable


def _same_size_edit(path, old: bytes, new: bytes) -> None:
    """Replace the first ``old`` by ``new`` (same length) and restore the size and mtime."""
    assert len(old) == len(new)
    st = path.stat()
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_digest_is_blake2b_of_the_content_and_sees_edits_that_keep_size_and_mtime(tmp_path):
    f = tmp_path / "a.bvh"
    f.write_bytes(b"MOTION\n0.5 1.5 2.5\n")
    assert file_digest(f) == "blake2b:" + hashlib.blake2b(f.read_bytes(), digest_size=32).hexdigest()
    before = file_digests([f], tmp_path / "memo")
    _same_size_edit(f, b"1.5", b"9.5")
    assert file_digests([f], tmp_path / "memo") != before
    assert not (tmp_path / "memo").exists()  # no memo keyed on size and mtime is kept


def test_disabled_cache_reads_and_writes_nothing(tmp_path, monkeypatch):
    arrays = {"x": np.arange(3)}
    on = ArrayCache(tmp_path / "c")
    assert on.enabled and on.save("k", arrays, {"m": 1}) == tmp_path / "c" / "k"
    assert on.load("k")[1] == {"m": 1}
    off = ArrayCache(tmp_path / "c", enabled=False)
    assert off.load("k") is None and off.save("k2", arrays, {}) is None
    assert not (tmp_path / "c" / "k2").exists()
    for value, disabled in (("1", True), ("yes", True), ("0", False), ("", False), ("false", False)):
        monkeypatch.setenv("MOTION3D_NO_CACHE", value)
        assert cache_disabled() is disabled and ArrayCache(tmp_path / "c").enabled is not disabled


def test_datamodule_does_not_serve_stale_features_after_an_edit_keeping_size_and_mtime(bandai_dir, tmp_path):
    root = tmp_path / "set"
    copy_writable(bandai_dir / "cfg", root / "cfg")
    (root / "data").mkdir()
    names = ["dataset-1_bow_angry_001", "dataset-1_bow_childish_001", "dataset-1_bow_giant_001"]
    for n in names:
        for f in (bandai_dir / "data").glob(n + ".*"):
            copy_writable(f, root / "data" / f.name)

    def setup():
        dm = MocapDataModule([str(root)], cache_dir=str(tmp_path / "cache"), window=30, stride=10,
                             split=[1.0, 0.0, 0.0])
        dm.setup()
        return dm, {p.name: c for p, c in zip(dm.files("train"), dm.clip_features("train", normalized=False))}

    first, feats = setup()
    assert not first.cache_hit
    again, same = setup()
    assert again.cache_hit and all(np.array_equal(feats[k], same[k]) for k in feats)
    # edit one clip's motion data in place: the root's first X position, same number of characters
    clip = root / "data" / (names[0] + ".bvh")
    text = clip.read_bytes()
    first_frame = text.split(b"Frame Time:")[1].split(b"\n")[1]
    value = first_frame.split()[0]
    edited = (b"9" if not value.lstrip(b"-").startswith(b"9") else b"1") + value[1:]
    _same_size_edit(clip, first_frame, edited + first_frame[len(value):])
    after, fresh = setup()
    assert not after.cache_hit
    assert np.abs(fresh[clip.name] - feats[clip.name]).max() > 1.0  # the new root position shows
    for k in feats:  # the other clips are the same (up to the float32 round trip of new statistics)
        if k != clip.name:
            np.testing.assert_allclose(fresh[k], feats[k], atol=1e-4)


def test_datamodule_with_caching_off_writes_no_cache(bandai_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MOTION3D_NO_CACHE", "1")
    root = tmp_path / "set"
    copy_writable(bandai_dir / "cfg", root / "cfg")
    (root / "data").mkdir()
    for n in ("dataset-1_bow_angry_001", "dataset-1_bow_giant_001"):
        for f in (bandai_dir / "data").glob(n + ".*"):
            copy_writable(f, root / "data" / f.name)
    for _ in range(2):
        dm = MocapDataModule([str(root)], cache_dir=str(tmp_path / "cache"), window=30, stride=10,
                             split=[1.0, 0.0, 0.0])
        dm.setup()
        assert not dm.cache_hit and len(dm.files("train")) == 2
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]

