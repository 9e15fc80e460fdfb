"""Retarget a clip onto another skeleton: :func:`retarget` (analytic) and :func:`naive_copy`
(the evaluation baseline).

The analytic method, top to bottom:

1. mapping: target joint <- source joint by canonical roles (:mod:`motion3d.retarget.mapping`);
2. chains: unmapped target joints between mapped ones are distributed (:mod:`.chains`);
3. rest alignment ``A`` (:mod:`.align`): ``G_t[j](t) = G_s[s](t) @ A[j]`` for world rotations;
4. root: the source hips path times the leg-length ratio (:mod:`.root`), hips joints on both sides
   being the trajectory joints; then world rotations to local ones (:mod:`.compose`);
5. options: feet on the floor (a constant vertical shift), foot-contact cleanup with IK
   (:mod:`.cleanup`).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from motion3d.geometry.kinematics import forward_kinematics_np
from motion3d.geometry.rotations import np_matrix_to_quat, quat_to_matrix, slerp
from motion3d.motion import Motion
from motion3d.ops.contacts import foot_contacts
from motion3d.retarget.align import rest_alignment
from motion3d.retarget.chains import MAPPED, REST, plan_chains
from motion3d.retarget.cleanup import plant_feet
from motion3d.retarget.compose import assemble
from motion3d.retarget.mapping import JointMapping, MappingError, auto_mapping, check_mapping, load_mapping
from motion3d.retarget.root import floor_offset, root_scale
from motion3d.skeleton import Skeleton

__all__ = ["retarget", "naive_copy", "resolve_mapping"]

def resolve_mapping(source: Skeleton, target: Skeleton, mapping=None) -> JointMapping:
    """A checked :class:`JointMapping` from ``None`` (automatic), a YAML path, a
    ``{target: source}`` dict (merged over the automatic pairs) or a JointMapping."""
    if mapping is None:
        m = auto_mapping(source, target)
    elif isinstance(mapping, JointMapping):
        m = mapping
    elif isinstance(mapping, (str, os.PathLike)):
        m = load_mapping(Path(mapping), source, target)
    elif isinstance(mapping, dict):
        m = auto_mapping(source, target)
        for t, s in mapping.items():
            if s is None:
                m.pairs.pop(t, None)
            else:
                m.pairs[t] = s
                role = m.role_of(t)
                if role is not None:
                    m.source_roles[role] = s
    else:
        raise TypeError(f"mapping must be None, a YAML path, a dict or a JointMapping, not {type(mapping).__name__}")
    check_mapping(m, source, target)
    return m


def _role_indices(sk: Skeleton, roles: dict[str, str]) -> dict[str, int]:
    return {r: sk.index(n) for r, n in roles.items() if n in sk.names}


def _world_rotations(Gs: np.ndarray, plan, A: np.ndarray) -> np.ndarray:
    """``(T, J_t, 3, 3)`` target world rotations from the source's ``Gs (T, J_s, 3, 3)``; joints at
    rest get identity here (filled from their parents later)."""
    T, J = Gs.shape[0], len(plan.kind)
    G = np.broadcast_to(np.eye(3), (T, J, 3, 3)).copy()
    mapped = np.flatnonzero(plan.kind == MAPPED)
    G[:, mapped] = Gs[:, plan.src0[mapped]] @ A[mapped]
    chain = np.flatnonzero(plan.kind > MAPPED)
    if len(chain):
        q0 = torch.from_numpy(np_matrix_to_quat(Gs[:, plan.src0[chain]]))
        q1 = torch.from_numpy(np_matrix_to_quat(Gs[:, plan.src1[chain]]))
        D = quat_to_matrix(slerp(q0, q1, torch.from_numpy(plan.weight[chain]))).numpy()
        G[:, chain] = D @ A[chain]
    return G


def retarget(
    source: Motion,
    target: Skeleton,
    mapping=None,
    scale_root: bool = True,
    feet_on_floor: bool = False,
    cleanup_feet: bool = False,
) -> Motion:
    """``source`` (``T`` frames) on the ``target`` skeleton.

    Args:
        source: the clip.
        target: the skeleton to put it on (its channels and rest offsets are kept).
        mapping: ``None`` (automatic, by joint names), a YAML file, ``{target: source}`` pairs, or
            a :class:`JointMapping` (see :func:`resolve_mapping`).
        scale_root: scale the hips trajectory by target / source leg length.
        feet_on_floor: shift the result vertically so its lowest foot point is at the (scaled)
            source floor.
        cleanup_feet: keep the target's feet planted while the source's are in contact (IK).
    Returns a Motion on ``target`` with ``T`` frames at the source's fps.
    Raises:
        MappingError: listing the roles (hips, spine, limbs) that cannot be paired.
    """
    src = source.skeleton
    m = resolve_mapping(src, target, mapping)
    rs, rt = _role_indices(src, m.source_roles), _role_indices(target, m.target_roles)
    above = set(target.chain(rt["hips"])[:-1])
    pairs = {t: s for t, s in m.indices(src, target).items() if t not in above}
    plan = plan_chains(src, target, pairs, rt["hips"])
    A = rest_alignment(src, target, pairs, plan)
    Gs, Ps = source.forward_kinematics()
    G = _world_rotations(Gs, plan, A)
    scale = root_scale(src, target, rs, rt) if scale_root else 1.0
    hips_world = scale * Ps[:, rs["hips"]]
    driven = plan.kind != REST
    out = assemble(target, G, driven, rt["hips"], hips_world, source.fps, source.name)
    if feet_on_floor:
        hips_world = hips_world + np.array([0.0, floor_offset(source, out, scale), 0.0])
        out = assemble(target, G, driven, rt["hips"], hips_world, source.fps, source.name)
    if cleanup_feet:
        out = _cleanup(source, out, rs, rt, driven)
    return out


def _cleanup(source: Motion, out: Motion, rs: dict[str, int], rt: dict[str, int], driven) -> Motion:
    sides = [s for s in ("left", "right")
             if all(f"{s}_{r}" in rt for r in ("upper_leg", "lower_leg", "foot")) and f"{s}_foot" in rs]
    if not sides:
        raise MappingError("foot cleanup needs the legs (upper leg, lower leg, foot) mapped on both skeletons")
    contacts = foot_contacts(source, feet=[rs[f"{s}_foot"] for s in sides])
    legs = [(rt[f"{s}_upper_leg"], rt[f"{s}_lower_leg"], rt[f"{s}_foot"]) for s in sides]
    return plant_feet(out, contacts, legs, driven)


def naive_copy(source: Motion, target: Skeleton, mapping=None, scale_root: bool = True) -> Motion:
    """The baseline: local rotations copied by joint mapping, no rest-pose alignment; unmapped
    target joints at identity; the hips placed on the source's hips path (times the leg-length
    ratio when ``scale_root``), exactly as :func:`retarget` places it."""
    src = source.skeleton
    m = resolve_mapping(src, target, mapping)
    rs, rt = _role_indices(src, m.source_roles), _role_indices(target, m.target_roles)
    above = set(target.chain(rt["hips"])[:-1])
    pairs = {t: s for t, s in m.indices(src, target).items() if t not in above}
    T, J = source.num_frames, target.num_joints
    rot = np.zeros((T, J, 4))
    rot[..., 3] = 1.0
    jt = np.array(sorted(pairs), dtype=np.int64)
    rot[:, jt] = source.rotations[:, [pairs[j] for j in jt]]
    scale = root_scale(src, target, rs, rt) if scale_root else 1.0
    hips_world = scale * source.positions()[:, rs["hips"]]
    # world rotations of the copy (joints above the hips are unmapped: identity), assembled as retarget's
    G, _ = forward_kinematics_np(rot, target.offsets, target.parents, np.zeros((T, 3)))
    return assemble(target, G, np.ones(J, bool), rt["hips"], hips_world, source.fps, source.name)
