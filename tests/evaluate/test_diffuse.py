"""Evaluation of ``diffuse`` checkpoints: the root-path and sparse-joint tables on a tiny checkpoint
trained a few steps (rows, columns, finite numbers; the given root path kept)."""
from __future__ import annotations

import math

import pytest
import torch

from tests.tools.test_train_motion import _fit, _tool

SMALL = ["--model.init_args.net.init_args.dim", "32", "--model.init_args.net.init_args.layers", "1",
         "--model.init_args.net.init_args.ff_dim", "64", "--model.init_args.net.init_args.sample_steps", "4"]
FAST = ["--split", "val", "--limit", "4", "--batch-size", "4", "--steps", "3", "--skip-generation", "--gaps",
        "--horizon", "0", "--device", "cpu"]


@pytest.fixture(scope="module")
def diffusion_ckpt(bandai_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("diffusion_eval")
    return _fit("diffusion", root / "run", root / "cache", extra=SMALL)


def test_root_path_and_sparse_joint_tables(diffusion_ckpt, capsys):
    res = _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *FAST, "--nn-poses", "2000"])
    out = capsys.readouterr().out
    assert set(res) == {"task", "root_path", "sparse_joints"}
    root = res["root_path"]
    assert root["unit"] == "cm" and root["windows"] == 4
    # the root trajectory channels are given at every frame and kept exactly (imputation): the decoded
    # root joint follows the given window's (stated tolerance 0.01 cm; float32 decoding of the same channels)
    assert 0.0 <= root["root_error"] < 0.01
    skate = root["foot_skate"]
    assert all(math.isfinite(v) for v in skate.values()) and skate["real"] > 0
    assert skate["ratio"] == pytest.approx(skate["generated"] / skate["real"])
    assert "root path" in out and "diffusion (ours)" in out and "real clips" in out
    # the feet planted by the refinement (--plant-steps, default 100): the root path still kept
    planted = root["planted"]
    assert planted["steps"] == 100 and 0.0 <= planted["root_error"] < 0.01
    assert math.isfinite(planted["foot_skate"]["generated"]) and planted["foot_skate"]["real"] == skate["real"]
    assert "feet planted (100 steps)" in out
    sparse = res["sparse_joints"]
    assert sparse["unit"] == "cm" and sparse["windows"] == 4 and 0 < sparse["training_poses"] <= 2000
    assert sparse["joints"] == ["Head", "Hand_L", "Hand_R", "Foot_L", "Foot_R"]  # head, hands, feet by role
    for name in ("diffusion", "diffusion_mean_of_4", "nearest_pose"):
        row = sparse[name]
        assert set(row) == {"constraint", "mpjpe_other", "mpjpe_other_root_relative"}
        assert all(math.isfinite(v) and v >= 0 for v in row.values())
    # the baseline's chosen pose is placed at the real root: a real pose would give 0 everywhere, so
    # its errors are those of the nearest training pose alone
    assert sparse["nearest_pose"]["mpjpe_other"] > 0
    assert "nearest training pose" in out and "REAL root position" in out


def test_tables_can_be_skipped_and_joints_chosen(diffusion_ckpt, capsys):
    res = _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *FAST, "--skip-root-path", "--joints", "head",
                                  "--guide-iters", "1", "--nn-poses", "500"])
    assert set(res) == {"task", "sparse_joints"} and len(res["sparse_joints"]["joints"]) == 1
    assert set(res["sparse_joints"]) >= {"diffusion", "diffusion_mean_of_4", "nearest_pose"}
    res = _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *FAST, "--joints", "head", "--mean-of", "0",
                                  "--plant-steps", "0", "--guide-iters", "1", "--nn-poses", "500"])
    assert "planted" not in res["root_path"] and "diffusion_mean_of_4" not in res["sparse_joints"]
    res = _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *FAST, "--skip-root-path", "--joints"])
    assert set(res) == {"task"}
    with pytest.raises(ValueError, match="unknown joint 'tail'"):
        _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *FAST, "--skip-root-path", "--joints", "tail"])


def test_prediction_table_prints_the_root_relative_baselines_once(diffusion_ckpt, capsys):
    """Issue 17 item 13: root-relative, zero- and constant-velocity are one row, with the reason."""
    fast = [a for a in FAST if a not in ("--horizon", "0")]
    res = _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *fast, "--skip-root-path", "--joints",
                                  "--observe", "20", "--horizon", "10"])
    out = capsys.readouterr().out
    root = res["prediction"]["root"]
    assert root["zero_velocity"] == pytest.approx(root["constant_velocity"], rel=1e-6)   # by construction
    assert res["prediction"]["global"]["zero_velocity"] != res["prediction"]["global"]["constant_velocity"]
    table = out[out.index("MPJPE root-relative"):]
    rows = [line.split("  ")[0] for line in table.splitlines()[1:4]]
    assert "zero- = constant velocity" in rows and "constant velocity" not in rows and "zero-velocity" not in rows
    assert "moves the root only" in out


def test_inbetween_table_samples_the_models_window_and_keeps_the_keyframes(diffusion_ckpt, capsys, monkeypatch):
    """The model generates the window it was trained on (the frames after the target unknown, then
    dropped); the context and target frames it is given are its output's; every row is finite."""
    from motion3d.models.motion import MotionDiffusion
    calls = []
    sample = MotionDiffusion.sample

    def spy(self, n, length, labels=None, **kw):
        out = sample(self, n, length, labels, **kw)
        calls.append((length, kw["constraints"]["mask"], kw["constraints"]["values"], out, kw.get("samples", 1)))
        return out

    monkeypatch.setattr(MotionDiffusion, "sample", spy)
    fast = [a for a in FAST if a != "--gaps"]
    res = _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *fast, "--skip-root-path", "--joints", "--gaps", "5"])
    rows = res["inbetween"][5]
    assert set(rows) == {"diffusion (ours)", "diffusion, mean of 4", "interpolation", "zero-velocity"}  # --mean-of 4
    assert all(math.isfinite(v) and v >= 0 for row in rows.values() for v in row.values())
    window = 10 + 5 + 1
    for (length, mask, values, out, samples), want in zip(calls, (1, 4)):
        assert samples == want  # one draw, then the mean of four
        assert length == 60 > window  # the checkpoint's window (tools/train.py's default data), not 16 frames
        known = mask.all(-1)[0]
        assert known[:10].all() and known[window - 1] and not known[10:window - 1].any() and not known[window:].any()
        assert torch.equal(out[mask], values[mask])
    assert "in-betweening (LaFAN1 protocol)" in capsys.readouterr().out
    calls.clear()
    res = _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *fast, "--skip-root-path", "--joints", "--gaps", "5",
                                  "--mean-of", "1"])
    assert set(res["inbetween"][5]) == {"diffusion (ours)", "interpolation", "zero-velocity"} and len(calls) == 1


def test_sampler_and_guidance_reach_the_model(diffusion_ckpt, monkeypatch):
    from motion3d.models.motion import MotionDiffusion
    seen = []
    original = MotionDiffusion.sample

    def recording(self, *a, **kw):
        seen.append((kw.get("sampler"), kw.get("guidance")))
        return original(self, *a, **kw)

    monkeypatch.setattr(MotionDiffusion, "sample", recording)
    _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *FAST, "--joints", "--sampler", "ddpm", "--guidance", "0.5"])
    assert seen and set(seen) == {("ddpm", 0.5)}  # the root-path table sampled with both
    with pytest.raises(SystemExit):
        _tool("evaluate").main(["--ckpt", str(diffusion_ckpt), *FAST, "--joints", "--sampler", "euler"])
