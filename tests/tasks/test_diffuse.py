"""DiffusionTask: the training controls, FK reconstruction guidance, a few training steps."""
from __future__ import annotations

from functools import partial

import pytest
import torch

from motion3d.models.motion import MotionDiffusion
from motion3d.tasks.context import ContextMismatch
from motion3d.tasks.diffuse import (DiffusionTask, joint_positions, plant_feet, plant_guide, position_guide,
                                   root_channels, tracker_joints, training_constraints)
from tests.tasks.helpers import tiny_context


def test_training_controls_by_kind():
    ctx = tiny_context()
    x = torch.randn(64, 20, ctx.dim)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    mask, values, joints = training_constraints(x, ctx, {"none": 1.0}, g())
    assert not mask.any() and not values.any() and not joints.any()
    mask, values, joints = training_constraints(x, ctx, {"prefix": 1.0}, g())
    n = mask.all(-1).sum(1)  # known frames per clip
    assert bool((n >= 1).all()) and bool((n <= 10).all()) and bool((mask.all(-1) == (torch.arange(20) < n[:, None])).all())
    assert torch.equal(values[mask], x[mask])
    # every joint of a known frame, in about three clips of four (KNOWN_FRAME_POSITIONS); never another frame
    with_pos = joints.any(-1).any(-1)
    assert 36 <= int(with_pos.sum()) <= 60
    assert torch.equal(joints, (mask.all(-1) & with_pos[:, None])[:, :, None].expand_as(joints))
    mask, _, _ = training_constraints(x, ctx, {"inbetween": 1.0}, g())
    known = mask.all(-1)
    assert torch.equal(known, mask.any(-1)) and bool(known[:, 0].all())  # whole frames, context from the start
    targets, trailing = set(), 0
    for k in known.tolist():
        context = k.index(False)  # the gap starts
        target = k.index(True, context)  # the target frame ends it
        after = k[target + 1:]
        assert 1 <= context <= 6 and (all(after) or not any(after))  # after the target: all known or none
        targets.add(target)
        trailing += bool(after) and all(after)
    assert 10 < trailing < 54 and len(targets) > 8  # both kinds; targets anywhere
    mask, _, joints = training_constraints(x, ctx, {"root": 1.0}, g())
    assert torch.equal(mask, root_channels(ctx).expand(64, 20, -1)) and int(root_channels(ctx).sum()) == 4
    assert not joints.any()
    mask, _, joints = training_constraints(x, ctx, {"joints": 1.0}, g())
    assert not mask.any() and bool(joints.any(-1).all())  # no features; some joint at every frame of every clip
    assert torch.equal(joints, joints[:, :1].expand_as(joints))  # the same joints all through a clip
    trackers = torch.zeros(ctx.skeleton.num_joints, dtype=torch.bool)
    trackers[tracker_joints(ctx.skeleton, ["head", "feet"])] = True  # the groups this skeleton has (no hands)
    sets = joints[:, 0]
    n_trackers = int((sets == trackers).all(-1).sum())
    assert 10 <= n_trackers <= 35 and len({tuple(r.tolist()) for r in sets}) > 10  # the tracker set and random ones
    mask, _, _ = training_constraints(x, ctx, None, g())  # the default mixture: several kinds at once
    kinds = {int(mask[i].sum()) for i in range(64)}
    assert 0 in kinds and 20 * 4 in kinds and len(kinds) > 3
    with pytest.raises(ValueError, match="unknown constraint kind"):
        training_constraints(x, ctx, {"teleport": 1.0})
    with pytest.raises(ValueError, match="unknown constraint kind"):
        DiffusionTask(MotionDiffusion(ctx.dim), constraints={"teleport": 1.0})


def test_position_guide_is_differentiable_and_zero_at_the_target():
    ctx = tiny_context()
    x = torch.randn(2, 8, ctx.dim) * 0.1
    feet = ctx.feet
    targets = ctx.decode_positions(x)[:, :, feet]  # (2, 8, 2, 3)
    guide = position_guide(ctx, feet, targets)
    assert torch.allclose(guide(x), torch.zeros(2), atol=1e-8)
    y = (x + 0.3 * torch.randn_like(x)).requires_grad_(True)
    loss = guide(y)
    assert bool((loss > 0).all())
    loss.sum().backward()
    assert y.grad.abs().sum() > 0
    step = (y - 0.5 * y.grad).detach()
    assert float(guide(step).sum()) < float(loss.sum())  # a gradient step gets closer


@pytest.fixture(scope="module")
def walk_context(mocap_dir):
    """A real Bandai-Namco walk (rot6d features, its own statistics) and its context."""
    import numpy as np
    from motion3d.features import Normalizer, build
    from motion3d.io import bvh
    from motion3d.tasks.context import MotionContext
    m = bvh.load(mocap_dir / "bandai-namco-2" / "data" / "dataset-2_walk_normal_001.bvh")
    rep = build("rot6d", m.skeleton, fps=m.fps)
    f = rep.encode(m)
    ctx = MotionContext(rep, Normalizer.fit(f), {}, float(m.fps), 60)
    return ctx, ctx.normalizer.normalize(torch.from_numpy(np.asarray(f, dtype=np.float32)))


def test_plant_feet_holds_the_planted_feet_and_keeps_the_swing_and_the_root_path(walk_context):
    from motion3d.metrics.motion import foot_acceleration, foot_skate
    ctx, x = walk_context
    x = x[None, :90]  # (1, 90, D): three seconds of walking
    # the body slides on the floor at 0.3 body heights/s along x while the contact channels say planted
    f = ctx.normalizer.denormalize(x.double())
    f[..., 1] += 0.3 * ctx.skeleton.height() / ctx.fps  # planar velocity, in the heading frame
    slid = ctx.normalizer.normalize(f).float()
    guide = plant_guide(ctx, slid)
    assert float(guide(slid)) > 0.05  # 0.3^2 = 0.09 (body heights/s)^2 on the planted steps, nothing else yet
    assert float(plant_guide(ctx, x)(x)) < 0.01  # the capture's planted feet hardly move
    mask = root_channels(ctx).expand_as(slid)  # a root path: kept exactly
    out = plant_feet(ctx, slid, mask)
    assert torch.equal(out[mask], slid[mask])
    held = plant_guide(ctx, slid, swing=0.0)  # the planted feet's speed alone
    assert float(held(out)) < 0.1 * float(held(slid))  # 0.194 -> 0.013 (body heights/s)^2 on this walk
    h, fps, feet = ctx.skeleton.height(), ctx.fps, ctx.feet
    pos = lambda y: ctx.decode_positions(y)  # noqa: E731
    skate = lambda y: float(foot_skate(pos(y), feet, h, fps).mean())  # noqa: E731
    # the floor-contact skate (every low foot, planted or not): capture 0.27, slid 0.52, planted 0.35
    assert skate(out) < skate(slid) - 0.12
    # no foot catches up in one frame when it lifts: the swing keeps its velocities (p99 of the feet's
    # acceleration 25 body heights/s^2 before and after); holding the planted feet alone (swing=0) is
    # worse on both counts here: skate 0.46, p99 106
    p99 = lambda y: float(torch.quantile(foot_acceleration(pos(y), feet, h, fps).flatten(), 0.99))  # noqa: E731
    held_only = plant_feet(ctx, slid, mask, swing=0.0)
    assert p99(out) < 1.1 * p99(slid) and p99(held_only) > 2 * p99(slid)
    assert skate(out) < skate(held_only)
    assert plant_feet(ctx, slid, mask, steps=0) is slid


def test_training_step_and_losses():
    ctx = tiny_context()
    torch.manual_seed(0)
    task = DiffusionTask(MotionDiffusion(ctx.dim, 2, 1, dim=32, layers=1, heads=2, ff_dim=32, diffusion_steps=20),
                         weights={"velocity": 1.0})
    task.attach(ctx)
    batch = {"x": torch.randn(4, 12, ctx.dim), "content": torch.tensor([0, 1, -1, 0]), "style": torch.tensor([0] * 4)}
    losses = task._step(batch)
    assert {"feature", "position", "contact", "velocity", "loss"} <= set(losses) and torch.isfinite(losses["loss"])
    losses["loss"].backward()
    assert all(p.grad is not None for p in task.net.parameters() if p.requires_grad)
    task.eval()  # as in validation: no dropout, and fixed steps, noise and masks
    g1 = task._step(batch, torch.Generator().manual_seed(5))["loss"]
    g2 = task._step(batch, torch.Generator().manual_seed(5))["loss"]
    assert float(g1) == float(g2)


def test_joint_positions_build_the_denoiser_with_the_skeletons_joints():
    ctx = tiny_context()
    J = ctx.skeleton.num_joints
    factory = partial(MotionDiffusion, dim=16, layers=1, heads=2, ff_dim=16, diffusion_steps=10)
    plain, conditioned = DiffusionTask(factory), DiffusionTask(factory, joint_positions=True)
    plain.attach(ctx)
    conditioned.attach(ctx)
    assert plain.net.condition_joints == 0 and conditioned.net.condition_joints == J
    assert conditioned.net.inp.in_features == plain.net.inp.in_features + 4 * J
    batch = {"x": torch.randn(4, 12, ctx.dim), "content": torch.tensor([0, 1, -1, 0]), "style": torch.tensor([0] * 4)}
    for task in (plain, conditioned):  # the default kinds; "joints" drawn only with positions
        assert torch.isfinite(task._step(batch, torch.Generator().manual_seed(0))["loss"])
    with pytest.raises(ValueError, match="joint_positions: true"):
        DiffusionTask(factory, constraints={"none": 0.5, "joints": 0.5}).attach(ctx)
    with pytest.raises(ContextMismatch, match=f"conditioned on {J + 1} joint positions"):
        DiffusionTask(MotionDiffusion(ctx.dim, 2, 1, dim=16, layers=1, heads=2, ff_dim=16,
                                      condition_joints=J + 1)).attach(ctx)


def test_signal_schedule_scales_each_clips_foot_slide_by_its_alpha_bar():
    ctx = tiny_context()
    torch.manual_seed(0)
    net = MotionDiffusion(ctx.dim, 2, 1, dim=32, layers=1, heads=2, ff_dim=32, diffusion_steps=20)
    batch = {"x": torch.randn(4, 12, ctx.dim), "content": torch.tensor([0, 1, -1, 0]), "style": torch.tensor([0] * 4)}
    out = {}
    for schedule in ("uniform", "signal"):
        task = DiffusionTask(net, weights={"foot_slide": 1.0}, foot_slide_schedule=schedule)
        task.attach(ctx)
        task.eval()
        out[schedule] = task._step(batch, torch.Generator().manual_seed(5))
    # the same steps, noise and prediction: only the foot term changes, by factors in (0, 1]
    assert float(out["signal"]["feature"]) == float(out["uniform"]["feature"])
    assert 0 < float(out["signal"]["foot_slide"]) < float(out["uniform"]["foot_slide"])
    with pytest.raises(ValueError, match="foot_slide_schedule"):
        DiffusionTask(net, foot_slide_schedule="late")


def test_every_control_samples_after_a_few_training_steps():
    """Train a few steps, then sample each control the task trains: the known features are in the
    output exactly, and FK guidance brings the guided joints closer to their targets than free samples."""
    ctx = tiny_context()
    torch.manual_seed(0)
    net = MotionDiffusion(ctx.dim, 2, 1, dim=32, layers=1, heads=2, ff_dim=32, dropout=0.0, diffusion_steps=20,
                          sample_steps=5, condition_joints=ctx.skeleton.num_joints)
    task = DiffusionTask(net, warmup_steps=1)
    task.attach(ctx)
    opt = torch.optim.Adam(task.net.parameters(), lr=1e-3)
    x = torch.randn(8, 12, ctx.dim) * 0.5
    batch = {"x": x, "content": torch.tensor([0, 1] * 4), "style": torch.zeros(8, dtype=torch.long)}
    for _ in range(3):
        opt.zero_grad()
        task._step(batch)["loss"].backward()
        opt.step()
    net.eval()
    lab = {"content": batch["content"][:4], "style": batch["style"][:4]}
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    for kind in ("none", "prefix", "inbetween", "root", "frames", "joints"):
        mask, values, joints = training_constraints(x[:4], ctx, {kind: 1.0}, g())
        pos = {"positions": joint_positions(ctx, x[:4]), "position_mask": joints}
        out = net.sample(4, 12, lab, generator=g(), constraints={"mask": mask, "values": values, **pos})
        assert out.shape == (4, 12, ctx.dim) and bool(torch.isfinite(out).all())
        assert torch.equal(out[mask], x[:4][mask]), kind
        assert kind == "none" or bool(mask.any()) or bool(joints.any())
    joints = ctx.feet
    targets = ctx.decode_positions(x[:4])[:, :, joints]
    free = net.sample(4, 12, generator=g())
    guided = net.sample(4, 12, generator=g(), constraints={"guide": position_guide(ctx, joints, targets),
                                                           "guide_scale": 10.0, "guide_iters": 3})
    err = lambda y: float((ctx.decode_positions(y)[:, :, joints] - targets).norm(dim=-1).mean())  # noqa: E731
    assert err(guided) < 0.75 * err(free)  # 0.62x here (5 steps of a barely trained model)
