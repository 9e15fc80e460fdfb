"""Synthetic capture errors for training and measuring motion clean-up (Holden 2018 corrupts clean
capture the same way): jitter, spikes, left/right swaps, gaps and foot sliding, applied on the fly
to batches of clean windows, seeded by a ``torch.Generator``, vectorised over clips, frames and joints.

Two layers:

1. Pose corruptions on local rotation matrices ``rot (B, T, J, 3, 3)`` and root positions
   ``root (B, T, 3)`` (:func:`jitter`, :func:`spikes`, :func:`swap_limbs`, :func:`foot_slide`), and
   the gap mask :func:`gap_mask`. Magnitudes are in degrees and in file units (the caller scales
   body-height fractions by ``Skeleton.height()``).
2. :func:`corrupt_features`: the same on (normalised) rot6d feature windows ``(B, T, D)``: the 6D
   rotations become matrices, the root trajectory is integrated to positions, the clip is
   corrupted, and both are encoded back; gaps come back as a mask ``known (B, T, D)`` (the values
   under an unknown entry are the clean ones; a model must not look at them, except that the root's
   steps under a root gap sum to its true displacement across the gap, which a capture measures:
   :func:`motion3d.tasks.cleanup.fill_root_gaps` uses that sum and nothing else)

:class:`Corruption` holds the kinds and their parameters (a config's ``corruption:`` mapping,
defaults in :data:`DEFAULTS`); each clip of a batch gets each kind independently with that kind's
probability ``p``, so some clips are clean and some carry several kinds at once.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch

from motion3d.features import MotionRepresentation, Normalizer
from motion3d.features.trajectory import decode_trajectory, encode_trajectory
from motion3d.geometry.rotations import axis_angle_to_matrix, matrix_to_6d, sixd_to_matrix
from motion3d.ops.joints import find_mirror_pairs
from motion3d.ops.mirror import mirror_frame_corrections, reflection_matrix
from motion3d.skeleton import Skeleton

__all__ = ["KINDS", "DEFAULTS", "Corruption", "jitter", "spikes", "swap_limbs", "limb_pairs", "gap_mask",
           "foot_slide", "corrupt_features"]

KINDS = ("jitter", "spikes", "swaps", "gaps", "foot_slide")

#: every kind's parameters. ``p``: probability that a clip gets the kind. Lengths are fractions of
#: the body height, durations seconds, angles degrees.
DEFAULTS: dict[str, dict[str, float]] = {
    # Gaussian noise on every joint rotation (axis-angle, per component) and on the root position
    "jitter": {"p": 0.5, "rotation_deg": 3.0, "position": 0.004},
    # outliers: spike starts per frame, each lasting 1..frames frames, on a fraction of the joints
    # (each clip's fraction drawn from joints * [1 - joints_spread, 1]: 0, the same on every clip)
    "spikes": {"p": 0.3, "rate": 0.03, "frames": 2, "joints": 0.3, "rotation_deg": 45.0, "position": 0.05,
               "joints_spread": 0.0},
    # a left and a right limb exchanged (mirrored) over `count` spans of min_s..max_s seconds
    "swaps": {"p": 0.2, "count": 1, "min_s": 0.1, "max_s": 0.5},
    # `count` spans of min_s..max_s seconds where a fraction `joints` of the joints (and the root with
    # the same chance) are missing, or, with probability frame_p, whole frames
    "gaps": {"p": 0.3, "count": 1, "min_s": 0.1, "max_s": 1.0, "joints": 0.3, "frame_p": 0.3},
    # the body drifts at `speed` body heights per second while a foot is in contact
    "foot_slide": {"p": 0.2, "speed": 0.1},
}

#: the parameters that grow with a kind's strength (:meth:`Corruption.only`)
_MAGNITUDES = {"jitter": ("rotation_deg", "position"), "spikes": ("rotation_deg", "position"),
               "swaps": ("min_s", "max_s"), "gaps": ("min_s", "max_s"), "foot_slide": ("speed",)}


@dataclass
class Corruption:
    """Kinds of corruption and their parameters: ``{kind: {param: value}}`` over :data:`DEFAULTS`.

    ``Corruption.of({"jitter": {"p": 1.0}, "gaps": None})``: the listed kinds only, each with the
    defaults of the parameters it does not name (``None``: all defaults). Unknown kinds or
    parameters are an error listing the known ones."""

    kinds: dict[str, dict[str, float]] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))

    @classmethod
    def of(cls, value: "Corruption | Mapping[str, Any] | None") -> "Corruption":
        if value is None:
            return cls()
        if isinstance(value, Corruption):
            return cls(copy.deepcopy(value.kinds))
        if not isinstance(value, Mapping):
            raise TypeError(f"corruption must be a mapping of kinds to parameters, got {type(value).__name__}")
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown corruption kind(s) {unknown}; known: {list(KINDS)}")
        kinds = {}
        for kind, params in value.items():
            params = dict(params or {})
            bad = sorted(set(params) - set(DEFAULTS[kind]))
            if bad:
                raise ValueError(f"corruption {kind!r} has no parameter(s) {bad}; known: {list(DEFAULTS[kind])}")
            merged = {**DEFAULTS[kind], **{k: float(v) for k, v in params.items()}}
            neg = {k: v for k, v in merged.items() if not v >= 0}
            if neg:
                raise ValueError(f"corruption {kind!r}: parameters must be >= 0, got {neg}")
            if merged["p"] > 1:
                raise ValueError(f"corruption {kind!r}: p is a probability, got {merged['p']}")
            kinds[kind] = merged
        return cls(kinds)

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {k: {p: float(v) for p, v in params.items()} for k, params in self.kinds.items()}

    def only(self, kind: str, strength: float = 1.0) -> "Corruption":
        """This corruption's ``kind`` alone, on every clip (``p = 1``), its magnitudes (angles,
        lengths, speeds, durations) times ``strength``: the evaluation's rows."""
        if kind not in KINDS:
            raise ValueError(f"unknown corruption kind {kind!r}; known: {list(KINDS)}")
        params = dict(self.kinds.get(kind, DEFAULTS[kind]))
        params["p"] = 1.0
        for name in _MAGNITUDES[kind]:
            params[name] = params[name] * float(strength)
        return Corruption({kind: params})


# ---------------------------------------------------------------------------------------------
# 1. pose corruptions
# ---------------------------------------------------------------------------------------------
def _rand(shape, generator, device) -> torch.Tensor:
    return torch.rand(shape, generator=generator).to(device)


def _randn(shape, generator, device) -> torch.Tensor:
    return torch.randn(shape, generator=generator).to(device)


def _random_rotations(shape, angle_rad: torch.Tensor | float, generator, device, gaussian: bool) -> torch.Tensor:
    """Rotation matrices ``shape + (3, 3)``: Gaussian axis-angle of std ``angle_rad`` per component
    (``gaussian``), or a uniform random axis with an angle uniform in ``[angle/2, angle]``."""
    if gaussian:
        aa = _randn(tuple(shape) + (3,), generator, device) * angle_rad
    else:
        axis = _randn(tuple(shape) + (3,), generator, device)
        axis = axis / axis.norm(dim=-1, keepdim=True).clamp(min=1e-9)
        aa = axis * (angle_rad * (0.5 + 0.5 * _rand(tuple(shape) + (1,), generator, device)))
    return axis_angle_to_matrix(aa)


def jitter(rot: torch.Tensor, root: torch.Tensor, apply: torch.Tensor, rotation_deg: float, position: float,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian jitter on clips where ``apply (B,)``: every joint rotation ``rot (B, T, J, 3, 3)`` turned
    by an axis-angle of std ``rotation_deg`` per component, root positions ``root (B, T, 3)`` moved by
    noise of std ``position`` (file units). Returns ``(rot, root)``."""
    B, T, J = rot.shape[:3]
    dev = rot.device
    noise = _random_rotations((B, T, J), math.radians(rotation_deg), generator, dev, gaussian=True).to(rot.dtype)
    dp = _randn((B, T, 3), generator, dev).to(root.dtype) * position
    a = apply.view(B, 1, 1)
    return (torch.where(a[..., None, None], rot @ noise, rot), torch.where(a, root + dp, root))


def _spans(B: int, T: int, count: int, min_frames: float, max_frames: float, generator, device) -> torch.Tensor:
    """``(B, count, T)`` bool: ``count`` random spans per clip of ``min_frames .. max_frames`` frames."""
    n = max(1, int(count))
    length = (min_frames + (max_frames - min_frames) * _rand((B, n, 1), generator, device)).round().clamp(1, T)
    start = (_rand((B, n, 1), generator, device) * (T - length + 1)).floor()
    t = torch.arange(T, device=device).view(1, 1, T)
    return (t >= start) & (t < start + length)


def spikes(rot: torch.Tensor, root: torch.Tensor, apply: torch.Tensor, rate: float, frames: float, joints: float,
           rotation_deg: float, position: float, generator: torch.Generator | None = None,
           joints_spread: float = 0.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Outliers on clips where ``apply (B,)``: spikes start at each frame with probability ``rate`` and
    last ``frames`` frames; on spike frames a fraction ``joints`` of the joints turn by a random axis
    and an angle in ``[rotation_deg/2, rotation_deg]``, and the root jumps by ``position`` (file
    units) in a random direction (with the same chance as a joint). ``joints_spread`` in [0, 1]: each
    clip's fraction is drawn from ``joints * [1 - joints_spread, 1]`` instead (1: down to a lone
    joint, as a swapped marker makes, up to ``joints``; a fixed fraction only ever shows the network
    many joints jumping at once). ``rot (B, T, J, 3, 3)``,
    ``root (B, T, 3)``. Returns ``(rot, root, hit (B, T, J + 1))``, ``hit[..., J]`` the root."""
    B, T, J = rot.shape[:3]
    dev = rot.device
    starts = (_rand((B, T), generator, dev) < rate) & apply[:, None]
    k = max(1, int(frames))
    # a spike covers frames start .. start + k - 1: a running max over the last k starts
    padded = torch.nn.functional.pad(starts.float()[:, None], (k - 1, 0))
    on = torch.nn.functional.max_pool1d(padded, k, stride=1)[:, 0] > 0  # (B, T)
    frac = joints
    if joints_spread > 0:  # drawn only then: the same draws as before for a fixed fraction
        frac = joints * (1 - min(float(joints_spread), 1.0) * _rand((B, 1, 1), generator, dev))
    hit = on[..., None] & (_rand((B, T, J + 1), generator, dev) < frac)
    turn = _random_rotations((B, T, J), math.radians(rotation_deg), generator, dev, gaussian=False).to(rot.dtype)
    rot = torch.where(hit[..., :J, None, None], rot @ turn, rot)
    d = _randn((B, T, 3), generator, dev).to(root.dtype)
    d = d / d.norm(dim=-1, keepdim=True).clamp(min=1e-9) * position
    root = torch.where(hit[..., J:], root + d, root)
    return rot, root, hit


def limb_pairs(skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The skeleton's left/right limbs: ``(perm (J,), pairs (L, J) bool, corrections (J, 3, 3))``.

    A limb is the subtree under a side joint whose parent is a centre joint (the shoulder or the
    upper leg); row ``l`` of ``pairs`` marks the joints of one left limb and of its right partner.
    ``perm``: :func:`motion3d.ops.find_mirror_pairs`; ``corrections``: the mirror frame
    corrections of :func:`motion3d.ops.mirror.mirror_frame_corrections`. A skeleton without left/right
    pairs is a ``ValueError`` naming its joints."""
    perm = find_mirror_pairs(skeleton)
    par = skeleton.parents
    J = skeleton.num_joints
    roots = [j for j in range(1, J) if perm[j] > j and perm[par[j]] == par[j]]
    if not roots:
        raise ValueError(f"the skeleton has no left/right limbs to swap (joints: {skeleton.names[:8]} ...)")
    pairs = np.zeros((len(roots), J), dtype=bool)
    for i, r in enumerate(roots):
        for side in (r, int(perm[r])):
            inside = np.zeros(J, dtype=bool)
            inside[side] = True
            for j in range(side + 1, J):  # parents come before children
                inside[j] |= inside[par[j]]
            pairs[i] |= inside
    return perm, pairs, mirror_frame_corrections(skeleton, perm)


def swap_limbs(rot: torch.Tensor, apply: torch.Tensor, perm: np.ndarray, pairs: np.ndarray, corrections: np.ndarray,
               parents: np.ndarray, count: float, min_frames: float, max_frames: float,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mislabelled markers: on clips where ``apply (B,)``, over ``count`` spans of ``min_frames ..
    max_frames`` frames, one random limb pair (a row of ``pairs (L, J)``) does what its partner did,
    mirrored: ``L'[j] = B[p(j)]^T (M L[s(j)] M) B[j]`` (:mod:`motion3d.ops.mirror`). ``rot (B, T, J, 3, 3)``
    local rotations of all ``J`` joints. Returns ``(rot, swapped (B, T, J) bool)``."""
    B, T, J = rot.shape[:3]
    dev, dt = rot.device, rot.dtype
    M = torch.as_tensor(reflection_matrix("x"), dtype=dt, device=dev)
    Bj = torch.as_tensor(corrections, dtype=dt, device=dev)  # (J, 3, 3)
    Bp = torch.cat([torch.eye(3, dtype=dt, device=dev)[None], Bj[torch.as_tensor(parents[1:], device=dev)]])
    mirrored = Bp.transpose(-1, -2) @ (M @ rot[:, :, torch.as_tensor(perm, device=dev)] @ M) @ Bj
    span = _spans(B, T, count, min_frames, max_frames, generator, dev).any(1) & apply[:, None]  # (B, T)
    which = (_rand((B,), generator, dev) * pairs.shape[0]).long().clamp(max=pairs.shape[0] - 1)
    limb = torch.as_tensor(pairs, device=dev)[which]  # (B, J)
    swapped = span[:, :, None] & limb[:, None, :]
    return torch.where(swapped[..., None, None], mirrored, rot), swapped


def gap_mask(B: int, T: int, J: int, fps: float, apply: torch.Tensor, count: float, min_s: float, max_s: float,
             joints: float, frame_p: float, generator: torch.Generator | None = None,
             device: torch.device | str = "cpu") -> torch.Tensor:
    """Missing data: ``(B, T, J + 1)`` bool, True where joint ``j`` (column ``J``: the root
    position) is missing. On clips where ``apply (B,)``, ``count`` spans of ``min_s .. max_s`` seconds;
    in each span a fraction ``joints`` of the columns is missing, or, with probability ``frame_p``,
    all of them (whole frames lost)."""
    n = max(1, int(count))
    span = _spans(B, T, n, min_s * fps, max_s * fps, generator, device) & apply.view(B, 1, 1)  # (B, n, T)
    whole = _rand((B, n, 1), generator, device) < frame_p
    cols = (_rand((B, n, J + 1), generator, device) < joints) | whole
    return (span[..., None] & cols[:, :, None, :]).any(1)


def foot_slide(root: torch.Tensor, contact: torch.Tensor, apply: torch.Tensor, speed: float, fps: float,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Foot sliding: on clips where ``apply (B,)``, the root ``(B, T, 3)`` drifts on the floor plane
    in a random direction at ``speed`` (file units per second) on the frames where ``contact (B, T)``
    says a foot is planted (so the planted foot slides with it). Returns ``(root, sliding (B, T))``."""
    B, T = contact.shape
    dev = root.device
    ang = _rand((B,), generator, dev) * (2 * math.pi)
    d = torch.stack([torch.cos(ang), torch.zeros_like(ang), torch.sin(ang)], -1).to(root.dtype)  # (B, 3)
    sliding = contact.bool() & apply[:, None]
    step = sliding.to(root.dtype)[..., None] * d[:, None] * (speed / fps)
    return root + torch.cumsum(step, dim=1), sliding


# ---------------------------------------------------------------------------------------------
# 2. on feature windows
# ---------------------------------------------------------------------------------------------
def _check_rep(rep: MotionRepresentation) -> None:
    need = ("root_height", "root_velocity", "root_angular_velocity", "rotations")
    if not all(k in rep.layout for k in need) or not hasattr(rep, "body"):
        raise ValueError(f"corrupt_features needs rot6d features (root trajectory + 6D rotations), got {rep}")


def corrupt_features(rep: MotionRepresentation, normalizer: Normalizer, x: torch.Tensor,
                     corruption: Corruption | Mapping | None = None, generator: torch.Generator | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Corrupt normalised rot6d windows ``x (B, T, D)``.

    Returns ``(x_corrupt (B, T, D), known (B, T, D) bool, applied {kind: (B,) bool})``:
    ``known`` is False on the channels of missing joints (their 6D rotation; the root trajectory
    channels for a missing root) during gaps; ``applied`` says which clips got which kind. Contacts
    and translations channels are left as they were. Float32 in, float32 out; no gradient needed.
    """
    _check_rep(rep)
    c = Corruption.of(corruption)
    B, T, D = x.shape
    dev = x.device
    g = generator
    sk = rep.skeleton
    h = float(sk.height())
    fps = float(rep.fps or 30.0)
    body = list(rep.body)
    Jb = len(body)
    f = normalizer.denormalize(x.float())  # (B, T, D) float32: corruption needs no more
    rs = rep.slice("rotations")
    rot = sixd_to_matrix(f[..., rs].reshape(B, T, Jb, 6))  # (B, T, Jb, 3, 3)
    root, heading = decode_trajectory(f[..., 0:4])  # (B, T, 3), (B, T)
    # each kind on each clip with its probability (drawn first, in KINDS order, so that a kind's
    # parameters do not change which clips get the others)
    applied = {k: (_rand((B,), g, dev) < c.kinds[k]["p"]) if k in c.kinds else torch.zeros(B, dtype=torch.bool,
                                                                                                device=dev)
               for k in KINDS}
    if "foot_slide" in c.kinds and "contacts" in rep.layout and getattr(rep, "feet", None):
        contact = (f[..., rep.slice("contacts")] > 0.5).any(-1)  # (B, T)
        root, _ = foot_slide(root, contact, applied["foot_slide"], c.kinds["foot_slide"]["speed"] * h, fps, g)
    if "swaps" in c.kinds:
        p = c.kinds["swaps"]
        perm, pairs, corr = limb_pairs(sk)
        # in body-joint indices (the pelvis' ancestors are not features and are never limbs)
        pos = {j: i for i, j in enumerate(body)}
        bperm = np.array([pos[int(perm[j])] for j in body])
        bpar = np.array([pos.get(int(sk.parents[j]), -1) for j in body])
        bcorr = corr[body]
        # corrections of a body joint's parent: the parent's own, identity for the pelvis
        full_par = np.concatenate([[0], bpar[1:]]) if bpar[0] < 0 else bpar
        rot_sw, _ = swap_limbs(rot, applied["swaps"], bperm, pairs[:, body], bcorr, full_par, p["count"],
                               p["min_s"] * fps, p["max_s"] * fps, g)
        rot = rot_sw
    if "spikes" in c.kinds:
        p = c.kinds["spikes"]
        rot, root, _ = spikes(rot, root, applied["spikes"], p["rate"], p["frames"], p["joints"], p["rotation_deg"],
                              p["position"] * h, g, p["joints_spread"])
    if "jitter" in c.kinds:
        p = c.kinds["jitter"]
        rot, root = jitter(rot, root, applied["jitter"], p["rotation_deg"], p["position"] * h, g)
    out = f.clone()
    out[..., rs] = matrix_to_6d(rot).reshape(B, T, Jb * 6)
    traj = encode_trajectory(root, heading)
    out[..., 0:3] = traj[..., 0:3]  # height and planar velocity; the heading is kept
    known = torch.ones(B, T, D, dtype=torch.bool, device=dev)
    if "gaps" in c.kinds:
        p = c.kinds["gaps"]
        miss = gap_mask(B, T, Jb, fps, applied["gaps"], p["count"], p["min_s"], p["max_s"], p["joints"],
                        p["frame_p"], g, dev)  # (B, T, Jb + 1)
        rot_miss = miss[..., :Jb, None].expand(B, T, Jb, 6).reshape(B, T, Jb * 6)
        known[..., rs] = ~rot_miss
        known[..., 0:4] = ~miss[..., Jb:]
    return normalizer.normalize(out).float(), known, applied
