"""MocapDataModule on real Bandai-Namco and CMU files (small subsets, so the suite stays fast)."""
from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from motion3d.data.labels import build_vocabulary, read_label_names, strip_prefix
from motion3d.data.mocap import BadDataError, MocapDataModule
from motion3d.data.split import SPLITS, split_by_file, split_counts
from motion3d.data.windows import window_starts
from motion3d.features import Normalizer
from motion3d.io import bvh

from tests.copying import copy_writable

WINDOW, STRIDE = 30, 10
BOW = ["*bow*"]  # 15 clips of 70-221 frames, one per style of set 1


def make_dm(roots, cache_dir, **kw) -> MocapDataModule:
    kw.setdefault("window", WINDOW)
    kw.setdefault("stride", STRIDE)
    kw.setdefault("batch_size", 16)
    return MocapDataModule(roots=[str(r) for r in roots], cache_dir=str(cache_dir), **kw)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def dm(bandai_dir, cache_dir) -> MocapDataModule:
    m = make_dm([bandai_dir], cache_dir, include=BOW)
    m.setup()
    return m


def copy_dataset(src: Path, dst: Path, names: list[str]) -> Path:
    """A Bandai-Namco style folder (``cfg/`` + ``data/``) holding copies of some clips."""
    copy_writable(src / "cfg", dst / "cfg")
    (dst / "data").mkdir(parents=True)
    for n in names:
        for ext in (".bvh", ".json"):
            f = src / "data" / (n + ext)
            if f.exists():
                copy_writable(f, dst / "data" / f.name)
    return dst


SMALL = ["dataset-1_bow_angry_001", "dataset-1_bow_childish_001", "dataset-1_bow_masculinity_001",
         "dataset-1_bow_giant_001"]


# ---------------------------------------------------------------------------------------------- split
def test_split_counts_and_determinism():
    assert split_counts(10, [0.8, 0.1, 0.1]) == [8, 1, 1]
    assert split_counts(3, [0.8, 0.1, 0.1]) == [1, 1, 1]  # every non-empty fraction gets a file
    assert sum(split_counts(417, [0.7, 0.2, 0.1])) == 417
    keys = [f"set/{i:03d}.bvh" for i in range(50)]
    a = split_by_file(keys, [0.8, 0.1, 0.1], seed=3)
    b = split_by_file(keys[::-1], [0.8, 0.1, 0.1], seed=3)[::-1]  # order of discovery does not matter
    assert np.array_equal(a, b)
    assert np.bincount(a, minlength=3).tolist() == [40, 5, 5]
    assert not np.array_equal(a, split_by_file(keys, [0.8, 0.1, 0.1], seed=4))
    with pytest.raises(ValueError, match="sum to 1"):
        split_by_file(keys, [0.5, 0.1, 0.1])


def test_split_is_by_file_disjoint_and_deterministic(dm, bandai_dir, cache_dir):
    files = {s: dm.files(s) for s in SPLITS}
    assert sum(len(f) for f in files.values()) == 15
    assert all(files[s] for s in SPLITS)
    for a in SPLITS:
        for b in SPLITS:
            if a < b:
                assert not set(files[a]) & set(files[b])
    again = make_dm([bandai_dir], cache_dir, include=BOW)
    again.setup()
    assert {s: again.files(s) for s in SPLITS} == files
    other = make_dm([bandai_dir], cache_dir, include=BOW, seed=1)
    other.setup()
    assert {s: other.files(s) for s in SPLITS} != files
    # every window of a batch comes from a file of its own split
    for s in SPLITS:
        batch = next(iter(getattr(dm, f"{s}_dataloader")()))
        assert int(batch["clip"].max()) < len(files[s])


# ---------------------------------------------------------------------------------------------- windows
def test_window_starts():
    offsets = np.array([0, 50, 55, 125])
    starts, clip = window_starts(offsets, np.array([0, 1, 2]), 30, 10)
    assert starts.tolist() == [0, 10, 20, 55, 65, 75, 85, 95]
    assert clip.tolist() == [0, 0, 0, 2, 2, 2, 2, 2]


def test_windows_count_and_batches(dm):
    for s in SPLITS:
        expected = sum((bvh.read_header(f)[1] - WINDOW) // STRIDE + 1 for f in dm.files(s))
        assert len(dm.dataset(s)) == expected
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == {"x", "content", "style", "clip"}
    assert batch["x"].shape == (16, WINDOW, dm.representation.dim) and batch["x"].dtype == torch.float32
    for k in ("content", "style", "clip"):
        assert batch[k].shape == (16,) and batch[k].dtype == torch.int64
    assert dm.fps == 30.0 and dm.window == WINDOW
    # val is not shuffled: the first batch is the first windows in order
    val = next(iter(dm.val_dataloader()))
    first = dm.clip_features("val")[0]
    assert torch.equal(val["x"][0], torch.from_numpy(first[:WINDOW]))
    assert torch.equal(val["x"][1], torch.from_numpy(first[STRIDE:STRIDE + WINDOW]))
    # one item equals the same window of a batch
    assert torch.equal(dm.dataset("val")[1]["x"], val["x"][1])
    # dataloader(split): every window of the split in order (evaluation reads the train split so)
    train = [b["x"] for b in dm.dataloader("train")]
    assert sum(len(x) for x in train) == len(dm.dataset("train"))
    assert torch.equal(train[0][1], dm.dataset("train")[1]["x"])


def test_loader_with_a_worker_process(dm):
    dm.num_workers = 1
    try:
        batches = list(dm.val_dataloader())
    finally:
        dm.num_workers = 0
    assert sum(len(b["clip"]) for b in batches) == len(dm.dataset("val"))


# ---------------------------------------------------------------------------------------------- normalisation
def test_normaliser_fitted_on_train_only(dm):
    raw = {s: dm.clip_features(s, normalized=False) for s in SPLITS}
    train = np.concatenate(raw["train"])
    everything = np.concatenate([c for s in SPLITS for c in raw[s]])
    expect = Normalizer.fit(train)
    np.testing.assert_allclose(dm.normalizer.mean, expect.mean, atol=1e-4)
    np.testing.assert_allclose(dm.normalizer.std, expect.std, atol=1e-4)
    assert np.abs(Normalizer.fit(everything).mean - dm.normalizer.mean).max() > 1e-3
    x = np.concatenate(dm.clip_features("train"))
    np.testing.assert_allclose(x.mean(0), 0.0, atol=1e-3)


# ---------------------------------------------------------------------------------------------- labels
def test_labels_of_a_known_file(dm):
    names = dm.label_names
    assert names["content"][:3] == ["walk", "run", "dash"] and "bow" in names["content"]
    assert "active" in names["style"] and not any(n.startswith("dataset-") for n in names["style"])
    found = False
    for s in SPLITS:
        labels = dm.clip_labels(s)
        for i, f in enumerate(dm.files(s)):
            assert names["content"][labels["content"][i]] == "bow"
            if f.stem == "dataset-1_bow_active_001":
                assert names["style"][labels["style"][i]] == "active"
                found = True
                batch = dm.dataset(s).__getitems__(np.flatnonzero(dm.dataset(s).clip == i)[:2].tolist())
                assert batch["content"].tolist() == [names["content"].index("bow")] * 2
                assert batch["style"].tolist() == [names["style"].index("active")] * 2
    assert found


def test_vocabulary_merges_both_sets(data_dir):
    sets = [data_dir / "mocap" / "bandai-namco-1" / "cfg", data_dir / "mocap" / "bandai-namco-2" / "cfg"]
    tables = [read_label_names(c) for c in sets]
    assert tables[0]["content"][0] == "walk" and tables[1]["content"][0] == "walk"
    assert tables[1]["content"][-1] == "raise-up-right-hand"  # the last line has no newline
    vocab = build_vocabulary(tables)
    assert vocab["content"].count("walk") == 1 and vocab["content"].index("walk") == 0
    assert vocab["style"][:15] == tables[0]["style"] and "elderly" in vocab["style"]
    assert build_vocabulary(tables, {"content": ["dataset-2_run", "walk"]})["content"] == ["run", "walk"]
    assert strip_prefix("dataset-12_walk-back") == "walk-back"


def test_label_filter_and_two_sets(mocap_dir, cache_dir):
    m = make_dm([mocap_dir / "bandai-namco-1", mocap_dir / "bandai-namco-2"], cache_dir,
                include=["*walk_normal_001*", "*run_normal_00[12]*", "*bow_sad*"],
                labels={"content": ["walk", "run"]}, split=[0.5, 0.25, 0.25])
    m.setup()
    assert m.label_names["content"] == ["walk", "run"]
    stems = sorted(f.stem for s in SPLITS for f in m.files(s))
    assert "dataset-1_bow_sad_001" not in stems
    assert "dataset-1_walk_normal_001" in stems and "dataset-2_walk_normal_001" in stems
    names = {f.stem: m.label_names["content"][c] for s in SPLITS
             for f, c in zip(m.files(s), m.clip_labels(s)["content"])}
    assert names["dataset-1_walk_normal_001"] == names["dataset-2_walk_normal_001"] == "walk"
    assert names["dataset-2_run_normal_001"] == "run"
    # set 1's run_normal_001 has 24 frames: too short for a window, reported
    assert any(p.name == "dataset-1_run_normal_001.bvh" and "shorter than a window" in r for p, r in m.rejected)


def test_unlabelled_dataset_gives_minus_one_and_duplicates_are_reported(cmu_dir, cache_dir):
    m = make_dm([cmu_dir], cache_dir, include=["example.*", "01_01.*"], split=[1.0, 0.0, 0.0])
    m.setup()
    assert m.label_names == {"content": [], "style": []}
    assert m.clip_labels("train")["content"].tolist() == [-1] * len(m.files("train"))
    batch = next(iter(m.train_dataloader()))
    assert (batch["content"] == -1).all() and (batch["style"] == -1).all()
    reasons = dict((p.name, r) for p, r in m.rejected)
    assert "same take as 01_01.bvh" in reasons["01_01.amc"]
    # 01_01 and example.bvh have the same joints but different bones: one is a mismatch
    assert len(m.files("train")) == 1 and len(reasons) == 2


# ---------------------------------------------------------------------------------------------- metadata
def test_metadata_loads_with_weights_only(dm):
    meta = dm.metadata()
    assert set(meta) == {"skeleton", "representation", "normalizer", "label_names", "fps", "window"}
    buf = io.BytesIO()
    torch.save(meta, buf)
    buf.seek(0)
    back = torch.load(buf, weights_only=True)
    assert back == meta
    from motion3d import features
    from motion3d.skeleton import Skeleton

    assert features.from_dict(back["representation"]).describe_difference(dm.representation) is None
    assert Skeleton.from_dict(back["skeleton"]).same_topology(dm.skeleton)
    assert np.allclose(Normalizer.from_dict(back["normalizer"]).mean, dm.normalizer.mean)


# ---------------------------------------------------------------------------------------------- cache
def test_second_setup_hits_the_cache_without_parsing(bandai_dir, tmp_path, monkeypatch):
    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    first = make_dm([root], tmp_path / "cache")
    first.setup()
    assert not first.cache_hit

    def refuse(*a, **k):
        raise AssertionError("a BVH file was parsed on a cached run")

    monkeypatch.setattr(bvh, "load", refuse)
    monkeypatch.setattr(bvh, "read_header", refuse)
    second = make_dm([root], tmp_path / "cache")
    second.setup()
    assert second.cache_hit
    for s in SPLITS:
        assert second.files(s) == first.files(s)
        assert np.array_equal(np.concatenate(second.clip_features(s) or [np.zeros((0, 1))]),
                              np.concatenate(first.clip_features(s) or [np.zeros((0, 1))]))
    # another configuration misses (and would parse)
    with pytest.raises(AssertionError, match="parsed on a cached run"):
        make_dm([root], tmp_path / "cache", representation_options={"contact_height": 0.06}).setup()
    # window and stride are not part of the cached features: no parsing
    third = make_dm([root], tmp_path / "cache", window=20, stride=5)
    third.setup()
    assert third.cache_hit and len(third.dataset("train")) > len(second.dataset("train"))
    # a changed file misses
    f = root / "data" / (SMALL[0] + ".bvh")
    f.write_text(f.read_text() + "\n")
    with pytest.raises(AssertionError, match="parsed on a cached run"):
        make_dm([root], tmp_path / "cache").setup()


# ---------------------------------------------------------------------------------------------- bad data
def _truncated(src: Path, dst: Path) -> Path:
    text = src.read_text()
    dst.write_text(text[: int(len(text) * 0.6)].rsplit("\n", 1)[0] + "\n")
    return dst


def test_bad_file_is_reported_and_skipped(bandai_dir, tmp_path, caplog):
    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    bad = _truncated(bandai_dir / "data" / "dataset-1_bow_happy_001.bvh", root / "data" / "dataset-1_bow_happy_001.bvh")
    nan = root / "data" / "nan_clip.bvh"
    lines = (root / "data" / (SMALL[0] + ".bvh")).read_text().splitlines()
    lines[-5] = " ".join(["nan"] + lines[-5].split()[1:])
    nan.write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="motion3d.data"):
        m = make_dm([root], tmp_path / "cache", split=[0.5, 0.25, 0.25])
        m.setup()
    reasons = {p.name: r for p, r in m.rejected}
    assert set(reasons) == {bad.name, nan.name}
    assert "truncated" in reasons[bad.name]
    assert "NaN" in reasons[nan.name]
    assert bad.name in caplog.text and nan.name in caplog.text
    used = [f.name for s in SPLITS for f in m.files(s)]
    assert sorted(used) == sorted(n + ".bvh" for n in SMALL)
    # the rejections are reported again from the cache
    again = make_dm([root], tmp_path / "cache", split=[0.5, 0.25, 0.25])
    again.setup()
    assert again.cache_hit and {p.name for p, _ in again.rejected} == set(reasons)
    with pytest.raises(BadDataError, match="dataset-1_bow_happy_001.bvh"):
        make_dm([root], tmp_path / "cache", on_bad="error").setup()


def test_short_clip(bandai_dir, tmp_path):
    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    m = make_dm([root], tmp_path / "cache", window=80, split=[0.5, 0.25, 0.25])
    m.setup()
    assert [(p.name, r) for p, r in m.rejected] == [
        ("dataset-1_bow_masculinity_001.bvh", "70 frames at 30 fps, shorter than a window of 80")]
    with pytest.raises(BadDataError, match="dataset-1_bow_masculinity_001.bvh.*shorter than a window"):
        make_dm([root], tmp_path / "cache", window=80, on_bad="error").setup()


def test_skeleton_mismatch(bandai_dir, cmu_dir, tmp_path):
    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    copy_writable(cmu_dir / "example.bvh", root / "data" / "cmu_example.bvh")
    m = make_dm([root], tmp_path / "cache", split=[0.5, 0.25, 0.25])
    m.setup()
    assert [p.name for p, _ in m.rejected] == ["cmu_example.bvh"]
    assert "skeleton differs" in m.rejected[0][1] and "31 joints" in m.rejected[0][1]
    assert m.skeleton.num_joints == 22
    with pytest.raises(BadDataError, match="cmu_example.bvh.*skeleton differs"):
        make_dm([root], tmp_path / "cache", on_mismatch="error").setup()
    # a bone that differs by more than the tolerance is a mismatch too (Bandai-Namco animates
    # every joint's translation, so the bone lives in the frame data, not in the header)
    f = root / "data" / "dataset-1_bow_giant_001.bvh"
    motion = bvh.load(f)
    motion.translations[:, motion.skeleton.index("Spine"), 0] += 10.0
    bvh.save(motion, f)
    m = make_dm([root], tmp_path / "cache", split=[0.5, 0.25, 0.25])
    m.setup()
    reasons = {p.name: r for p, r in m.rejected}
    assert "'Spine' differs" in reasons["dataset-1_bow_giant_001.bvh"]


def test_mirror_augment_adds_train_windows_only(bandai_dir, tmp_path):
    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    plain = make_dm([root], tmp_path / "cache", split=[0.5, 0.25, 0.25])
    plain.setup()
    mirrored = make_dm([root], tmp_path / "cache", split=[0.5, 0.25, 0.25], mirror_augment=True)
    mirrored.setup()
    assert len(mirrored.dataset("train")) == 2 * len(plain.dataset("train"))
    assert len(mirrored.dataset("val")) == len(plain.dataset("val"))
    assert mirrored.files("train") == plain.files("train")


def test_bad_arguments(bandai_dir, tmp_path):
    with pytest.raises(ValueError, match="on_bad"):
        MocapDataModule([str(bandai_dir)], on_bad="ignore")
    with pytest.raises(ValueError, match="sum to 1"):
        MocapDataModule([str(bandai_dir)], split=[0.9, 0.2, 0.1])
    with pytest.raises(ValueError, match="label kind"):
        MocapDataModule([str(bandai_dir)], labels={"mood": ["sad"]})
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        MocapDataModule([str(tmp_path / "no-such-folder")], cache_dir=str(tmp_path)).setup()
    with pytest.raises(FileNotFoundError, match="no motion files"):
        make_dm([bandai_dir], tmp_path, include=["*nothing-matches*"]).setup()


def test_from_metadata_uses_the_checkpoint_statistics(dm, bandai_dir, cmu_dir, tmp_path):
    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    copy_writable(cmu_dir / "example.bvh", root / "data" / "cmu_example.bvh")
    meta = dm.metadata()
    ev = MocapDataModule.from_metadata(meta, [str(root)], cache_dir=str(tmp_path / "cache"), stride=5)
    ev.setup()
    assert ev.window == WINDOW and ev.fps == dm.fps
    assert not ev.files("train") and len(ev.files("test")) == len(SMALL)
    assert np.array_equal(ev.normalizer.mean, dm.normalizer.mean)
    assert ev.label_names == dm.label_names
    assert ev.representation.describe_difference(dm.representation) is None
    labels = ev.clip_labels("test")
    assert [dm.label_names["content"][c] for c in labels["content"]] == ["bow"] * len(SMALL)
    assert [p.name for p, _ in ev.rejected] == ["cmu_example.bvh"]
    assert ev.metadata()["normalizer"] == meta["normalizer"]


def test_lightning_trainer_runs_on_the_module(bandai_dir, tmp_path):
    import lightning as L

    class Tiny(L.LightningModule):
        def __init__(self, dim):
            super().__init__()
            self.net = torch.nn.Linear(dim, dim)

        def training_step(self, batch, _):
            x = batch["x"]
            assert x.dim() == 3 and batch["content"].shape == (x.shape[0],)
            return ((self.net(x[:, :-1]) - x[:, 1:]) ** 2).mean()

        def validation_step(self, batch, _):
            self.log("val", ((self.net(batch["x"][:, :-1]) - batch["x"][:, 1:]) ** 2).mean())

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=1e-3)

    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    data = make_dm([root], tmp_path / "cache", split=[0.5, 0.25, 0.25], batch_size=4)
    data.prepare_data()  # fills the cache; setup() then reads it
    data.setup("fit")
    assert data.cache_hit
    trainer = L.Trainer(max_steps=3, limit_val_batches=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                        default_root_dir=str(tmp_path))
    trainer.fit(Tiny(data.representation.dim), datamodule=data)
    assert trainer.global_step == 3


@pytest.mark.slow
def test_cached_epoch_over_all_mocap_is_fast(mocap_dir, tmp_path):
    """Issue 3's target: a cached epoch over every window of DATA/mocap in under 5 s (the first,
    uncached pass parses and encodes every file: about a minute on 2 cores)."""
    import time

    roots = sorted(str(d) for d in mocap_dir.iterdir() if d.is_dir())
    make_dm(roots, tmp_path, window=60, stride=10, batch_size=64).prepare_data()
    t0 = time.perf_counter()
    m = make_dm(roots, tmp_path, window=60, stride=10, batch_size=64)
    m.setup()
    n = sum(len(b["clip"]) for s in SPLITS for b in getattr(m, f"{s}_dataloader")())
    elapsed = time.perf_counter() - t0
    assert m.cache_hit and n == sum(len(m.dataset(s)) for s in SPLITS) > 5000
    assert elapsed < 5.0, f"cached setup + epoch took {elapsed:.2f} s"
    # one skeleton: the Bandai-Namco one; every CMU file is reported, none silently dropped
    assert m.skeleton.num_joints == 22
    rejected = {p.name for p, _ in m.rejected}
    assert {"01_01.bvh", "131_01.bvh", "example.bvh", "01_01.amc"} <= rejected


def test_stratified_split():
    keys = [f"{c}_{i:02d}" for c in "abc" for i in range({"a": 20, "b": 10, "c": 1}[c])]
    groups = [k[0] for k in keys]
    s = split_by_file(keys, [0.8, 0.1, 0.1], seed=0, groups=groups)
    by = {g: np.bincount(s[[i for i, k in enumerate(groups) if k == g]], minlength=3).tolist() for g in "abc"}
    assert by == {"a": [16, 2, 2], "b": [8, 1, 1], "c": [1, 0, 0]}
    assert np.array_equal(s, split_by_file(keys[::-1], [0.8, 0.1, 0.1], 0, groups[::-1])[::-1])


def test_unreadable_files_only(data_dir, tmp_path):
    """AMASS files without the (registration-only) body model: every file is reported by name."""
    with pytest.raises(ValueError, match="none of the 2 motion files could be read.*amass_sample.npz"):
        make_dm([data_dir / "smpl"], tmp_path, loader_options={"body_model_dir": str(tmp_path / "none")}).setup()


def test_fps_is_one_attribute(tmp_path):
    dm = make_dm([tmp_path], tmp_path / "cache", fps=24)
    assert dm.fps == 24.0 and dm.target_fps == 24.0
    assert make_dm([tmp_path], tmp_path / "cache", fps=None).fps is None
    with pytest.raises(AttributeError):
        dm.target_fps = 30.0  # read-only alias: the rate lives in dm.fps only
    with pytest.raises(ValueError, match="fps must be positive"):
        make_dm([tmp_path], tmp_path / "cache", fps=0)


def test_frame_count_bomb_in_the_folder_is_reported_and_skipped(bandai_dir, tmp_path, caplog):
    """A 1.5 KB BVH with CHANNELS 0 everywhere and 'Frames: 999999999' (a bare MemoryError, or
    gigabytes, before issue 16) is one rejected file among good ones, not a crashed setup()."""
    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    lines = ["HIERARCHY", "ROOT j0", "{", "OFFSET 0 0 0", "CHANNELS 0"]
    for k in range(1, 40):
        lines += [f"JOINT j{k}", "{", "OFFSET 0 1 0", "CHANNELS 0"]
    bomb = root / "data" / "bomb.bvh"
    bomb.write_text("\n".join(lines + ["}"] * 40 + ["MOTION", "Frames: 999999999", "Frame Time: 0.0333"]) + "\n")
    with caplog.at_level(logging.WARNING, logger="motion3d.data"):
        m = make_dm([root], tmp_path / "cache", split=[0.5, 0.25, 0.25])
        m.setup()
    assert [p.name for p, _ in m.rejected] == ["bomb.bvh"]
    reason = m.rejected[0][1]
    assert "'Frames: 999999999' but the hierarchy has no channels" in reason
    about_bomb = [r.getMessage() for r in caplog.records if "bomb.bvh" in r.getMessage()]
    assert len(about_bomb) == 1 and about_bomb[0].startswith(f"skipping {bomb}:") and reason in about_bomb[0]
    assert sorted(f.name for s in SPLITS for f in m.files(s)) == sorted(n + ".bvh" for n in SMALL)
    with pytest.raises(BadDataError, match="bomb.bvh"):
        make_dm([root], tmp_path / "cache", on_bad="error").setup()


# ------------------------------------------------------------------------- issue 17 (items 5 and 12)
def _plain_folder(bandai_dir: Path, dst: Path, names: list[str]) -> Path:
    """Clips with their label JSON beside them but without the ``cfg/`` tables naming the ids."""
    dst.mkdir(parents=True)
    for n in names:
        for ext in (".bvh", ".json"):
            copy_writable(bandai_dir / "data" / (n + ext), dst / (n + ext))
    return dst


def test_plain_folder_without_label_tables(bandai_dir, tmp_path, caplog):
    """Item 5: clips whose label ids cannot be named are dropped when labels are needed, and the
    empty result says why (counts per reason); with need_labels=False they are used, unlabelled,
    with one warning line."""
    root = _plain_folder(bandai_dir, tmp_path / "plain", SMALL[:3])
    with pytest.raises(FileNotFoundError) as err:
        make_dm([root], tmp_path / "cache", split=[1, 0, 0]).setup()
    msg = str(err.value)
    assert "3 found, left out: 3 for unreadable labels" in msg
    assert "dataset-1_bow_angry_001.json: content id" in msg and "outside the 0 names" in msg
    assert "cfg/content_label.txt" in msg and "need_labels=False" in msg
    with caplog.at_level(logging.WARNING, logger="motion3d.data"):
        m = make_dm([root], tmp_path / "cache", split=[1, 0, 0], need_labels=False)
        m.setup()
    assert sorted(f.name for f in m.files("train")) == sorted(n + ".bvh" for n in SMALL[:3])
    assert m.clip_labels("train")["content"].tolist() == [-1, -1, -1]
    assert len(m.unlabelled) == 3 and not m.rejected
    label_lines = [r.getMessage() for r in caplog.records if "labels that cannot be read" in r.getMessage()]
    assert len(label_lines) == 1 and label_lines[0].startswith("3 of 3 clips have labels that cannot be read")
    # a label filter needs labels whatever need_labels says
    with pytest.raises(FileNotFoundError, match="3 for unreadable labels"):
        make_dm([root], tmp_path / "cache", need_labels=False, labels={"content": ["bow"]}).setup()
    # other reasons are counted too
    with pytest.raises(FileNotFoundError, match=r"3 found, left out: 3 for include/exclude"):
        make_dm([root], tmp_path / "cache", need_labels=False, exclude=["*bow*"]).setup()


def test_each_rejection_is_reported_once(bandai_dir, tmp_path, caplog):
    """Item 12: prepare_data and setup both read the features: a bad file is reported once, and
    the clips shorter than a window in one summary line."""
    root = copy_dataset(bandai_dir, tmp_path / "set", SMALL)
    bad = _truncated(bandai_dir / "data" / "dataset-1_bow_happy_001.bvh", root / "data" / "dataset-1_bow_happy_001.bvh")
    with caplog.at_level(logging.WARNING, logger="motion3d.data"):
        m = make_dm([root], tmp_path / "cache", window=120, split=[1, 0, 0])
        m.prepare_data()
        m.setup()
        m.setup()
    lines = [r.getMessage() for r in caplog.records]
    assert len([x for x in lines if bad.name in x]) == 1
    short = [x for x in lines if "shorter than a window" in x]
    assert short == ["skipped 3 clips shorter than a window of 120 frames at 30 fps: dataset-1_bow_angry_001.bvh "
                     "(90 frames), dataset-1_bow_childish_001.bvh (98), dataset-1_bow_masculinity_001.bvh (70)"]
    assert {p.name for p, r in m.rejected if "shorter" in r} == {
        "dataset-1_bow_angry_001.bvh", "dataset-1_bow_childish_001.bvh", "dataset-1_bow_masculinity_001.bvh"}


def test_short_summary_line_caps_the_list():
    from motion3d.data.mocap import _short_summary

    paths = [Path(f"c{k}.bvh") for k in range(12)]
    line = _short_summary(paths, list(range(10, 22)), 60, 30)
    assert line == ("skipped 12 clips shorter than a window of 60 frames at 30 fps: c0.bvh (10 frames), c1.bvh (11), "
                    "c2.bvh (12) (+9; list in dm.rejected)")
