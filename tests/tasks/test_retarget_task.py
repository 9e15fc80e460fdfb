"""RetargetTask through tools/train.py with the real config on a few files; the checkpoint it
leaves; the bone-length augmentation of the root trajectory."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from motion3d.features import Normalizer, build
from motion3d.io import bvh
from motion3d.paths import REPO_ROOT
from motion3d.tasks.context import ContextMismatch, MotionContext
from motion3d.tasks.retarget import RetargetTask, load_retarget_checkpoint, scale_trajectory

CONFIG = REPO_ROOT / "configs" / "retarget" / "bandai_cmu.yaml"


def train_tiny(root: Path, cache: Path, steps: int = 3, extra: tuple[str, ...] = ()) -> Path:
    """A few steps of the real config on a few files (small batches); the path of last.ckpt."""
    spec = importlib.util.spec_from_file_location("_tool_train", REPO_ROOT / "tools" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.set_num_threads(1)
    a, b = "--data.init_args.a.init_args.", "--data.init_args.b.init_args."
    mod.main(["fit", "-c", str(CONFIG), "--threads", "1", "--trainer.max_steps", str(steps),
              "--trainer.default_root_dir", str(root), "--trainer.limit_val_batches", "1",
              "--trainer.num_sanity_val_steps", "0", "--trainer.enable_progress_bar", "false",
              "--trainer.enable_model_summary", "false", "--model.init_args.decode_clips", "2",
              f"{a}roots", '["data:mocap/bandai-namco-1"]', f"{a}include", '["*_walk_*_001.bvh", "*_run_*_001.bvh"]',
              f"{a}split", "[0.8, 0.2, 0.0]", f"{a}batch_size", "4", f"{a}cache_dir", str(cache),
              f"{b}include", '["131_01.bvh", "131_02.bvh"]', f"{b}split", "[0.5, 0.5, 0.0]",
              f"{b}batch_size", "4", f"{b}cache_dir", str(cache), *extra])
    last = sorted(root.rglob("last.ckpt"))
    assert last, f"no last.ckpt under {root}"
    return last[-1]


@pytest.fixture(scope="module")
def ckpt(bandai_dir, cmu_dir, tmp_path_factory) -> Path:
    return train_tiny(tmp_path_factory.mktemp("retarget"), tmp_path_factory.mktemp("cache"))


def test_config_trains_and_checkpoint_carries_both_domains(ckpt, bandai_dir, cmu_dir):
    raw = torch.load(ckpt, map_location="cpu", weights_only=True)
    meta = raw["motion3d"]
    assert meta["task"] == "retarget" and raw["global_step"] == 3
    assert set(meta["contexts"]) == {"a", "b"} and meta["net"]["class_path"].endswith("RetargetNet")
    net, ctx, _ = load_retarget_checkpoint(ckpt)
    assert ctx["a"].skeleton.num_joints == 22 and ctx["b"].skeleton.num_joints == 31
    assert ctx["a"].normalizer.dim == ctx["a"].representation.dim == net.domain("a").layout.dim
    assert ctx["b"].skeleton.same_topology(bvh.read_header(cmu_dir / "131_03.bvh")[0])
    task = RetargetTask.load_from_checkpoint(ckpt, weights_only=True)
    assert task.net.factor == 4 and task.contexts["b"].window == 64
    # a checkpoint of another task is refused with its name
    raw["motion3d"]["task"] = "stylize"
    with pytest.raises(ContextMismatch, match="'stylize'"):
        load_retarget_checkpoint(raw)


def test_scale_trajectory_is_the_motion_on_a_scaled_skeleton(bandai_dir):
    m = bvh.load(sorted((bandai_dir / "data").glob("*walk_normal*.bvh"))[0])[:40]
    rep = build("rot6d", m.skeleton, fps=m.fps)
    feats = rep.encode(m)
    ctx = MotionContext(rep, Normalizer.fit(feats), {}, m.fps, 32)
    x = torch.from_numpy(ctx.normalizer.normalize(feats)).unsqueeze(0).double()
    s = 1.25
    scaled = ctx.normalizer.denormalize(scale_trajectory(ctx, x, torch.tensor([s])))
    big = build("rot6d", m.skeleton.scaled(s), fps=m.fps)
    p_big = big.decode_positions(scaled[0])
    p = rep.decode_positions(torch.from_numpy(feats).double())
    np.testing.assert_allclose(p_big.numpy(), s * p.numpy(), atol=1e-6 * m.skeleton.height())


def test_evaluate_tool_compares_naive_analytic_learned_on_held_out_files(ckpt, capsys):
    spec = importlib.util.spec_from_file_location("_tool_evaluate", REPO_ROOT / "tools" / "evaluate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    means = mod.main(["--ckpt", str(ckpt), "--split", "val", "--max-frames", "40"])
    gt = means["GT proportions (err/h^2)"]
    assert gt["analytic"] < 1e-9 and gt["learned"] > 0  # analytic is exact on proportion changes
    rows = [r for r in means if r.startswith("domain a -> b") or r.startswith("domain b -> a")]
    assert len(rows) == 6 and all(np.isfinite(v) for r in rows for v in means[r].values())
    assert "learned" in capsys.readouterr().out


def test_paired_datamodule_needs_one_window_and_fps():
    from motion3d.data.mocap import MocapDataModule
    from motion3d.data.paired import PairedDomainDataModule

    a = MocapDataModule("data:mocap/bandai-namco-1", window=64)
    with pytest.raises(ValueError, match="same window length"):
        PairedDomainDataModule(a, MocapDataModule("data:mocap/cmu", window=32))
    with pytest.raises(ValueError, match="same fps"):
        PairedDomainDataModule(a, MocapDataModule("data:mocap/cmu", window=64, fps=60))


def test_adversarial_option_trains_discriminators(tmp_path, bandai_dir, cmu_dir):
    path = train_tiny(tmp_path / "run", tmp_path / "cache", steps=2, extra=("--model.init_args.adversarial", "true"))
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert any(k.startswith("disc.a.") for k in raw["state_dict"]) and len(raw["optimizer_states"]) == 2
    task = RetargetTask.load_from_checkpoint(path, weights_only=True)
    assert task.disc is not None and set(task.disc) == {"a", "b"}
    net, _, _ = load_retarget_checkpoint(raw)
    assert not any(k.startswith("disc") for k in net.state_dict())
