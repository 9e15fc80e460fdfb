"""Evaluation of ``cleanup`` checkpoints: a checkpoint trained a few steps on a subset of
Bandai-Namco (tools/train.py with configs/motion/cleanup.yaml), then tools/evaluate.py on a few val
windows: a table per corruption kind with the input, every classical filter and the model; clean
input untouched by the "input" row and changed by the filters; median filtering removes spikes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from motion3d.data.corrupt import KINDS
from motion3d.evaluate.cleanup import filter_trajectory
from motion3d.ops.filters import FILTERS
from tests.tools.test_train_motion import _fit, _tool

FAST = ["--split", "val", "--limit", "8", "--batch-size", "8", "--strengths", "1", "--device", "cpu"]


@pytest.fixture(scope="module")
def cleanup_ckpt(bandai_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("cleanup_eval")
    # smooth_sigma 0: a 3-step network's gate opens at random, and a low-passed base there would blur the
    # windows the foot-sliding assertions below compare (the evaluator's rows, not the network, are tested)
    return _fit("cleanup", root / "run", root / "cache", extra=["--model.init_args.net.init_args.smooth_sigma", "0"])


def test_tables_per_corruption_kind(cleanup_ckpt, capsys):
    res = _tool("evaluate").main(["--ckpt", str(cleanup_ckpt), *FAST])
    out = capsys.readouterr().out
    assert res["task"] == "cleanup" and res["windows"] == 8 and res["unit"] == "mm"
    tables = res["tables"]
    assert set(tables) == {"clean", *(f"{k}@1" for k in KINDS), "gaps=0.5s"}  # + the 0.5 s gaps
    model, one = "model (CleanupNet)", "model, one pass (no refill)"
    for kind in KINDS:
        rows = tables[f"{kind}@1"]
        inp = "input (linear / SLERP fill)" if kind == "gaps" else "input"
        expected = {inp, *FILTERS, model, one, "model, root not anchored", "model, no broadband low-pass",
                    "model, drift not removed", "model, no rotation Hampel", "(clean reference)"} | \
            ({"IK feet"} if kind == "foot_slide" else set())
        assert set(rows) == expected, kind
        for name, row in rows.items():
            assert set(row) == {"mpjpe", "angle", "jitter", "bone", "skate"}
            assert all(math.isfinite(v) and v >= 0 for v in row.values()), (kind, name, row)
        assert rows[inp]["mpjpe"] > 0, kind  # every window is corrupted (p = 1)
        assert rows["(clean reference)"]["mpjpe"] == 0.0
        assert f"{kind} x1" in out
    clean = tables["clean"]
    assert set(clean) == {"input", *FILTERS, model, one, "model, root not anchored", "model, no broadband low-pass",
                          "model, drift not removed", "model, no rotation Hampel", "(clean reference)"}
    assert clean["input"]["mpjpe"] == 0.0 and clean["input"]["angle"] == 0.0  # clean input given as it is
    for f in FILTERS:  # a filter changes clean capture (a little)
        assert 0.0 < clean[f]["mpjpe"] < 50.0, f
    # spikes: a running median removes single-frame outliers, far better than leaving them
    spikes = tables["spikes@1"]
    assert spikes["median"]["mpjpe"] < 0.8 * spikes["input"]["mpjpe"]
    assert spikes["median"]["jitter"] < spikes["input"]["jitter"]
    # jitter: the low-pass filter lowers the jitter the corruption added
    assert tables["jitter@1"]["butterworth"]["jitter"] < tables["jitter@1"]["input"]["jitter"]
    # foot sliding: the drift the planted feet share is taken off the root path (ops.slide), which
    # neither the filters nor the IK foot clean-up can do
    slide = tables["foot_slide@1"]
    assert slide[model]["mpjpe"] < 0.5 * min(slide[f]["mpjpe"] for f in (*FILTERS, "IK feet"))
    assert slide[model]["mpjpe"] < 0.5 * slide["model, drift not removed"]["mpjpe"]
    assert "clean input (pass-through)" in out and "model / best classical filter MPJPE" in out
    half = tables["gaps=0.5s"]  # every window has a gap of exactly 15 frames, filled linearly / by SLERP
    assert half["input (linear / SLERP fill)"]["mpjpe"] > 0 and "gaps of 0.5 s" in out
    assert "model / linear-SLERP filling MPJPE" in out
    assert "model / Butterworth (default cut-off) MPJPE on clean input" in out


def test_filter_trajectory_keeps_a_steady_path_and_removes_a_root_spike():
    """Filters act on the integrated root path: a steady straight walk is kept by every filter (no
    drift from filtering velocities), and the median removes a one-frame jump of the root."""
    T = 40
    traj = np.zeros((1, T, 4))
    traj[..., 0] = 90.0  # height
    traj[:, 1:, 2] = 4.0  # 4 units forward per frame, heading fixed
    for kind in FILTERS:  # (Butterworth: its edge padding moves the ends by < 0.1%)
        np.testing.assert_allclose(filter_trajectory(traj, kind, 30.0)[:, 1:], traj[:, 1:], atol=5e-3, err_msg=kind)
    spiked = traj.copy()
    spiked[:, 20, 1] += 10.0  # the root jumps sideways at frame 20 and back at frame 21
    spiked[:, 21, 1] -= 10.0
    np.testing.assert_allclose(filter_trajectory(spiked, "median", 30.0)[:, 1:], traj[:, 1:], atol=1e-6)
