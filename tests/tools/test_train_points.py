"""tools/train.py (generic LightningCLI) and tools/evaluate.py with the real point-cloud configs."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from motion3d.paths import REPO_ROOT
from tests.conftest import require_data

CONFIGS = sorted((REPO_ROOT / "configs" / "points").glob("*.yaml"))
# the others (DGCNN's k-NN graphs and PointNet++ MSG are heavy on 2 CPU cores) run with -m slow
FAST = {"pointnet_modelnet10.yaml", "pointnet2_ssg_modelnet10.yaml", "pointnet_modelnet40.yaml"}


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"_tool_{name}", REPO_ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def shapes_data(data_dir):
    p = data_dir / "pointclouds"
    require_data(p)
    return p


def _fit(config: Path, root: Path, extra=()) -> Path:
    train = _tool("train")
    train.main(["fit", "-c", str(config), "--trainer.max_steps", "3", "--trainer.default_root_dir", str(root),
                "--trainer.limit_val_batches", "2", "--trainer.val_check_interval", "2", "--threads", "1",
                "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
                "--data.init_args.batch_size", "4", "--data.init_args.eval_batch_size", "4", *extra])
    ckpts = sorted(root.rglob("*.ckpt"))
    assert ckpts, f"no checkpoint under {root}"
    return root


def test_all_point_configs_exist():
    names = {c.name for c in CONFIGS}
    for m in ("pointnet", "pointnet2_ssg", "pointnet2_msg", "dgcnn"):
        for d in ("modelnet10", "modelnet40"):
            assert f"{m}_{d}.yaml" in names


@pytest.mark.parametrize("config", [pytest.param(c, marks=() if c.name in FAST else pytest.mark.slow, id=c.stem)
                                    for c in CONFIGS])
def test_config_trains_a_few_steps(config, shapes_data, tmp_path):
    root = _fit(config, tmp_path)
    last = next(root.rglob("last.ckpt"))
    best = list(root.rglob("best.ckpt"))
    assert best, "best.ckpt (selected on val/oa) missing"
    c = torch.load(last, map_location="cpu", weights_only=True)
    assert c["motion3d"]["task"] == "classify"
    assert c["global_step"] == 3
    assert c["motion3d"]["model"]["class_path"].startswith("motion3d.models.points")


def test_evaluate_cli_prints_table(shapes_data, tmp_path, capsys):
    root = _fit(REPO_ROOT / "configs/points/pointnet_modelnet40.yaml", tmp_path / "run")
    ckpt = next(root.rglob("best.ckpt"))
    evaluate = _tool("evaluate")
    m = evaluate.main(["--ckpt", str(ckpt), "--split", "val", "--num-points", "256", "--out", str(tmp_path / "eval"),
                       "--cache-dir", str(tmp_path / "cache")])
    out = capsys.readouterr().out
    assert m["split"] == "val" and m["shapes"] == 320           # 20% of 40 x 40
    for word in ("OA", "mAcc", "airplane", "xbox"):
        assert word in out
    assert (tmp_path / "eval" / "confusion.png").is_file()
