"""motion3d.tasks.classify, motion3d.metrics.classification, motion3d.data.pointclouds."""
from __future__ import annotations

import argparse
import shutil

import lightning as L
import numpy as np
import pytest
import torch

from motion3d.data.pointclouds import PointCloudDataModule, list_split, load_shape, stratified_split
from motion3d.metrics.classification import (confusion_matrix, mean_class_accuracy, overall_accuracy,
                                             per_class_accuracy)
from motion3d.models.points import PointNet
from motion3d import evaluate as evaluation
from motion3d.tasks.checkpoint import CheckpointError, load_checkpoint, task_name
from motion3d.tasks.classify import ClassificationTask, plot_confusion, predict_proba
from tests.conftest import require_data, assert_close

CLASSES = ["bathtub", "desk", "monitor"]


@pytest.fixture(scope="module")
def modelnet10(data_dir):
    p = data_dir / "pointclouds/modelnet10"
    require_data(p)
    return p


@pytest.fixture(scope="module")
def small_folder(modelnet10, data_dir, tmp_path_factory):
    """A ModelNet-layout folder with train and test splits in mixed formats (PCD, NPY, OFF mesh)."""
    root = tmp_path_factory.mktemp("mn_small")
    for c in CLASSES:
        files = sorted((modelnet10 / c / "train").iterdir())
        for split, chunk in (("train", files[:12]), ("test", files[12:16])):
            (root / c / split).mkdir(parents=True)
            for f in chunk:
                shutil.copy(f, root / c / split / f.name)
    shutil.copy(data_dir / "meshes/ballA.off", root / "desk/test/ball.off")
    np.save(root / "monitor/test/m.npy", np.random.default_rng(0).normal(size=(2000, 3)).astype(np.float32))
    return root


def test_metrics():
    pred = torch.tensor([0, 1, 1, 2, 2, 2, 0])
    true = torch.tensor([0, 1, 2, 2, 2, 2, 1])
    cm = confusion_matrix(pred, true, 4)
    assert cm.tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 3, 0], [0, 0, 0, 0]]
    assert overall_accuracy(cm) == pytest.approx(5 / 7)
    per = per_class_accuracy(cm)
    assert_close(per[:3], torch.tensor([1.0, 0.5, 0.75], dtype=torch.float64))
    assert torch.isnan(per[3])
    assert mean_class_accuracy(cm) == pytest.approx((1 + 0.5 + 0.75) / 3)


def test_stratified_split_is_seeded_and_stratified():
    labels = [0] * 100 + [1] * 10 + [2] * 2
    tr, va = stratified_split(labels, 0.1, seed=0)
    tr2, va2 = stratified_split(labels, 0.1, seed=0)
    assert np.array_equal(va, va2) and np.array_equal(tr, tr2)
    assert not np.array_equal(va, stratified_split(labels, 0.1, seed=1)[1])
    counts = np.bincount(np.asarray(labels)[va], minlength=3)
    assert counts.tolist() == [10, 1, 1]
    assert len(set(tr) | set(va)) == 112 and not set(tr) & set(va)


def test_datamodule_on_real_modelnet10(modelnet10, tmp_path):
    dm = PointCloudDataModule(str(modelnet10), num_points=1024, train_points=512, batch_size=16,
                              augment={"translate": 0.1}, cache_dir=str(tmp_path / "cache"),
                              classes=CLASSES)
    dm.setup("fit")
    assert dm.class_names == CLASSES and dm.num_classes == 3
    n_train = sum(len(list((modelnet10 / c / "train").iterdir())) for c in CLASSES)
    assert len(dm.train_set) + len(dm.val_set) == n_train
    assert abs(len(dm.val_set) - 0.1 * n_train) <= 3
    pts, y = next(iter(dm.train_dataloader()))
    assert pts.shape == (16, 512, 3) and y.shape == (16,)
    vp, _ = next(iter(dm.val_dataloader()))
    assert vp.shape[1:] == (1024, 3)
    assert_close(vp.norm(dim=-1).amax(1), torch.ones(len(vp)), atol=1e-5)   # unit sphere
    assert list((tmp_path / "cache").glob("points_*.npy"))                    # cached
    with pytest.raises(FileNotFoundError, match="test split"):
        dm.setup("test")


def test_folder_of_mixed_formats(small_folder, tmp_path):
    files, labels, names = list_split(small_folder, "test")
    assert names == CLASSES and len(files) == 14
    mesh_pts = load_shape(small_folder / "desk/test/ball.off", 256, normals=True)
    assert mesh_pts.shape == (256, 6)
    big = load_shape(small_folder / "monitor/test/m.npy", 256)          # FPS 2000 -> 256
    assert big.shape == (256, 3)


def test_fit_validate_test_checkpoint_and_evaluate(small_folder, tmp_path, capsys):
    dm = PointCloudDataModule(str(small_folder), num_points=256, batch_size=8, eval_batch_size=16,
                              val_fraction=0.25, cache_dir=str(tmp_path / "cache"))
    task = ClassificationTask(PointNet(3, tnet_points=64), lr=1e-3, warmup_steps=2, vote=2)
    trainer = L.Trainer(max_steps=4, default_root_dir=tmp_path, enable_progress_bar=False,
                        enable_model_summary=False, val_check_interval=2, logger=True)
    trainer.fit(task, dm)
    assert "val/oa" in trainer.callback_metrics and "val/macc" in trainer.callback_metrics
    ckpt = tmp_path / "x.ckpt"
    trainer.save_checkpoint(ckpt)
    c = load_checkpoint(ckpt)                     # weights_only=True
    assert task_name(c) == "classify"
    assert c["motion3d"]["class_names"] == CLASSES
    res = trainer.test(task, dm, verbose=False)[0]
    assert 0.0 <= res["test/oa"] <= 1.0
    ev = evaluation.get("classify")
    args = argparse.Namespace(ckpt=str(ckpt), data=str(small_folder), split="auto", num_points=None, vote=None,
                              batch_size=8, out=str(tmp_path / "eval"), cache_dir=str(tmp_path / "cache"))
    m = ev.run(c, args)
    out = capsys.readouterr().out
    assert m["split"] == "test" and m["shapes"] == 14
    assert "OA" in out and "mAcc" in out and "monitor" in out
    assert (tmp_path / "eval/confusion.png").stat().st_size > 1000
    # the evaluation and test loop agree (same points, same votes)
    assert m["oa"] == pytest.approx(res["test/oa"], abs=1e-6)


def test_predict_proba_voting():
    m = PointNet(3).eval()
    x = torch.randn(2, 64, 3)
    p1 = predict_proba(m, x, 1)
    p3 = predict_proba(m, x, 3)
    assert_close(p1.sum(-1), torch.ones(2), atol=1e-5)
    assert_close(p3.sum(-1), torch.ones(2), atol=1e-5)
    assert_close(predict_proba(m, x, 3), p3)                 # seeded


def test_plot_confusion(tmp_path):
    path = plot_confusion(np.array([[3, 1], [0, 4]]), ["a", "b"], tmp_path / "cm.png", title="t")
    assert path.stat().st_size > 1000


def test_unknown_task_is_reported():
    with pytest.raises(KeyError, match="no evaluator"):
        evaluation.get("no-such-task")
    with pytest.raises(CheckpointError, match="motion3d.task"):
        task_name({"state_dict": {}})
