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


def test_up_axis_by_convention_and_conversion(data_dir):
    import numpy as np

    from motion3d.data.pointclouds import load_shape
    from pathlib import Path

    sp = _script("viz/show_points.py")
    assert sp.guess_up(Path("x/ModelNet40/chair/a.npy")) == "z"
    assert sp.guess_up(Path("teapot.STL")) == "z" and sp.guess_up(Path("a.off")) == "z"
    assert sp.guess_up(Path("scan.pcd")) == "z"
    assert sp.guess_up(Path("bunny.ply")) == "y" and sp.guess_up(Path("model.obj")) == "y"
    sofa = require_data(data_dir / "pointclouds/modelnet10/sofa/train/sofa_0001.pcd")
    raw = load_shape(sofa, 512)
    pts, _ = sp.load_item(sofa, 512, sp.guess_up(sofa))
    # a sofa is long and low: stored Z up, its height (raw z) becomes the shown Y
    assert np.ptp(raw[:, 2]) < 0.5 * np.ptp(raw[:, 1])
    assert np.ptp(pts[:, 1]) == pytest.approx(np.ptp(raw[:, 2]), rel=1e-5)
    assert np.ptp(pts[:, 2]) == pytest.approx(np.ptp(raw[:, 1]), rel=1e-5)
    same, _ = sp.load_item(sofa, 512, "y")
    assert np.allclose(same, raw)
    teapot = data_dir / "meshes/teapot.stl"
    pts, mesh = sp.load_item(teapot, 256, "z")
    v, f = mesh
    assert v.shape[1] == 3 and f.shape[1] == 3
    assert np.ptp(v[:, 1]) < np.ptp(v[:, 0])  # a teapot is wider (spout to handle) than tall, now along Y


def test_max_says_what_it_left_out(data_dir, tmp_path, capsys):
    folder = require_data(data_dir / "pointclouds/modelnet10/sofa/train")
    total = len(list(folder.glob("*.pcd")))
    out = _script("viz/show_points.py").main([str(folder), "--max", "2", "--points", "128", "--offscreen",
                                              str(tmp_path / "s.png"), "--backend", "matplotlib"])
    printed = capsys.readouterr().out
    assert out.exists()
    assert f"showing 2 of {total} files; {total - 2} not shown" in printed
    assert "2 of 2 files taken as Z up" in printed


def test_open3d_labels_are_drawn_where_projected():
    import numpy as np

    sp = _script("viz/show_points.py")
    img = np.full((120, 160, 3), 255, np.uint8)
    eye, centre = np.array([0.0, 0.0, 5.0]), np.zeros(3)
    out = sp.draw_labels(img, ["left", "right"], np.array([[-1.0, 0.5, 0.0], [1.0, 0.5, 0.0]]), eye, centre, 45.0)
    dark = out.min(-1) < 128
    cols = np.nonzero(dark.any(0))[0]
    rows = np.nonzero(dark.any(1))[0]
    assert dark[:, :80].any() and dark[:, 80:].any()  # one label each side of the centre
    assert rows.max() < 60  # above the middle (anchors at y = +0.5)
    assert cols.min() > 5 and cols.max() < 155
