"""viz/show_points.py (offscreen) and tools/bench/bench_points.py (a quick smoke run)."""
from __future__ import annotations

import importlib.util

import pytest
import torch

from motion3d.models.points import PointNet
from motion3d.paths import REPO_ROOT
from tests.conftest import require_data


def _script(rel: str):
    spec = importlib.util.spec_from_file_location("_s_" + rel.replace("/", "_")[:-3], REPO_ROOT / rel)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def shapes(data_dir):
    p = data_dir / "pointclouds/modelnet10"
    require_data(p)
    return [p / "chair/train/chair_0001.pcd", p / "bed/train/bed_0001.pcd", data_dir / "meshes/bunny.ply"]


def test_show_points_offscreen_with_predictions(shapes, tmp_path, capsys):
    model = PointNet(2, tnet_points=64).eval()
    ckpt = tmp_path / "tiny.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
                "motion3d": {"task": "classify", "model": model.config, "class_names": ["a", "b"]}}, ckpt)
    out = _script("viz/show_points.py").main([*map(str, shapes), "--ckpt", str(ckpt), "--points", "256",
                                              "--offscreen", str(tmp_path / "s.png"), "--backend", "matplotlib"])
    assert out.stat().st_size > 5000
    printed = capsys.readouterr().out
    assert "chair_0001:" in printed and "bunny:" in printed


def test_bench_points_quick_runs():
    res = _script("tools/bench/bench_points.py").main(["--quick", "--batch", "2", "--points", "512", "--threads", "1"])
    assert all(r["ratio"] > 0 for r in res.values())
