"""Which source joints drive each target joint: mapped joints, chains distributed between them,
and joints left at rest.

A target joint that is not mapped but lies on the path between a mapped ancestor ``a`` and a
single mapped descendant ``b`` (a spine of 2 joints against one of 4, CMU's ``LHipJoint``,
``LowerBack``, ``Neck1``) is *distributed*: both paths ``a -> b`` (target) and ``map(a) -> map(b)``
(source) are parametrised by normalised rest length ``u`` in [0, 1]; each joint drives the bone
from itself to the next joint on its path, the segment ``[u_k, u_next]``. A target joint takes the
world rotation interpolated (slerp) between the source segments around its segment's midpoint, so
equal chains reproduce the source exactly and unequal ones share its bend. A side branch of a
branching joint (CMU's ``LHipJoint`` between the hips and the upper leg) is not distributed: it is
part of the target's own pelvis or chest shape and stays rigid with it. Unmapped joints off
such paths (fingers, twist bones, a static ``joint_Root`` above the hips) stay at rest: identity
local rotation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motion3d.retarget.mapping import normalize_name
from motion3d.skeleton import Skeleton

__all__ = ["ChainPlan", "plan_chains", "path_between", "arc_lengths", "point_at"]

REST, MAPPED, CHAIN = 0, 1, 2


@dataclass
class ChainPlan:
    """Per target joint ``j`` (arrays of length ``J_target``):

    Attributes:
        kind: ``0`` rest, ``1`` mapped, ``2`` distributed along a chain.
        src0, src1, weight: the world rotation of ``j`` is ``slerp(D[src0], D[src1], weight)`` of
            the source's world rotations (mapped joints: ``src0 == src1``); ``-1`` for rest joints.
        chain: ``{j: (a, b)}``: the mapped target joints a distributed joint lies between.
    """

    kind: np.ndarray
    src0: np.ndarray
    src1: np.ndarray
    weight: np.ndarray
    chain: dict[int, tuple[int, int]]


def path_between(skeleton: Skeleton, a: int, b: int) -> list[int]:
    """Joints from ancestor ``a`` down to ``b`` (inclusive); ``ValueError`` if ``a`` is not an ancestor."""
    ch = skeleton.chain(b)
    if a not in ch:
        raise ValueError(f"{skeleton.names[a]!r} is not an ancestor of {skeleton.names[b]!r}")
    return ch[ch.index(a):]


def arc_lengths(rest: np.ndarray, path: list[int]) -> tuple[np.ndarray, float]:
    """``(u (n,), total)``: normalised cumulative rest length of each joint of ``path`` (``u = 0`` at
    the start, ``1`` at the end; all zeros when the path has no length)."""
    seg = np.linalg.norm(np.diff(rest[path], axis=0), axis=-1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(cum[-1])
    return (cum / total if total > 0 else np.zeros_like(cum)), total


def point_at(rest: np.ndarray, path: list[int], u: float) -> np.ndarray:
    """``(3,)`` the point at normalised length ``u`` along the polyline of ``path``'s rest positions."""
    uu, total = arc_lengths(rest, path)
    pts = rest[path]
    if total == 0:
        return pts[0].copy()
    return np.stack([np.interp(u, uu, pts[:, k]) for k in range(3)])


def _first_mapped_below(skeleton: Skeleton, j: int, mapped: set[int], children: list[list[int]]) -> set[int]:
    out, stack = set(), list(children[j])
    while stack:
        c = stack.pop()
        if c in mapped:
            out.add(c)
        else:
            stack.extend(children[c])
    return out


def plan_chains(source: Skeleton, target: Skeleton, pairs: dict[int, int], hips: int = 0) -> ChainPlan:
    """The plan for target joints given ``pairs`` ``{target index: source index}``. The target's
    ``hips`` (the trajectory joint) is the top of the plan: joints above it stay at rest even if
    mapped."""
    above = set(target.chain(hips)[:-1])
    pairs = {t: s for t, s in pairs.items() if t not in above}
    J = target.num_joints
    kind = np.zeros(J, dtype=np.int64)
    src0 = -np.ones(J, dtype=np.int64)
    src1 = -np.ones(J, dtype=np.int64)
    weight = np.zeros(J)
    chain: dict[int, tuple[int, int]] = {}
    mapped = set(pairs)
    children = [list(np.flatnonzero(target.parents == j)) for j in range(J)]
    sides = [normalize_name(n, target.names)[1] for n in target.names]
    rest_t, rest_s = target.rest_positions(), source.rest_positions()
    for j in range(J):
        if j in pairs:
            kind[j], src0[j], src1[j] = MAPPED, pairs[j], pairs[j]
            continue
        a = int(target.parents[j])
        while a >= 0 and a not in mapped:
            a = int(target.parents[a])
        below = _first_mapped_below(target, j, mapped, children)
        if a < 0 or len(below) != 1:
            continue  # above the hips, a leaf, or a branching point: stays at rest
        b = next(iter(below))
        if sides[b] is not None and len(_first_mapped_below(target, a, mapped, children)) >= 2:
            continue  # a side branch of the hips or chest (CMU's LHipJoint): rigid with its body part
        a_s, b_s = pairs[a], pairs[b]
        if a_s not in source.chain(b_s):
            continue
        path_t = path_between(target, a, b)
        path_s = path_between(source, a_s, b_s)
        u_t, _ = arc_lengths(rest_t, path_t)
        u_s, total_s = arc_lengths(rest_s, path_s)
        k = path_t.index(j)
        mid = 0.5 * (u_t[k] + u_t[k + 1])
        # source nodes: midpoints of the non-degenerate segments of the source path
        nodes = [(0.5 * (u_s[i] + u_s[i + 1]), path_s[i]) for i in range(len(path_s) - 1) if u_s[i + 1] > u_s[i]]
        if not nodes:
            nodes = [(0.0, a_s)]
        m = np.array([n for n, _ in nodes])
        ids = [s for _, s in nodes]
        kind[j] = CHAIN
        chain[j] = (a, b)
        if mid <= m[0]:
            src0[j] = src1[j] = ids[0]
        elif mid >= m[-1]:
            src0[j] = src1[j] = ids[-1]
        else:
            i = int(np.searchsorted(m, mid, side="right")) - 1
            src0[j], src1[j] = ids[i], ids[i + 1]
            weight[j] = (mid - m[i]) / (m[i + 1] - m[i])
    return ChainPlan(kind, src0, src1, weight, chain)
