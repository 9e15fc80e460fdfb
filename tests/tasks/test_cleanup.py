"""CleanupTask: training steps lower the loss on corrupted windows; a checkpoint that loads with
load_checkpoint and cleans a clip of any length."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from motion3d.geometry.rotations import axis_angle_to_quat
from motion3d.models.motion import CleanupNet
from motion3d.motion import Motion
from motion3d.tasks import CleanupTask
from motion3d.tasks.checkpoint import load_checkpoint
from motion3d.tasks.cleanup import net_input
from motion3d.tasks.cleanup_clips import Cleaner, cleanup_report, known_channels
from tests.tasks.helpers import tiny_context, tiny_skeleton


def tiny_clip(frames: int = 50, fps: float = 30.0) -> Motion:
    """A swinging-legs clip on the tiny skeleton, walking forward."""
    t = np.arange(frames) / fps
    aa = np.zeros((frames, 9, 3))
    aa[:, 3, 0] = 0.4 * np.sin(2 * np.pi * t)
    aa[:, 6, 0] = -0.4 * np.sin(2 * np.pi * t)
    q = axis_angle_to_quat(torch.as_tensor(aa)).numpy()
    root = np.stack([np.zeros(frames), np.full(frames, 90.0), 50 * t], 1)
    return Motion(tiny_skeleton(), q, root, fps, name="tiny")


def make_checkpoint(path: Path, steps: int = 3) -> Path:
    """A 'cleanup' checkpoint on the tiny context after a few training steps."""
    ctx = tiny_context(window=20)
    torch.manual_seed(0)
    task = CleanupTask(CleanupNet(ctx.dim, width=16, blocks=2, levels=2), weights={"velocity": 1.0},
                       corruption={"jitter": {"p": 1.0}, "gaps": {"p": 0.5}})
    task.attach(ctx)
    x = ctx.encode(tiny_clip(40))[None].repeat(4, 1, 1)[:, :20]
    opt = torch.optim.Adam(task.net.parameters(), 1e-3)
    for _ in range(steps):
        loss = task._step({"x": x})["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    ckpt = {"state_dict": task.state_dict()}
    task.on_save_checkpoint(ckpt)
    torch.save(ckpt, path)
    return path


def tiny_task(corruption: dict, seed: int) -> tuple[CleanupTask, torch.Tensor, callable]:
    """A small task on the tiny context, 8 windows of the tiny clip, and a fixed-generator factory."""
    ctx = tiny_context(window=20)
    torch.manual_seed(0)
    task = CleanupTask(CleanupNet(ctx.dim, width=32, blocks=2, levels=2), corruption=corruption)
    task.attach(ctx)
    x = ctx.encode(tiny_clip(40))[None].repeat(8, 1, 1)[:, :20]
    return task, x, lambda: torch.Generator().manual_seed(seed)


def train_steps(task: CleanupTask, x: torch.Tensor, g, steps: int) -> None:
    """``steps`` Adam steps on the same corrupted batch."""
    opt = torch.optim.Adam(task.net.parameters(), 3e-3)
    for _ in range(steps):
        loss = task._step({"x": x}, g())["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_training_steps_lower_the_loss_and_validation_is_fixed():
    task, x, g = tiny_task({"jitter": {"p": 1.0, "rotation_deg": 20.0, "position": 0.02}}, 7)
    first = float(task._step({"x": x}, g())["loss"])
    assert first == float(task._step({"x": x}, g())["loss"])
    train_steps(task, x, g, 30)
    assert float(task._step({"x": x}, g())["loss"]) < 0.97 * first  # 30 small steps on a 2-block net: a clear, not a large, drop
    assert task.hparams["corruption"]["jitter"]["p"] == 1.0


def test_gate_learns_which_channels_the_corruption_changed():
    """Spikes on a few frames: the gate's target is those channels; after training steps the gate
    error falls and the loss reports it."""
    task, x, g = tiny_task({"spikes": {"p": 1.0, "rate": 0.1, "joints": 0.5}}, 3)
    first = task._step({"x": x}, g())
    assert {"gate", "gate_error"} <= set(first)
    train_steps(task, x, g, 250)
    last = task._step({"x": x}, g())
    # ~11 % of the known channels are spiked: a gate that never opens is 0.11 wrong
    assert float(last["gate"]) < 0.3 * float(first["gate"]) and float(last["gate_error"]) < 0.05


def test_net_input_fills_gaps_and_hides_contacts():
    ctx = tiny_context()
    x = torch.arange(10.0)[None, :, None].expand(1, 10, ctx.dim).clone()
    known = torch.ones_like(x, dtype=torch.bool)
    known[:, 3:6] = False
    xi, ki = net_input(ctx, x, known)
    cs = ctx.representation.slice("contacts")
    assert torch.allclose(xi[..., :4], x[..., :4]) and not bool(ki[..., cs].any()) and float(xi[..., cs].abs().max()) == 0


def test_checkpoint_loads_and_cleans_any_length(tmp_path):
    path = make_checkpoint(tmp_path / "c.ckpt")
    assert load_checkpoint(path)["motion3d"]["task"] == "cleanup"
    cleaner = Cleaner.load(path)
    clip = tiny_clip(75)
    missing = np.zeros((75, 10), bool)
    missing[30:40, 4] = True
    out = cleaner.clean(clip, missing)
    assert out.num_frames == 75 and np.isfinite(out.rotations).all()
    known = known_channels(cleaner.ctx, missing)
    assert int((~known).sum()) == 10 * 6
    rep = cleanup_report(clip, out, missing)
    assert rep["frames"] == 75 and rep["gap_frames"] == 10 and rep["repaired_frames"] >= 10


def test_anchor_root_removes_slow_drift_and_keeps_fast_corrections():
    """The network's root path keeps its fast part and takes its slow part from the capture."""
    from motion3d.features.trajectory import path_trajectory, trajectory_path
    from motion3d.tasks.cleanup import anchor_root

    ctx = tiny_context(window=90)
    T, fps = 90, 30.0
    t = np.arange(T) / fps
    path = np.stack([0.2 * np.sin(t), 0.9 + 0.01 * np.sin(3 * t), 1.2 * t, 0.3 * np.sin(0.5 * t)], -1)  # x, y, z, heading
    rt = ctx.representation.slice("root_height").start
    given = torch.zeros(1, T, ctx.dim, dtype=torch.float64)
    given[0, :, rt:rt + 4] = torch.from_numpy(path_trajectory(path))
    np.testing.assert_allclose(trajectory_path(given[0, :, rt:rt + 4].numpy())[1:, [0, 2, 3]] - path[0, [0, 2, 3]],
                               path[1:, [0, 2, 3]] - path[0, [0, 2, 3]], atol=1e-9)  # path <-> channels
    # the network's output: a velocity bias (a drift of 0.15 over 3 s) plus a fast wiggle it added
    drift = np.stack([0.05 * t, 0 * t, 0 * t, 0.02 * t], -1)
    wiggle = np.stack([0.01 * np.sin(2 * np.pi * 6 * t), 0 * t, 0 * t, 0 * t], -1)
    out = given.clone()
    out[0, :, rt:rt + 4] = torch.from_numpy(path_trajectory(path + drift + wiggle))
    anchored = trajectory_path(anchor_root(ctx, out, given)[0, :, rt:rt + 4].numpy())
    core = slice(10, T - 10)  # away from the filter's ends
    err = np.abs(anchored - (path + wiggle))[core][:, [0, 2, 3]].max()
    assert err < 0.01, err  # drift gone (it was up to 0.15), the 6 Hz wiggle kept
    assert np.abs(trajectory_path(out[0, :, rt:rt + 4].numpy()) - path)[core][:, 0].max() > 0.1
    # every channel but the root's planar path and heading is the network's
    same = torch.ones(ctx.dim, dtype=torch.bool)
    same[rt + 1:rt + 4] = False
    assert torch.equal(anchor_root(ctx, out, given)[..., same], out[..., same])
    assert torch.equal(anchor_root(ctx, out, given, cutoff_hz=0), out)
    # a root gap (frames 30-39) whose filled-in input path ends 0.3 off: the input's offset after
    # the gap is not followed where the mask says the root was missing there
    offset = np.zeros_like(path)
    offset[30:40, 0] = np.linspace(0.03, 0.3, 10)
    offset[40:, 0] = 0.3
    given_gap = given.clone()
    given_gap[0, :, rt:rt + 4] = torch.from_numpy(path_trajectory(path + offset))
    truth = given.clone()  # the network found the true path
    known = torch.ones(1, T, ctx.dim, dtype=torch.bool)
    known[0, 30:40, rt:rt + 4] = False
    after = slice(50, T - 10)
    followed = trajectory_path(anchor_root(ctx, truth, given_gap)[0, :, rt:rt + 4].numpy())
    held = trajectory_path(anchor_root(ctx, truth, given_gap, known=known)[0, :, rt:rt + 4].numpy())
    assert np.abs(followed - path)[after, 0].min() > 0.25  # without the mask: pulled onto the offset
    assert np.abs(held - path)[after, 0].max() < 1e-3  # with it: the network's path (0.3 off without)
