"""CleanupTask: training steps lower the loss on corrupted windows; a checkpoint that loads with
load_checkpoint and cleans a clip of any length."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from motion3d.data.corrupt import corrupt_features
from motion3d.geometry.rotations import axis_angle_to_quat
from motion3d.models.motion import CleanupNet
from motion3d.motion import Motion
from motion3d.tasks import CleanupTask
from motion3d.tasks.checkpoint import load_checkpoint
from motion3d.tasks.cleanup import hidden_channels, net_input
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


def test_missing_weight_adds_the_error_on_the_missing_entries_alone():
    corruption = {"gaps": {"p": 1.0, "min_s": 0.2, "max_s": 0.3}}
    plain, x, g = tiny_task(corruption, 5)
    assert "missing" not in plain._step({"x": x}, g())
    ctx = tiny_context(window=20)
    torch.manual_seed(0)
    task = CleanupTask(CleanupNet(ctx.dim, width=32, blocks=2, levels=2), corruption=corruption, missing_weight=2.0)
    task.attach(ctx)
    losses = task._step({"x": x}, g())
    # the same network (same seed): the loss is the plain one plus twice the missing entries' error
    with torch.no_grad():
        xc, known, _ = corrupt_features(ctx.representation, ctx.normalizer, x, task.corruption, g())
        xi, ki = net_input(ctx, xc, known)
        correction, logits = task.net.parts(xi, ki)
        y = task.net.compose(xi, correction, logits, ki, straight_through=True)
    missing = ~ki & ~hidden_channels(ctx)
    assert bool(missing.any())
    assert float(losses["missing"]) == pytest.approx(float((y - x).abs()[missing].mean()), rel=1e-4)
    assert float(losses["loss"]) == pytest.approx(float(plain._step({"x": x}, g())["loss"]) + 2.0 * float(losses["missing"]),
                                                  rel=1e-4)
    with pytest.raises(ValueError, match="missing_weight"):
        CleanupTask(CleanupNet(10), missing_weight=-1.0)


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
    """With a cut-off, the network's root path keeps its fast part and takes its slow part from the
    capture; by default (no cut-off) it takes the capture's whole path where the root was measured."""
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
    anchored = trajectory_path(anchor_root(ctx, out, given, cutoff_hz=1.0)[0, :, rt:rt + 4].numpy())
    core = slice(10, T - 10)  # away from the filter's ends
    err = np.abs(anchored - (path + wiggle))[core][:, [0, 2, 3]].max()
    assert err < 0.01, err  # drift gone (it was up to 0.15), the 6 Hz wiggle kept
    assert np.abs(trajectory_path(out[0, :, rt:rt + 4].numpy()) - path)[core][:, 0].max() > 0.1
    whole = trajectory_path(anchor_root(ctx, out, given)[0, :, rt:rt + 4].numpy())
    np.testing.assert_allclose(whole[:, [0, 2, 3]], trajectory_path(given[0, :, rt:rt + 4].numpy())[:, [0, 2, 3]],
                               atol=1e-9)  # the default: drift and wiggle gone, the capture's path
    # every channel but the root's planar path and heading is the network's
    same = torch.ones(ctx.dim, dtype=torch.bool)
    same[rt + 1:rt + 4] = False
    for cutoff in (1.0, math.inf):
        assert torch.equal(anchor_root(ctx, out, given, cutoff_hz=cutoff)[..., same], out[..., same])
    assert torch.equal(anchor_root(ctx, out, given, cutoff_hz=0), out)
    # a root gap (frames 30-39): the input's path there is a stand-in (the last position held), after it
    # a measurement again; the network's path bends off by up to 0.3 inside the gap and stays 0.3 off
    known = torch.ones(1, T, ctx.dim, dtype=torch.bool)
    known[0, 30:40, rt:rt + 4] = False
    known[0, 40, rt + 1:rt + 4] = False  # the step into frame 40 starts in the gap (net_input's mask)
    lerp = path.copy()
    lerp[30:40] = path[29]
    given_gap = given.clone()
    given_gap[0, :, rt:rt + 4] = torch.from_numpy(path_trajectory(lerp))
    ramp = np.zeros_like(path)
    ramp[30:41, 0] = np.linspace(0.3 / 11, 0.3, 11)
    ramp[41:, 0] = 0.3
    off = given.clone()
    off[0, :, rt:rt + 4] = torch.from_numpy(path_trajectory(path + ramp))
    held = trajectory_path(anchor_root(ctx, off, given_gap, 1.0, known=known)[0, :, rt:rt + 4].numpy())
    followed = trajectory_path(anchor_root(ctx, off, given_gap, 1.0)[0, :, rt:rt + 4].numpy())
    held_whole = trajectory_path(anchor_root(ctx, off, given_gap, known=known)[0, :, rt:rt + 4].numpy())
    assert np.abs(held_whole - path)[:, [0, 2, 3]].max() < 1e-3  # the default holds the gap the same way
    # with the mask: reconnected at the gap's end (the ramp was an even drift: all of it goes) and
    # not pulled onto the input's stand-in inside the gap
    assert np.abs(held - path)[5:T - 5][:, [0, 2, 3]].max() < 1e-3
    assert np.abs(lerp - path)[30:40, 2].max() > 0.3  # (the stand-in is off the true path)
    # without it: pulled towards the stand-in, the offset fading only at the anchor's 1 Hz
    assert np.abs(followed - path)[5:T - 5][:, [0, 2]].max() > 0.03


def test_net_input_reconnects_the_root_across_a_gap():
    """A root gap that known frames follow: the filled path lands where the capture has the root
    after it (interpolating the velocity channels alone would shift the rest of the window)."""
    from motion3d.features.trajectory import path_trajectory, trajectory_path
    from motion3d.ops.filters import fill_gaps

    ctx = tiny_context(window=60)
    T, fps = 60, 30.0
    t = np.arange(T) / fps
    path = np.stack([0.5 * np.sin(2 * t), 0.9 + 0.0 * t, 1.5 * t + 0.3 * t ** 2, 0.8 * np.sin(1.5 * t)], -1)
    rt = ctx.representation.slice("root_height").start
    f = np.zeros((1, T, ctx.dim))
    f[0, :, rt:rt + 4] = path_trajectory(path)
    x = ctx.normalizer.normalize(torch.from_numpy(f)).float()
    known = torch.ones(1, T, ctx.dim, dtype=torch.bool)
    known[0, 20:35, rt:rt + 4] = False  # 0.5 s without the root (x keeps the clean steps there)
    known[0, 52:, rt:rt + 4] = False  # and the last 8 frames: nothing after it to land on
    xi, ki = net_input(ctx, x, known)
    # a step is known where the root is known at both of its frames
    assert not bool(ki[0, 20:36, rt + 1:rt + 4].any()) and bool(ki[0, 36, rt + 1:rt + 4].all())
    assert not bool(ki[0, 20:35, rt].any()) and bool(ki[0, 35, rt].all())
    def traj(z):
        return trajectory_path(ctx.normalizer.denormalize(z.double())[0, :, rt:rt + 4].numpy())
    got = traj(xi)
    np.testing.assert_allclose(got[35:52], path[35:52] - path[0] + got[0], atol=1e-5)  # lands exactly
    assert np.abs(got[20:35] - path[20:35])[:, [0, 2]].max() > 1e-3  # inside: an interpolation
    # the velocities alone, interpolated: the rest of the window is off by centimetres
    plain = fill_gaps(x, ki, dim=-2)
    assert np.abs(traj(plain)[35:52] - path[35:52])[:, [0, 2]].max() > 0.01
    # the trailing gap holds the last measured step (an extrapolation), as the plain fill does
    np.testing.assert_allclose(xi[0, 52:, rt + 1:rt + 4].numpy(), plain[0, 52:, rt + 1:rt + 4].numpy(), atol=1e-6)




def test_cleaner_keeps_the_root_where_the_capture_has_it_after_a_root_gap(tmp_path):
    """A 0.5 s root gap in an accelerating, weaving walk: after the gap the cleaned root is the
    capture's (an untrained network passes its input through), not shifted by the gap's filling
    (8.5 units off before the root was reconnected)."""
    from motion3d.motion import Motion

    cleaner = Cleaner.load(make_checkpoint(tmp_path / "c.ckpt", steps=0))
    base = tiny_clip(75)
    t = np.arange(75) / 30.0
    root = base.root_positions.copy()
    root[:, 0], root[:, 2] = 20 * np.sin(3 * t), 50 * t + 60 * t ** 2
    clip = Motion(base.skeleton, base.rotations, root, 30.0, name="weave")
    missing = np.zeros((75, 10), bool)
    missing[30:45, 9] = True  # column J: the root position
    out = cleaner.clean(clip, missing).root_positions
    assert np.abs(out - root)[45:, [0, 2]].max() < 0.05
    assert np.abs(out - root)[30:45, [0, 2]].max() < 1.0  # the filled gap stays near the true path


def test_gate_loss_focal_weights_hard_channels():
    import torch.nn.functional as F

    from motion3d.tasks.cleanup import gate_loss

    logits = torch.tensor([4.0, 0.2, -4.0, 0.5])
    target = torch.tensor([1.0, 1.0, 0.0, 0.0])
    assert torch.allclose(gate_loss(logits, target), F.binary_cross_entropy_with_logits(logits, target))
    per = torch.stack([gate_loss(logits[i:i + 1], target[i:i + 1], 2.0) /
                       F.binary_cross_entropy_with_logits(logits[i:i + 1], target[i:i + 1]) for i in range(4)])
    p = torch.sigmoid(logits)
    p_t = torch.where(target > 0, p, 1 - p)
    assert torch.allclose(per, (1 - p_t) ** 2)  # an easy channel (p_t 0.98) counts 1/600 of a hard one
    assert float(per[0]) < float(per[1]) / 500
    with pytest.raises(ValueError, match="gate_focal"):
        CleanupTask(CleanupNet(10), gate_focal=-1.0)


def test_repair_refills_the_joints_the_gate_opened_on_in_a_second_pass():
    from motion3d.ops.filters import fill_gaps
    from motion3d.tasks.cleanup import repair

    ctx = tiny_context(window=30)
    x = ctx.encode(tiny_clip(30))[None].float()  # (1, 30, D) normalised
    rs = ctx.representation.slice("rotations")
    spiked = list(range(rs.start + 2 * 6, rs.start + 3 * 6))  # body joint 2
    shaky = list(range(rs.start + 4 * 6, rs.start + 5 * 6))  # body joint 4
    xc = x.clone()
    xc[0, 10:12, spiked] += 3.0
    calls = []

    def run(xi, ki):
        calls.append((xi.clone(), ki.clone()))
        logits = torch.full_like(xi, -5.0)
        if len(calls) == 1:
            logits[0, 10:12, spiked[1]] = 5.0  # one channel of the joint is enough
            logits[0, :, shaky[0]] = 5.0  # opened on every frame (jitter): left to the first pass
        return xi.clone(), logits

    out = repair(ctx, run, xc, threshold=1.0, anchor_hz=0.0, refill_s=0.5)  # runs up to 15 frames
    assert len(calls) == 2
    (x1, k1), (x2, k2) = calls
    refilled = k1 & ~k2
    expect = torch.zeros_like(refilled)
    expect[0, 10:12, spiked] = True
    assert torch.equal(refilled, expect)  # the whole joint, those two frames, nothing else
    interp = fill_gaps(xc, ~expect, dim=-2)
    assert torch.allclose(out["cleaned"][0, 10:12, spiked], interp[0, 10:12, spiked], atol=1e-5)
    assert float((out["cleaned"] - x)[0, 10:12, spiked].abs().max()) < 0.5  # the +3 spike is gone
    assert torch.equal(out["cleaned"][~expect], x1[~expect])  # everything else: the first pass
    calls.clear()
    repair(ctx, run, xc, threshold=1.0, anchor_hz=0.0, refill_s=0.0)
    assert len(calls) == 1


def test_repair_also_refills_the_rotation_spikes_a_hampel_identifier_finds():
    """A spike on one joint that the gate misses: :func:`rotation_spikes` finds it (that joint, those
    frames, nothing else) and the second pass refills it; ``rotation_spike=None``: one pass."""
    from motion3d.tasks.cleanup import ROTATION_SPIKE, repair, rotation_spikes

    ctx = tiny_context(window=30)
    x = ctx.encode(tiny_clip(30))[None].float()  # (1, 30, D) normalised
    rs = ctx.representation.slice("rotations")
    spiked = list(range(rs.start + 2 * 6, rs.start + 3 * 6))  # body joint 2
    known = torch.ones_like(x, dtype=torch.bool)
    assert not rotation_spikes(ctx, x, known, 15).any()  # clean capture: nothing
    xc = x.clone()
    f = ctx.normalizer.denormalize(xc)
    f[0, 10:12, spiked] = -f[0, 10:12, spiked]  # the joint turned half-way round for two frames
    xc = ctx.normalizer.normalize(f)
    found = rotation_spikes(ctx, xc, known, 15)
    expect = torch.zeros_like(found)
    expect[0, 10:12, spiked] = True
    assert torch.equal(found, expect)
    assert not rotation_spikes(ctx, xc, known, 1).any()  # a run of 2 frames is longer than 1
    unknown = known.clone()
    unknown[0, 10, spiked] = False
    assert not rotation_spikes(ctx, xc, unknown, 15)[0, 10].any()  # a gap is not a spike
    calls = []

    def run(xi, ki):  # a gate that finds nothing
        calls.append(ki.clone())
        return xi.clone(), torch.full_like(xi, -5.0)

    out = repair(ctx, run, xc, threshold=1.0, anchor_hz=0.0, refill_s=0.5)
    assert len(calls) == 2 and torch.equal(calls[0] & ~calls[1], expect)
    err = float((out["cleaned"] - x)[0, 10:12, spiked].abs().max())
    assert err < 0.5 * float((xc - x)[0, 10:12, spiked].abs().max())
    calls.clear()
    repair(ctx, run, xc, threshold=1.0, anchor_hz=0.0, refill_s=0.5, rotation_spike=None)
    assert len(calls) == 1
    assert ROTATION_SPIKE == 0.3


def test_anchor_root_despikes_the_networks_own_root():
    """A root spike the network let through (two frames off by 10 % of the height, in the planar path
    and in the height) is interpolated from its neighbours; a clean output path passes exactly."""
    from motion3d.features.trajectory import path_trajectory, trajectory_path
    from motion3d.tasks.cleanup import ANCHOR_SPIKE, anchor_root

    ctx = tiny_context(window=60)
    T, fps = 60, 30.0
    t = np.arange(T) / fps
    h = float(ctx.skeleton.height())
    path = np.stack([0.1 * h * np.sin(t), 0.5 * h + 0 * t, 0.5 * h * t, 0.2 * np.sin(0.5 * t)], -1)
    rt = ctx.representation.slice("root_height").start
    given = torch.zeros(1, T, ctx.dim, dtype=torch.float64)
    given[0, :, rt:rt + 4] = torch.from_numpy(path_trajectory(path))
    given[0, :, rt] = 0.5 * h
    spiked = path.copy()
    spiked[30:32, 0] += 5 * ANCHOR_SPIKE * h
    out = given.clone()
    out[0, :, rt:rt + 4] = torch.from_numpy(path_trajectory(spiked))
    out[0, :, rt] = 0.5 * h
    out[0, 30:32, rt] += 5 * ANCHOR_SPIKE * h
    for despike in (True, False):  # with a cut-off (by default the planar path is the capture's anyway)
        y = anchor_root(ctx, out, given, 1.0, despike_output=despike)[0]
        err = np.abs(trajectory_path(y[:, rt:rt + 4].numpy()) - path)[:, 0].max()
        height_err = float((y[:, rt] - 0.5 * h).abs().max())
        if despike:
            assert err < 1e-3 * h and height_err < 1e-9, (err, height_err)
        else:  # the spike stays where the network put it
            assert err > 4 * ANCHOR_SPIKE * h and height_err > 4 * ANCHOR_SPIKE * h
    y = anchor_root(ctx, out, given)[0]
    assert np.abs(trajectory_path(y[:, rt:rt + 4].numpy()) - path)[:, 0].max() < 1e-3 * h
    assert float((y[:, rt] - 0.5 * h).abs().max()) < 1e-9  # the height: the network's, despiked
    clean = anchor_root(ctx, given, given, despike_output=True)
    np.testing.assert_allclose(clean[0, :, rt:rt + 4].numpy(), given[0, :, rt:rt + 4].numpy(), atol=1e-9)


def test_smooth_broadband_lowpasses_only_rotation_channels_changed_almost_everywhere():
    from motion3d.ops.filters import butterworth
    from motion3d.tasks.cleanup import smooth_broadband

    ctx = tiny_context(window=30)
    x = ctx.encode(tiny_clip(60))[None].float()  # (1, 60, D) normalised
    rs = ctx.representation.slice("rotations")
    noisy, spiked, root = rs.start + 6, rs.start + 13, 0
    g = torch.Generator().manual_seed(0)
    y = x.clone()
    y[0, :, noisy] += 0.3 * torch.randn(60, generator=g)  # broadband: every frame
    y[0, 20:22, spiked] += 2.0  # a spike: two frames
    y[0, :, root] += 0.3 * torch.randn(60, generator=g)  # the root: left to anchor_root
    assert torch.equal(smooth_broadband(ctx, x.clone(), x), x)  # nothing changed: nothing filtered
    out = smooth_broadband(ctx, y, x)
    expect = torch.from_numpy(butterworth(y[0, :, noisy].double().numpy(), ctx.fps).copy()).float()
    assert torch.allclose(out[0, :, noisy], expect, atol=1e-5)
    assert (out[0, :, noisy] - x[0, :, noisy]).abs().mean() < 0.8 * (y[0, :, noisy] - x[0, :, noisy]).abs().mean()
    others = torch.ones(y.shape[-1], dtype=torch.bool)
    others[noisy] = False
    assert torch.equal(out[..., others], y[..., others])  # the spike, the root and the rest: exactly


def test_smooth_broadband_smooths_the_root_path_where_most_rotation_channels_are():
    """Jitter on every rotation channel and on the root position: the root path (positions, height
    included) goes through the classical filter there, the heading does not; ``root=None``: the
    root is returned exactly."""
    from motion3d.features.trajectory import trajectory_path
    from motion3d.ops.filters import savgol
    from motion3d.tasks.cleanup import BROADBAND_ROOT, smooth_broadband

    assert BROADBAND_ROOT == "savgol"
    ctx = tiny_context(window=30)
    x = ctx.encode(tiny_clip(60))[None].float()  # (1, 60, D) normalised
    rs = ctx.representation.slice("rotations")
    g = torch.Generator().manual_seed(0)
    y = x.clone()
    y[0, :, rs] += 0.2 * torch.randn(60, rs.stop - rs.start, generator=g)
    y[0, :, 0:3] += 0.3 * torch.randn(60, 3, generator=g)  # height and planar velocity
    norm = ctx.normalizer
    path = lambda f: trajectory_path(norm.denormalize(f[0].double()).numpy()[:, 0:4])  # noqa: E731
    out = smooth_broadband(ctx, y, x)
    expect = savgol(path(y)[:, 0:3], axis=0)
    expect[:, [0, 2]] -= expect[0, [0, 2]]  # a decoded path starts at the origin
    np.testing.assert_allclose(path(out)[:, 0:3], expect, atol=1e-4)
    np.testing.assert_allclose(path(out)[:, 3], path(y)[:, 3], atol=1e-6)  # the heading kept
    rough = lambda p: np.abs(np.diff(p[:, 0:3], 2, axis=0)).mean()  # noqa: E731
    assert rough(path(out)) < 0.5 * rough(path(y))  # smoother
    assert torch.equal(smooth_broadband(ctx, y, x, root=None)[..., 0:4], y[..., 0:4])


def test_remove_drift_takes_a_sliding_drift_off_a_real_walk_and_leaves_a_clean_one(mocap_dir):
    from motion3d.features import Normalizer, build
    from motion3d.features.trajectory import path_trajectory, trajectory_path
    from motion3d.io import bvh
    from motion3d.tasks.cleanup import remove_drift
    from motion3d.tasks.context import MotionContext

    walk = bvh.load(mocap_dir / "bandai-namco-2" / "data" / "dataset-2_walk_normal_001.bvh")
    rep = build("rot6d", walk.skeleton, fps=walk.fps)
    ctx = MotionContext(rep, Normalizer(np.zeros(rep.dim), np.ones(rep.dim)), {}, walk.fps, 60)
    x = ctx.encode(walk)[None].double()  # (1, T, D), identity statistics
    assert torch.equal(remove_drift(ctx, x), x)  # clean capture: returned exactly
    # the body drifts at 0.1 body heights / s while a foot is planted (contacts: the features' own)
    f = x.numpy().copy()
    planted = f[0, :, rep.slice("contacts")].max(-1) > 0.5
    h = float(walk.skeleton.height())
    path = trajectory_path(f[..., 0:4])
    path[0, :, [0, 2]] += (np.cumsum(planted[:, None] * np.array([0.6, -0.8]) * 0.1 * h / walk.fps, 0)).T
    f[..., 0:4] = path_trajectory(path, like=f[..., 0:4])
    drifted = torch.from_numpy(f)
    fixed = remove_drift(ctx, drifted)
    clean_root = ctx.decode_positions(x)[0, :, rep.pelvis]
    before = (ctx.decode_positions(drifted)[0, :, rep.pelvis] - clean_root).norm(dim=-1).mean()
    after = (ctx.decode_positions(fixed)[0, :, rep.pelvis] - clean_root).norm(dim=-1).mean()
    assert after < 0.3 * before
    # only the root's planar velocity changed
    keep = torch.ones(rep.dim, dtype=torch.bool)
    keep[1:3] = False
    assert torch.equal(fixed[..., keep], drifted[..., keep])
