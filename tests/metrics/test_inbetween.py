"""LaFAN1 in-betweening measures and baselines: hand-computed values on small tensors, and the
benchmark's baselines on real Bandai-Namco walks."""
import math

import numpy as np
import pytest
import torch

from motion3d.geometry.kinematics import forward_kinematics
from motion3d.geometry.rotations import geodesic_angle, matrix_to_quat, quat_apply
from motion3d.io import bvh
from motion3d.metrics.inbetween import (align_quat_signs, canonical_frame, interpolation_inbetween, l2p, l2q, npss,
                                        position_statistics, root_forward, to_canonical, zero_velocity_inbetween)
from motion3d.ops.facing import facing_directions
from tests.conftest import assert_close


def yrot(deg):
    h = math.radians(deg) / 2
    return torch.tensor([0.0, math.sin(h), 0.0, math.cos(h)], dtype=torch.float64)


IDENT = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)


# ----------------------------------------------------------------------------- L2Q
def test_l2q_one_joint_turned_90_degrees():
    target = IDENT.expand(1, 2, 3, 4).clone()
    pred = target.clone()
    pred[:, :, 1] = yrot(90)
    # |(0, sin45, 0, cos45) - (0, 0, 0, 1)| = sqrt(2 - sqrt 2) per frame; one norm over the whole pose
    assert l2q(pred, target) == pytest.approx(math.sqrt(2 - math.sqrt(2)), abs=1e-12)
    pred[:, 1, 2] = yrot(90)  # second frame: two joints -> sqrt(2 (2 - sqrt 2)); mean over frames
    expected = (math.sqrt(2 - math.sqrt(2)) + math.sqrt(2 * (2 - math.sqrt(2)))) / 2
    assert l2q(pred, target) == pytest.approx(expected, abs=1e-12)


def test_l2q_ignores_sign_flips_and_uses_the_reference():
    q = torch.stack([yrot(10 * k) for k in range(6)])  # (6, 4) a smooth turn
    target = q[None, :, None, :].expand(2, 6, 2, 4).clone()
    pred = target.clone()
    pred[0, 2:4] *= -1  # same rotations, flipped signs on some frames
    pred[1, :, 1] *= -1  # a whole joint flipped
    assert l2q(pred, target) == pytest.approx(0.0, abs=1e-12)
    ref = IDENT.expand(2, 2, 4)
    flipped_target = -target
    assert l2q(pred, flipped_target, reference=ref) == pytest.approx(0.0, abs=1e-12)
    p, t = align_quat_signs(pred, flipped_target, ref)
    assert bool(((p * t).sum(-1) > 0).all())
    with pytest.raises(ValueError, match="reference must be"):
        l2q(pred, target, reference=ref[:, :1])
    with pytest.raises(ValueError, match="differ in shape"):
        l2q(pred[:, :3], target)


# ----------------------------------------------------------------------------- L2P and statistics
def test_l2p_normalises_by_the_training_std():
    target = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    pred = target.clone()
    pred[..., 1, 0] += 2.0  # joint 1 off by 2 along x
    std = torch.ones(3, 3, dtype=torch.float64)
    std[1, 0] = 2.0
    assert l2p(pred, target, torch.zeros(3, 3), std) == pytest.approx(1.0, abs=1e-12)
    assert l2p(pred, target, torch.full((9,), 5.0), std.reshape(-1)) == pytest.approx(1.0, abs=1e-12)  # mean cancels
    pred[..., 2, :] += torch.tensor([0.0, 3.0, 4.0], dtype=torch.float64)  # joint 2: |(0, 3, 4)| = 5 with std 1
    assert l2p(pred, target, torch.zeros(3, 3), std) == pytest.approx(math.sqrt(1 + 25), abs=1e-12)
    with pytest.raises(ValueError, match="3x3 values"):
        l2p(pred, target, torch.zeros(2, 3), std)
    with pytest.raises(ValueError, match="positive"):
        l2p(pred, target, torch.zeros(3, 3), torch.zeros(3, 3))


def test_position_statistics_match_numpy_population_std():
    x = np.random.default_rng(1).normal(size=(5, 7, 4, 3)) * [1.0, 2.0, 3.0]
    mean, std = position_statistics(x)
    assert_close(mean, x.mean(axis=(0, 1)), atol=1e-12)
    assert_close(std, x.std(axis=(0, 1)), atol=1e-12)  # ddof 0, as np.std in get_train_stats
    x[..., 2, 1] = 0.5
    with pytest.raises(ValueError, match=r"\[\[2, 1\]\] never vary"):
        position_statistics(x)


# ----------------------------------------------------------------------------- NPSS
def test_npss_hand_computed():
    target = torch.tensor([[[1.0, 2.0], [-1.0, 2.0]]])  # (B=1, T=2, D=2)
    pred = torch.tensor([[[1.0, 2.0], [1.0, 2.0]]])
    # channel 0: gt FFT (0, 2) -> cdf (0, 1); pred FFT (2, 0) -> cdf (1, 1); EMD 1, weight 4
    # channel 1: identical constant, EMD 0, weight 16
    assert npss(pred, target) == pytest.approx(4.0 / 20.0, abs=1e-12)
    assert npss(target, target) == 0.0
    assert npss(pred[..., :1], target[..., :1]) == pytest.approx(1.0, abs=1e-12)


def test_npss_zero_power_channel_weighs_nothing():
    target = torch.tensor([[[1.0, 0.0], [-1.0, 0.0]]])
    pred = torch.tensor([[[1.0, 3.0], [1.0, -3.0]]])  # channel 1 differs but its ground truth has no power
    assert npss(pred, target) == pytest.approx(1.0, abs=1e-12)
    assert npss(pred.reshape(1, 2, 1, 2), target.reshape(1, 2, 1, 2)) == pytest.approx(1.0, abs=1e-12)  # flattened
    with pytest.raises(ValueError, match="no power"):
        npss(pred, torch.zeros_like(pred))


# ----------------------------------------------------------------------------- canonical frame
def test_root_forward_and_canonical_frame():
    x90 = torch.tensor([math.sin(math.pi / 4), 0.0, 0.0, math.cos(math.pi / 4)], dtype=torch.float64)
    assert_close(root_forward(x90), [0.0, 0.0, 1.0], atol=1e-12)  # +Y turned about +X points to +Z
    assert_close(root_forward(yrot(90), local_forward=(0, 0, 1)), [1.0, 0.0, 0.0], atol=1e-12)
    with pytest.raises(ValueError, match="straight up"):
        root_forward(IDENT)

    roots = torch.tensor([[[1.0, 5.0, 2.0], [3.0, 7.0, 4.0]],
                          [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]], dtype=torch.float64)  # (B=2, T=2, 3)
    forward = torch.tensor([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]], dtype=torch.float64)  # +Z, and -X exactly
    shift, yaw = canonical_frame(roots, forward)
    assert_close(shift, [[2.0, 0.0, 3.0], [0.0, 0.0, 0.0]], atol=1e-12)  # mean root x, z over the window
    assert_close(quat_apply(yaw, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)), forward, atol=1e-12)
    # a point one unit ahead of the window's centre ends on +X, at its own height
    pts = (shift + forward)[:, None, None, :] + torch.tensor([0.0, 0.7, 0.0], dtype=torch.float64)
    p, q = to_canonical(shift, yaw, positions=pts, rotations=yaw[:, None, None, :])
    assert_close(p[:, 0, 0], [[1.0, 0.7, 0.0], [1.0, 0.7, 0.0]], atol=1e-12)
    assert_close(geodesic_angle(q, IDENT), torch.zeros(2, 1, 1), atol=1e-6)  # the facing rotation itself is undone
    with pytest.raises(ValueError, match="no floor-plane"):
        canonical_frame(roots, torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))


# ----------------------------------------------------------------------------- baselines
def test_interpolation_inbetween_lerps_root_and_slerps_rotations():
    r0, r1 = torch.zeros(1, 3), torch.tensor([[3.0, 0.0, 6.0]])
    q0 = IDENT.expand(1, 2, 4).clone()
    q1 = torch.stack([yrot(90), -yrot(90)])[None]  # joint 1's target given with the other sign
    roots, rots = interpolation_inbetween((r0, q0), (r1, q1), 2)
    assert roots.shape == (1, 2, 3) and rots.shape == (1, 2, 2, 4)
    assert_close(roots[0], [[1.0, 0.0, 2.0], [2.0, 0.0, 4.0]], atol=1e-12)
    expected = torch.tensor([[30.0, 30.0], [60.0, 60.0]], dtype=torch.float64)  # k / (G + 1) of 90 degrees
    assert_close(torch.rad2deg(geodesic_angle(rots[0], IDENT)), expected, atol=1e-6)
    assert_close(geodesic_angle(rots[0], yrot(30)), torch.tensor([[0.0, 0.0], [math.radians(30)] * 2]), atol=1e-6)
    with pytest.raises(ValueError, match="gap must be"):
        interpolation_inbetween((r0, q0), (r1, q1), 0)
    with pytest.raises(ValueError, match="pair"):
        interpolation_inbetween(r0, (r1, q1), 3)


def test_zero_velocity_inbetween_holds_the_last_context_frame():
    r0, q0 = torch.randn(2, 3), torch.randn(2, 4, 4)
    roots, rots = zero_velocity_inbetween((r0, q0), 5)
    assert roots.shape == (2, 5, 3) and rots.shape == (2, 5, 4, 4)
    assert_close(roots, r0[:, None].expand(2, 5, 3).double(), atol=0)
    assert_close(rots, q0[:, None].expand(2, 5, 4, 4).double(), atol=0)


# ----------------------------------------------------------------------------- real clips
N_PAST = 10
HIPS = 1  # Bandai-Namco: joint_Root (0) stays at the origin; the Hips' translation channels carry the travel
KEEP = slice(1, None)  # positions without the pinned joint_Root (its std would be 0)


def _windows(motion, length, offset):
    """Local rotations (N, L, J, 4) and translations (N, L, J, 3) of sliding windows."""
    starts = range(0, motion.num_frames - length, offset)
    idx = np.array([np.arange(s, s + length) for s in starts])
    return torch.as_tensor(motion.rotations[idx]), torch.as_tensor(motion.translations[idx])


def _global(motion, rot, trans):
    """Global quaternions and positions of windows, via FK."""
    R, P = forward_kinematics(rot, motion.skeleton.offsets, motion.skeleton.parents, trans[..., 0, :], trans)
    return matrix_to_quat(R), P


def _frame_of(motion, rot, trans):
    """LaFAN1's canonical frame of each window: mean hips xz, facing at the last context frame."""
    _, P = _global(motion, rot, trans)
    forward = torch.as_tensor(facing_directions(P[:, N_PAST - 1].numpy(), motion.skeleton))
    return canonical_frame(P[:, :, HIPS], forward)


@pytest.fixture(scope="module")
def walks(bandai_dir):
    files = sorted((bandai_dir / "data").glob("dataset-1_walk_*.bvh"))[:6]
    return [bvh.load(f) for f in files]


def _baseline(name, rot, trans, gap):
    """The baseline's local rotations and translations over the gap (the Hips' translation is the root)."""
    last = (trans[:, N_PAST - 1, HIPS], rot[:, N_PAST - 1])
    if name == "interp":
        root, q = interpolation_inbetween(last, (trans[:, N_PAST + gap, HIPS], rot[:, N_PAST + gap]), gap)
    else:
        root, q = zero_velocity_inbetween(last, gap)
    t = trans[:, N_PAST - 1:N_PAST].expand(-1, gap, -1, -1).clone()
    t[:, :, HIPS] = root
    return q, t


def test_lafan1_baselines_on_real_walks(walks):
    """The benchmark's own sanity: interpolation beats zero velocity in L2Q and L2P at every gap
    (Harvey et al. 2020, Table 1 shows the same order), errors of the held pose grow with the gap,
    and the ground truth scores 0 against itself. Measured here (windows of 2 walks):
    interpolation L2Q / L2P / NPSS at 15 frames 0.67 / 5.3 / 0.038, zero velocity 1.08 / 6.6 / 0.045
    (L2P is larger than LaFAN1's 1.25 because 4 walking clips give small position stds)."""
    # training statistics as get_train_stats: 50-frame windows, offset 20, canonical frame
    train = []
    for m in walks[:4]:
        rot, trans = _windows(m, 50, 20)
        shift, yaw = _frame_of(m, rot, trans)
        train.append(to_canonical(shift, yaw, positions=_global(m, rot, trans)[1])[0][:, :, KEEP])
    mean, std = position_statistics(torch.cat(train))
    assert mean.shape == (21, 3) and bool((std > 1.0).all())  # centimetres: every joint moves

    results = {}
    for gap in (15, 30, 45):
        gts, refs, preds = [], [], {"interp": [], "zerov": []}
        for m in walks[4:]:
            rot, trans = _windows(m, N_PAST + gap + 1, 40)
            shift, yaw = _frame_of(m, rot, trans)
            gp, gq = to_canonical(shift, yaw, *reversed(_global(m, rot, trans)))
            gts.append((gq[:, N_PAST:N_PAST + gap], gp[:, N_PAST:N_PAST + gap, KEEP]))
            refs.append(gq[:, N_PAST - 1])
            for name in preds:
                pp, pq = to_canonical(shift, yaw, *reversed(_global(m, *_baseline(name, rot, trans, gap))))
                preds[name].append((pq, pp[:, :, KEEP]))
        gq, gp = (torch.cat([g[i] for g in gts]) for i in (0, 1))
        ref = torch.cat(refs)
        assert l2p(gp, gp, mean, std) == 0.0 and l2q(gq, gq, ref) == 0.0 and npss(gq, gq) == 0.0
        for name in preds:
            pq, pp = (torch.cat([p[i] for p in preds[name]]) for i in (0, 1))
            a, b = align_quat_signs(pq, gq, ref)
            results[name, gap] = (l2q(pq, gq, ref), l2p(pp, gp, mean, std), npss(a, b))
    for gap in (15, 30, 45):
        interp, zerov = results["interp", gap], results["zerov", gap]
        assert interp[0] < zerov[0] and interp[1] < zerov[1], (gap, interp, zerov)  # L2Q and L2P
    for name in ("interp", "zerov"):  # NPSS grows with the gap; so does L2P when holding a pose
        assert 0.0 < results[name, 15][2] < results[name, 30][2] < results[name, 45][2], results
    assert results["zerov", 15][1] < results["zerov", 30][1] < results["zerov", 45][1], results
    # (the interpolation's L2P and L2Q need not grow: a walk is periodic, and 45 frames is about a gait
    # cycle, so the target's pose is close to the last context pose again)
