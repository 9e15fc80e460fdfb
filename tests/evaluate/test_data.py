"""Evaluation data (motion3d.evaluate.data) on a plain folder of clips and the prediction table
(motion3d.evaluate.predict): issue 17 items 5 and 13."""
from __future__ import annotations

import pytest
import torch

from motion3d.data.mocap import MocapDataModule
from motion3d.evaluate.data import evaluation_datamodule
from motion3d.evaluate.predict import BOTH_BASELINES, format_table, merge_baseline_rows
from motion3d.tasks.context import ContextMismatch, MotionContext
from motion3d.tasks.predict import prediction_errors

from tests.copying import copy_writable

CLIPS = ["dataset-1_walk_normal_001", "dataset-1_walk_angry_001", "dataset-1_bow_angry_001"]


@pytest.fixture(scope="module")
def trained(bandai_dir, tmp_path_factory):
    """A labelled dataset's context (as a checkpoint would hold it) and a plain folder of the same
    clips: label JSON beside them, no cfg/ tables."""
    tmp = tmp_path_factory.mktemp("evaldata")
    labelled, plain = tmp / "labelled", tmp / "plain"
    copy_writable(bandai_dir / "cfg", labelled / "cfg")
    for d in (labelled / "data", plain):
        d.mkdir(parents=True)
        for n in CLIPS:
            for ext in (".bvh", ".json"):
                copy_writable(bandai_dir / "data" / (n + ext), d / (n + ext))
    dm = MocapDataModule([str(labelled)], window=40, stride=20, split=[1, 0, 0], cache_dir=str(tmp / "cache"))
    dm.setup()
    ctx = MotionContext.from_datamodule(dm)
    return ctx, plain, tmp / "cache"


def test_a_plain_folder_evaluates_a_task_without_labels(trained, monkeypatch):
    ctx, plain, cache = trained
    monkeypatch.setenv("MOTION3D_CACHE", str(cache))
    meta = {"task": "predict"}
    dm, split, source = evaluation_datamodule(meta, ctx, str(plain), 40, 8, need_labels=False)
    assert split == "train" and str(plain) in source
    assert sorted(f.name for f in dm.files("train")) == sorted(n + ".bvh" for n in CLIPS)
    assert dm.clip_labels("train")["content"].tolist() == [-1, -1, -1]
    assert len(dm.dataset("train")) > 0


def test_a_task_that_needs_labels_says_so(trained, monkeypatch):
    ctx, plain, cache = trained
    monkeypatch.setenv("MOTION3D_CACHE", str(cache))
    with pytest.raises(ContextMismatch) as err:
        evaluation_datamodule({"task": "generate"}, ctx, str(plain), 40, 8, need_labels=True)
    msg = str(err.value)
    assert "3 found, left out: 3 for unreadable labels" in msg
    assert "a 'generate' checkpoint needs the clips' content/style labels" in msg and str(plain) in msg


def test_root_relative_baselines_agree_and_print_as_one_row(trained):
    """Item 13: the constant-velocity baseline moves the root only, so root-relative it is the
    zero-velocity baseline; the table prints one row for both."""
    ctx, plain, cache = trained
    torch.manual_seed(0)
    x = torch.randn(4, 40, ctx.dim) * 0.5
    errs = prediction_errors(ctx, x, x[:, 20:40] + 0.1, 20)
    assert torch.allclose(errs["zero_velocity"]["root"], errs["constant_velocity"]["root"])
    assert not torch.allclose(errs["zero_velocity"]["global"], errs["constant_velocity"]["global"])
    rows = {"GRU": {80.0: 1.0, 160.0: 2.0}, "zero-velocity": {80.0: 3.0, 160.0: 4.0},
            "constant velocity": {80.0: 3.0, 160.0: 4.0}}
    merged, ok = merge_baseline_rows(rows)
    assert ok and list(merged) == ["GRU", BOTH_BASELINES] and merged[BOTH_BASELINES] == {80.0: 3.0, 160.0: 4.0}
    table = format_table(merged, [80.0, 160.0], "MPJPE root-relative", "mm").splitlines()
    assert len(table) == 3 and table[2].startswith(BOTH_BASELINES)
    rows["constant velocity"] = {80.0: 3.0, 160.0: 4.5}  # differing rows stay apart
    assert merge_baseline_rows(rows) == (rows, False)
