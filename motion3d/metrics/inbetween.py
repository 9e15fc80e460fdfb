"""Motion in-betweening measures and baselines of the LaFAN1 benchmark (Harvey et al. 2020, "Robust
Motion In-betweening"), as pure torch functions.

The formulas follow the benchmark code published with the dataset,
``ubisoft/ubisoft-laforge-animation-dataset`` (commit 610f065):

* ``lafan1/benchmarks.py``, ``benchmark_interpolation``: L2Q is
  ``mean over (window, frame) of sqrt(sum over joints and the 4 components of (q_pred - q_gt)^2)``
  on GLOBAL quaternions (not averaged over joints: one L2 norm of the whole pose per frame); L2P is
  the same on GLOBAL positions flattened to ``J*3`` values per frame after ``(x - x_mean) / x_std``;
  NPSS is ``fast_npss`` on the global quaternions flattened to ``(B, T, J*4)``. All three are taken
  over the transition frames only (``n_past:-n_future``), the gap between the last context frame and
  the target frame.
* ``lafan1/extract.py``, ``get_lafan1_set`` / ``get_train_stats``: every window (50 frames, offset
  20, for the training statistics) is (1) moved so the MEAN over the window of the root's x and z
  is 0 (not the root at the last context frame), then (2) turned about Y so the root's forward
  direction at the last context frame (frame ``n_past - 1 = 9``) points along +X
  (``utils.rotate_at_frame``: ``forward = [1,0,1] * (root global quat applied to [0,1,0])``,
  ``yrot = quat_between([1,0,0], forward)``, positions and global quaternions multiplied by
  ``yrot^-1``). ``x_mean`` / ``x_std`` are then ``np.mean`` / ``np.std`` (population, ddof 0) of
  the global positions over windows and frames, per joint and coordinate: shape ``(1, J*3, 1)``.
* ``lafan1/utils.py``: ``remove_quat_discontinuities`` flips quaternion signs along time (applied
  to the local quaternions of each whole file, so the global ones FK gives are continuous too, and
  the SLERP of ``interpolate_local`` starts from the last context frame's sign);
  ``interpolate_local`` lerps the root and slerps the local quaternions with weights
  ``linspace(0, 1, gap + 2)[1:-1]`` between the last context frame and the target frame.

Conventions here and the departures from that code:

* Quaternions are xyzw (theirs are wxyz). L2Q and NPSS treat the four components alike, so the
  order changes nothing.
* Both LaFAN1 and motion3d are Y-up; LaFAN1 is in centimetres. Nothing is rescaled here: L2P is
  unit-free after the normalisation, L2Q and NPSS have no units.
* Signs: instead of relying on the data having been made continuous beforehand, :func:`l2q`
  (and :func:`align_quat_signs`, to call before :func:`npss`) makes the prediction and the ground
  truth continuous along time starting from one shared reference (the last context frame's global
  quaternions when given, else the ground truth's first in-between frame). For sequences that are
  continuous with the context, as in the benchmark, this is the same as their convention.
* The forward direction of the root is an argument (:func:`root_forward`'s ``local_forward``,
  ``(0, 1, 0)`` for LaFAN1's Hips; or any ``(B, 3)`` direction, e.g. from
  :func:`motion3d.ops.facing.facing_directions`), since other skeletons' roots point elsewhere. The
  yaw is built from the angle ``atan2`` of that direction, which equals their ``quat_between`` except
  when the direction is exactly -X (where theirs degenerates).
* NPSS: channels whose ground truth has zero total power (a component that is exactly 0 in every
  frame) have weight 0 in their weighted average but give 0/0 = nan there; here they contribute 0.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from motion3d.geometry.rotations import quat_apply, quat_conjugate, quat_fix_continuity, quat_mul, quat_normalize, slerp

__all__ = [
    "LAFAN1_GAPS",
    "LAFAN1_N_PAST",
    "root_forward",
    "canonical_frame",
    "to_canonical",
    "position_statistics",
    "align_quat_signs",
    "l2q",
    "l2p",
    "npss",
    "interpolation_inbetween",
    "zero_velocity_inbetween",
]

LAFAN1_GAPS: tuple[int, ...] = (5, 15, 30, 45)
"""Transition lengths of the benchmark (``trans_lengths`` in ``benchmark_interpolation``)."""
LAFAN1_N_PAST = 10
"""Context frames of the benchmark; the last one (index 9) sets each window's facing."""


def _t(x, dtype=torch.float64) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype)


def _check_last(x: torch.Tensor, name: str, size: int, ndim: int | None = None) -> None:
    if x.shape[-1] != size or (ndim is not None and x.dim() != ndim):
        want = f"{ndim}-d " if ndim is not None else ""
        raise ValueError(f"{name} must be a {want}tensor with last axis {size}, got shape {tuple(x.shape)}")


def root_forward(root_rotations, local_forward: Sequence[float] = (0.0, 1.0, 0.0)) -> torch.Tensor:
    """Floor-plane forward direction of the root: ``root_rotations (..., 4)`` global xyzw ->
    ``(..., 3)`` unit vectors with zero Y.

    ``local_forward`` is the root's forward axis in its own frame: ``(0, 1, 0)`` for LaFAN1's Hips,
    as in ``utils.rotate_at_frame``. Raises ``ValueError`` when the rotated axis is vertical (no
    facing on the floor)."""
    q = _t(root_rotations)
    _check_last(q, "root_rotations", 4)
    axis = torch.as_tensor(local_forward, dtype=q.dtype, device=q.device)
    if axis.shape != (3,):
        raise ValueError(f"local_forward must be 3 numbers, got {tuple(local_forward)}")
    f = quat_apply(quat_normalize(q), axis) * torch.tensor([1.0, 0.0, 1.0], dtype=q.dtype, device=q.device)
    n = f.norm(dim=-1, keepdim=True)
    if bool((n < 1e-6).any()):
        raise ValueError("the root's forward axis points straight up or down in some frame: no facing on the floor")
    return f / n


def canonical_frame(root_positions, forward) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-window transform of ``get_lafan1_set``: ``root_positions (B, T, 3)`` of each window's
    root over all its frames and ``forward (B, 3)`` its facing at the last context frame (see
    :func:`root_forward`) -> ``shift (B, 3)`` (the mean root x and z over the window, y = 0) and
    ``yaw (B, 4)`` (the rotation about +Y taking +X onto ``forward``). Apply both with
    :func:`to_canonical`, to the prediction and the ground truth alike."""
    r, f = _t(root_positions), _t(forward)
    _check_last(r, "root_positions", 3, 3)
    _check_last(f, "forward", 3, 2)
    if f.shape[0] != r.shape[0]:
        raise ValueError(f"{r.shape[0]} windows of root positions but {f.shape[0]} forward directions")
    if r.shape[1] < 1:
        raise ValueError("canonical_frame needs at least one frame per window")
    shift = r.mean(dim=1) * torch.tensor([1.0, 0.0, 1.0], dtype=r.dtype, device=r.device)
    fx, fz = f[:, 0], f[:, 2]
    if bool((torch.hypot(fx, fz) < 1e-9).any()):
        raise ValueError("a forward direction has no floor-plane (x, z) component")
    angle = torch.atan2(-fz, fx)  # a turn by `angle` about +Y maps +X to (cos a, 0, -sin a)
    zero = torch.zeros_like(angle)
    yaw = torch.stack([zero, torch.sin(angle / 2), zero, torch.cos(angle / 2)], dim=-1)
    return shift, yaw


def to_canonical(shift, yaw, positions=None, rotations=None):
    """Move windows into their canonical frame: ``positions (B, T, J, 3)`` global ->
    ``yaw^-1 (p - shift)``; ``rotations (B, T, J, 4)`` global xyzw -> ``yaw^-1 q``. ``shift (B, 3)``
    and ``yaw (B, 4)`` from :func:`canonical_frame`. Returns ``(positions, rotations)``, each ``None``
    when not given."""
    s, y = _t(shift), _t(yaw)
    inv = quat_conjugate(y)[:, None, None, :]
    out_p = out_q = None
    if positions is not None:
        p = _t(positions)
        _check_last(p, "positions", 3, 4)
        out_p = quat_apply(inv, p - s[:, None, None, :])
    if rotations is not None:
        q = _t(rotations)
        _check_last(q, "rotations", 4, 4)
        out_q = quat_mul(inv.expand(q.shape), q)
    return out_p, out_q


def position_statistics(positions) -> tuple[torch.Tensor, torch.Tensor]:
    """``x_mean`` / ``x_std`` of ``get_train_stats``: training windows' global positions
    ``(N, T, J, 3)``, already in their canonical frame (:func:`to_canonical`) -> mean and population
    standard deviation (ddof 0) over windows and frames, each ``(J, 3)`` float64. Their windows are
    50 frames long with an offset of 20. Raises ``ValueError`` when a coordinate never varies (its
    normalised error would divide by 0)."""
    p = _t(positions)
    _check_last(p, "positions", 3, 4)
    if p.shape[0] * p.shape[1] < 2:
        raise ValueError(f"position statistics need at least 2 frames in all, got positions {tuple(p.shape)}")
    flat = p.reshape(-1, p.shape[-2], 3)
    mean = flat.mean(0)
    std = flat.std(0, unbiased=False)
    if not bool(torch.isfinite(std).all()) or bool((std <= 1e-12).any()):
        bad = torch.nonzero(~(std > 1e-12)).tolist()
        raise ValueError(f"joint coordinates (joint, axis) {bad[:5]} never vary or are not finite: no std to "
                         "normalise by (a joint pinned at the origin, as Bandai-Namco's joint_Root? leave it out)")
    return mean, std


def align_quat_signs(pred, target, reference=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Signs of ``pred`` and ``target`` quaternions ``(B, T, J, 4)`` made continuous along time from a
    shared start: ``reference (B, J, 4)`` (the last context frame's global quaternions) when given,
    else ``target``'s first frame. Returns ``(pred, target)`` float64 (L2Q and NPSS compare raw
    components, so ``q`` and ``-q`` must not both occur)."""
    p, t = _t(pred), _t(target)
    _check_last(p, "pred", 4, 4)
    if p.shape != t.shape:
        raise ValueError(f"prediction {tuple(p.shape)} and target {tuple(t.shape)} differ in shape")
    seed = t[:, 0] if reference is None else _t(reference).to(t.device)
    if seed.shape != (t.shape[0], t.shape[2], 4):
        raise ValueError(f"reference must be ({t.shape[0]}, {t.shape[2]}, 4), got {tuple(seed.shape)}")

    def fix(q):
        return quat_fix_continuity(torch.cat([seed[:, None], q], dim=1), dim=1)[:, 1:]

    return fix(p), fix(t)


def l2q(pred, target, reference=None) -> float:
    """L2Q of LaFAN1: global quaternions of the in-between frames, ``pred`` and ``target``
    ``(B, T, J, 4)`` xyzw (in the canonical frame, see module docstring) -> the mean over windows
    and frames of the L2 norm, over joints and components together, of their difference
    (``benchmarks.py``: ``np.mean(np.sqrt(np.sum((q - q_gt) ** 2, axis=(2, 3))))``).
    Signs are aligned first with :func:`align_quat_signs` (``reference (B, J, 4)``: the last context
    frame's global quaternions)."""
    p, t = align_quat_signs(pred, target, reference)
    return float((p - t).square().sum(dim=(-2, -1)).sqrt().mean())


def l2p(pred, target, mean, std) -> float:
    """L2P of LaFAN1: global positions of the in-between frames, ``pred`` and ``target``
    ``(B, T, J, 3)`` in the canonical frame, normalised as ``(x - mean) / std`` with the training
    statistics ``mean``, ``std`` ``(J, 3)`` (or ``(J*3,)``; :func:`position_statistics`) -> the mean
    over windows and frames of the L2 norm of the ``J*3`` normalised differences
    (``benchmarks.py``: ``np.mean(np.sqrt(np.sum((x - x_gt) ** 2, axis=1)))`` on ``(B, J*3, T)``)."""
    p, t = _t(pred), _t(target)
    _check_last(p, "pred", 3, 4)
    if p.shape != t.shape:
        raise ValueError(f"prediction {tuple(p.shape)} and target {tuple(t.shape)} differ in shape")
    J = p.shape[2]
    m, s = _t(mean).reshape(-1).to(p.device), _t(std).reshape(-1).to(p.device)
    if m.numel() != J * 3 or s.numel() != J * 3:
        raise ValueError(f"mean and std must have {J}x3 values for {J} joints, got {m.numel()} and {s.numel()}")
    if not bool((s > 0).all()):
        raise ValueError("std must be positive everywhere")
    m, s = m.reshape(J, 3), s.reshape(J, 3)
    pn, tn = (p - m) / s, (t - m) / s
    return float((pn - tn).square().sum(dim=(-2, -1)).sqrt().mean())


def npss(pred, target) -> float:
    """Normalised power spectrum similarity (Gopalakrishnan et al. 2019) as ``fast_npss`` of
    LaFAN1's ``benchmarks.py``: ``pred`` and ``target`` ``(B, T, ...)`` (trailing axes are flattened
    into ``D`` channels; the benchmark passes global quaternions ``(B, T, J*4)``, signs aligned,
    see :func:`align_quat_signs`) -> a scalar, 0 for identical spectra.

    Per window and channel: power = (real part of the FFT over time)^2, normalised by its sum over
    frequencies; EMD = L1 distance between the cumulative sums of the two normalised spectra; the
    result is the average of the EMDs weighted by the ground truth's total power. A channel whose
    ground truth has no power weighs 0 (and a prediction channel with no power counts as an empty
    spectrum)."""
    p, t = _t(pred), _t(target)
    if p.shape != t.shape:
        raise ValueError(f"prediction {tuple(p.shape)} and target {tuple(t.shape)} differ in shape")
    if p.dim() < 2 or p.shape[1] < 1:
        raise ValueError(f"npss needs (B, T, ...) sequences, got shape {tuple(p.shape)}")
    p, t = p.reshape(p.shape[0], p.shape[1], -1), t.reshape(t.shape[0], t.shape[1], -1)
    pp = torch.fft.fft(p, dim=1).real.square()  # (B, T, D)
    tp = torch.fft.fft(t, dim=1).real.square()
    p_tot, t_tot = pp.sum(1, keepdim=True), tp.sum(1, keepdim=True)  # (B, 1, D)
    p_norm = torch.where(p_tot > 0, pp / p_tot.clamp_min(1e-300), torch.zeros_like(pp))
    t_norm = torch.where(t_tot > 0, tp / t_tot.clamp_min(1e-300), torch.zeros_like(tp))
    emd = (p_norm.cumsum(1) - t_norm.cumsum(1)).abs().sum(1)  # (B, D)
    w = t_tot[:, 0]
    if not bool(w.sum() > 0):
        raise ValueError("npss: the ground truth has no power in any channel (all zeros)")
    return float((emd * w).sum() / w.sum())


def _frame(frame, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(frame, (tuple, list)) or len(frame) != 2:
        raise ValueError(f"{name} must be a pair (root (B, 3), rotations (B, J, 4))")
    root, rot = _t(frame[0]), _t(frame[1])
    _check_last(root, f"{name} root", 3, 2)
    _check_last(rot, f"{name} rotations", 4, 3)
    if root.shape[0] != rot.shape[0]:
        raise ValueError(f"{name}: {root.shape[0]} roots but {rot.shape[0]} rotation sets")
    return root, rot


def _gap(gap) -> int:
    g = int(gap)
    if g != gap or g < 1:
        raise ValueError(f"gap must be a positive whole number of frames, got {gap}")
    return g


def interpolation_inbetween(context_last_frame, target_frame, gap: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The interpolation baseline of LaFAN1 (``utils.interpolate_local``): the root lerped and every
    local rotation slerped (shortest arc) from the last context frame to the target frame.

    Args:
        context_last_frame: ``(root (B, 3), rotations (B, J, 4))``, local rotations xyzw. ``root`` is
            the translation of whichever joint carries the body's travel: the root joint's position
            in LaFAN1 (Hips); in Bandai-Namco files the Hips' translation channels (their joint_Root
            stays at the origin), so interpolate that one and keep the other translations as they are.
        target_frame: the same for the target (keyframe) after the gap.
        gap: number of in-between frames ``G``.

    Returns ``(roots (B, G, 3), rotations (B, G, J, 4))`` float64 for frames ``k = 1..G``, at weights
    ``k / (G + 1)`` (``linspace(0, 1, G + 2)[1:-1]``). Other joint translations (bone offsets) stay
    as in the skeleton; run FK on the result to get global positions and quaternions.
    """
    r0, q0 = _frame(context_last_frame, "context_last_frame")
    r1, q1 = _frame(target_frame, "target_frame")
    if q0.shape != q1.shape:
        raise ValueError(f"context {tuple(q0.shape)} and target {tuple(q1.shape)} rotations differ in shape")
    g = _gap(gap)
    w = torch.arange(1, g + 1, dtype=torch.float64, device=r0.device) / (g + 1)  # (G,)
    roots = r0[:, None] + w[None, :, None] * (r1 - r0)[:, None]
    rots = slerp(quat_normalize(q0)[:, None], quat_normalize(q1)[:, None], w[None, :, None])  # (B, G, J, 4)
    return roots, rots


def zero_velocity_inbetween(context_last_frame, gap: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The zero-velocity baseline of LaFAN1: the last context frame held over the gap.
    ``(root (B, 3), rotations (B, J, 4))`` -> ``(roots (B, G, 3), rotations (B, G, J, 4))``."""
    r0, q0 = _frame(context_last_frame, "context_last_frame")
    g = _gap(gap)
    return r0[:, None].expand(-1, g, -1).clone(), q0[:, None].expand(-1, g, -1, -1).clone()
