"""Finding joints by their names: left/right pairs, sides, feet, the pelvis, facing pairs.

Names in the wild: ``LeftUpLeg``/``RightUpLeg`` (CMU BVH), ``LHipJoint``, ``lhand``/``rhand``,
``lfemur``/``rfemur`` (CMU ASF), ``Shoulder_L``/``Shoulder_R`` (Bandai-Namco), ``L_Hip`` (SMPL),
``mixamorig:LeftArm``, ``Bip01 L Thigh``, ``hand.L``, ``thigh_l`` (Unreal), ``CC_Base_L_Thigh``
(iClone / Character Creator), ``J_Bip_L_UpperLeg`` (VRM), ``DEF-thigh.L`` (Rigify), ``lShldr`` (DAZ). Every finder takes an explicit override for
rigs whose names say nothing.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np

from motion3d.skeleton import Skeleton

__all__ = [
    "joint_side",
    "find_mirror_pairs",
    "find_feet",
    "find_pelvis",
    "find_facing_pairs",
    "resolve_joints",
]

_SWAP_WORD = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}
_SWAP_LETTER = {"L": "R", "R": "L", "l": "r", "r": "l"}

# (pattern, group holding the side marker); tried in this order
_RULES = [
    re.compile(r"(left|right)", re.I),
    re.compile(r"(?<![A-Za-z])([LlRr])(?![A-Za-z])"),  # Shoulder_L, L_Hip, Bip01 L Thigh, hand.L
    re.compile(r"^(?:[^:|]*[:|])?([LR])(?=[A-Z])"),  # LHipJoint, LThumb, ns:LArm
    re.compile(r"^(?:[^:|]*[:|])?([lr])(?=[a-z])"),  # lhand, lfemur (only if rhand/rfemur exist)
    re.compile(r"^(?:[^:|]*[:|])?([lr])(?=[A-Z])"),  # lShldr, lThigh, lForeArm (DAZ / Poser)
    re.compile(r"(?<=[a-z])([LR])$"),  # ShoulderL
]


def side_swaps(name: str):
    """Yield ``(counterpart_name, side)`` candidates for ``name`` (``"LeftArm"`` -> ``("RightArm",
    "left")``), most specific rule first: the left/right naming rules used by mirroring and
    retargeting."""
    for rx in _RULES:
        for m in rx.finditer(name):
            tok = m.group(1)
            other = _SWAP_WORD.get(tok) or _SWAP_LETTER.get(tok)
            if other is None:  # mixed-case word such as 'lEFT'
                other = "right" if tok.lower() == "left" else "left"
            side = "left" if tok.lower() in ("left", "l") else "right"
            yield name[: m.start(1)] + other + name[m.end(1):], side


def joint_side(name: str, names: Sequence[str] | None = None) -> str | None:
    """``"left"``, ``"right"`` or ``None`` for a joint name. With ``names`` (the skeleton's joint
    names) only a marker whose swapped name exists counts, which rules out ``lowerback``."""
    for other, side in side_swaps(name):
        if names is None or other in names:
            return side
    return None


def find_mirror_pairs(
    skeleton: Skeleton, pairs: Mapping[str, str] | Sequence[tuple[str, str]] | None = None
) -> np.ndarray:
    """The left/right permutation of the joints: ``(J,)`` int array ``perm`` with ``perm[j]`` the
    mirror partner of joint ``j`` (itself for centre joints). ``perm`` is an involution and maps
    every joint's parent to its partner's parent.

    ``pairs`` overrides or completes the name-based matching: ``{"lhip_x": "rhip_x", ...}`` or
    ``[(left, right), ...]`` (each pair in either order)."""
    names = skeleton.names
    J = len(names)
    perm = np.arange(J)
    explicit: dict[int, int] = {}
    if pairs is not None:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        for a, b in items:
            ia, ib = skeleton.index(a), skeleton.index(b)
            explicit[ia], explicit[ib] = ib, ia
    index = {n: i for i, n in enumerate(names)}
    for j, n in enumerate(names):
        if j in explicit:
            perm[j] = explicit[j]
            continue
        for other, _ in side_swaps(n):
            k = index.get(other)
            if k is not None and k != j and k not in explicit:
                perm[j] = k
                break
    bad = [names[j] for j in range(J) if perm[perm[j]] != j]
    if bad:
        raise ValueError(
            f"left/right matching by name is ambiguous for {bad}; pass pairs={{left: right, ...}}"
        )
    par = skeleton.parents
    bad = [
        f"{names[j]}<->{names[perm[j]]}"
        for j in range(1, J)
        if perm[par[j]] != par[perm[j]]
    ]
    if bad or perm[0] != 0:
        raise ValueError(
            "left/right pairs must map each joint's parent to its partner's parent (and the root to "
            f"itself); offending pairs: {bad or [names[0]]}; fix them with pairs={{left: right, ...}}"
        )
    return perm


def resolve_joints(skeleton: Skeleton, joints: Sequence[str | int]) -> list[int]:
    """Joint indices from names or indices (KeyError naming the joint when a name is unknown)."""
    out = []
    for j in joints:
        if isinstance(j, str):
            out.append(skeleton.index(j))
        else:
            j = int(j)
            if not 0 <= j < skeleton.num_joints:
                raise IndexError(f"joint index {j} out of range for {skeleton.num_joints} joints")
            out.append(j)
    return out


_FOOT_RX = re.compile(r"foot|ankle|toe|ball|heel", re.I)


def find_feet(skeleton: Skeleton, feet: Sequence[str | int] | None = None) -> list[int]:
    """Foot joints used for contacts and floor detection: for each side (left first), the joints
    named like ``foot``/``ankle``/``toe``/``ball``/``heel``, shallowest first (ankle, then toe).
    ``feet`` overrides (names or indices). Raises ``ValueError`` when nothing matches."""
    if feet is not None:
        return resolve_joints(skeleton, feet)
    names = skeleton.names
    depth = skeleton.depths
    out = []
    for side in ("left", "right"):
        js = [j for j, n in enumerate(names) if _FOOT_RX.search(n) and joint_side(n, names) == side]
        out += sorted(js, key=lambda j: (depth[j], j))
    if not out:
        raise ValueError(
            f"no foot joints found by name (foot/ankle/toe with a left/right marker) among "
            f"{names}; pass feet=[...]"
        )
    return out


def find_pelvis(skeleton: Skeleton, pelvis: str | int | None = None) -> int:
    """The joint that carries the body's trajectory: the first joint (in tree order) with two or
    more children, e.g. CMU ``Hips`` (joint 0) or Bandai-Namco ``Hips`` (joint 1, below a static
    ``joint_Root``). ``pelvis`` overrides (name or index)."""
    if pelvis is not None:
        return resolve_joints(skeleton, [pelvis])[0]
    return skeleton.pelvis()


_HIP_RX = re.compile(r"up.?leg|upperleg|thigh|femur|hip(?!.?joint)", re.I)
_SHOULDER_RX = re.compile(r"(?<!fore)(?<!lower)arm|shoulder|humerus|clavicle|collar", re.I)


def find_facing_pairs(
    skeleton: Skeleton, facing_joints: Sequence[tuple[str | int, str | int]] | None = None
) -> list[tuple[int, int]]:
    """``[(left hip, right hip), (left shoulder, right shoulder)]`` (whichever are found): the
    pairs whose across vectors give the facing direction; of several candidates (clavicle and
    upper arm) the pair farthest apart in the rest pose. ``facing_joints`` overrides."""
    if facing_joints is not None:
        return [tuple(resolve_joints(skeleton, p)) for p in facing_joints]
    names = skeleton.names
    perm = find_mirror_pairs(skeleton)
    rest = skeleton.rest_positions()
    out = []
    for rx in (_HIP_RX, _SHOULDER_RX):
        cands = [
            j for j, n in enumerate(names)
            if perm[j] != j and rx.search(n) and joint_side(n, names) == "left"
        ]
        if cands:
            # the widest pair (CMU's clavicles start at the spine, its arms do not)
            j = max(cands, key=lambda k: np.linalg.norm(rest[k] - rest[perm[k]]))
            out.append((j, int(perm[j])))
    if not out:
        raise ValueError(
            f"no left/right hip or shoulder joints found by name among {names}; "
            "pass facing_joints=[(left_hip, right_hip), (left_shoulder, right_shoulder)]"
        )
    return out
