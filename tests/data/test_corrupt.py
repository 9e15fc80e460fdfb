"""Corruption models: each kind does what it says, seeded, with a correct gap mask."""
from __future__ import annotations

import pytest
import torch

from motion3d.geometry.rotations import axis_angle_to_matrix, matrix_to_6d
from motion3d.data.corrupt import Corruption, corrupt_features, gap_mask, limb_pairs
from tests.tasks.helpers import tiny_context, tiny_skeleton


def _clean(ctx, B=6, T=40):
    """Valid rot6d windows (identity statistics): small smooth rotations, a slow walk."""
    g = torch.Generator().manual_seed(3)
    rep = ctx.representation
    Jb = len(rep.body)
    aa = torch.cumsum(torch.randn(B, T, Jb, 3, generator=g) * 0.02, dim=1)
    x = torch.zeros(B, T, ctx.dim)
    x[..., rep.slice("rotations")] = matrix_to_6d(axis_angle_to_matrix(aa)).reshape(B, T, -1)
    x[..., 0] = 90.0
    x[:, 1:, 2] = 1.0
    return x


def _run(ctx, x, spec, seed=0):
    return corrupt_features(ctx.representation, ctx.normalizer, x, spec, torch.Generator().manual_seed(seed))


def test_seeded_and_each_kind_changes_what_it_says():
    ctx = tiny_context()
    rep = ctx.representation
    x = _clean(ctx)
    base = Corruption()
    a, ka, _ = _run(ctx, x, base)
    b, kb, _ = _run(ctx, x, base)
    assert torch.equal(a, b) and torch.equal(ka, kb)
    c, _, _ = _run(ctx, x, base, seed=1)
    assert not torch.equal(a, c)
    rs = rep.slice("rotations")
    # jitter: every frame of every clip moves a little
    y, k, applied = _run(ctx, x, base.only("jitter"))
    d = (y - x)[..., rs].abs()
    assert bool(applied["jitter"].all()) and bool(k.all()) and float(d.mean()) > 1e-3 and float(d.max()) < 1.0
    # spikes: few frames change, by a lot
    y, _, _ = _run(ctx, x, base.only("spikes"))
    per_frame = (y - x)[..., rs].abs().amax(-1)
    assert 0 < float((per_frame > 0.1).float().mean()) < 0.3 and float(per_frame.max()) > 0.3
    # swaps: only limb joints change, on a span of frames
    y, _, _ = _run(ctx, x, base.only("swaps"))
    changed = ((y - x)[..., rs].abs().reshape(6, 40, -1, 6).amax(-1) > 1e-4).any(1)  # (B, Jb)
    body = list(rep.body)
    centre = [body.index(j) for j in (0, 1, 2)]  # hips, spine, head are never swapped
    assert not bool(changed[:, centre].any()) and bool(changed.any(1).all())
    # gaps: values kept, mask marks missing channels of spans 0.1 .. 1 s
    y, k, _ = _run(ctx, x, base.only("gaps"))
    assert torch.allclose(y, x, atol=1e-5) and not bool(k.all())
    frames_missing = (~k).any(-1).sum(1)
    assert bool((frames_missing >= 3).all()) and bool((frames_missing <= 30).all())
    # foot slide: only the root velocity channels change, only on contact frames
    x2 = x.clone()
    x2[..., rep.slice("contacts")] = 1.0
    y, _, _ = _run(ctx, x2, base.only("foot_slide"))
    diff = (y - x2).abs()
    assert float(diff[..., 1:3].max()) > 1e-3 and float(diff[..., 3:].max()) < 1e-4


def test_gap_mask_shapes_and_whole_frames():
    m = gap_mask(4, 60, 5, 30.0, torch.tensor([True, True, False, True]), 1, 0.5, 0.5, 0.0, 1.0,
                 torch.Generator().manual_seed(0))
    assert m.shape == (4, 60, 6) and not bool(m[2].any())
    rows = m[[0, 1, 3]]
    assert bool((rows.all(-1).sum(1) == 15).all())  # 0.5 s at 30 fps, whole frames


def test_bad_configs_and_skeletons():
    with pytest.raises(ValueError, match="unknown corruption kind"):
        Corruption.of({"teleport": {}})
    with pytest.raises(ValueError, match="no parameter"):
        Corruption.of({"jitter": {"sigma": 1}})
    perm, pairs, corr = limb_pairs(tiny_skeleton())
    assert pairs.shape == (1, 9) and pairs[0].sum() == 6 and corr.shape == (9, 3, 3)


def test_spike_joint_fraction_spreads_over_clips_and_a_fixed_one_keeps_its_draws():
    from motion3d.data.corrupt import spikes

    B, T, J = 64, 40, 20
    rot = torch.eye(3).expand(B, T, J, 3, 3).clone()
    root = torch.zeros(B, T, 3)
    on = torch.ones(B, dtype=torch.bool)

    def hits(**kw) -> tuple[torch.Tensor, torch.Tensor]:
        """The hit mask and each clip's mean fraction of joints hit on its spike frames."""
        g = torch.Generator().manual_seed(5)
        _, _, hit = spikes(rot, root, on, rate=0.2, frames=2, joints=0.3, rotation_deg=40.0, position=0.05,
                           generator=g, **kw)
        frac = hit.sum(-1).float() / (J + 1)  # (B, T)
        spiked = hit.any(-1)
        return hit, torch.stack([frac[b][spiked[b]].mean() for b in range(B) if bool(spiked[b].any())])

    fixed, per_clip_fixed = hits()
    assert torch.equal(fixed, hits(joints_spread=0.0)[0])  # the old draws, bit for bit
    _, per_clip_spread = hits(joints_spread=1.0)
    assert 0.2 < float(per_clip_fixed.min()) and float(per_clip_fixed.max()) < 0.4  # ~30 % on every clip
    assert float(per_clip_spread.min()) < 0.05 and float(per_clip_spread.max()) > 0.25  # lone joints to ~30 %
