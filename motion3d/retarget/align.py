"""Rest-pose alignment: per target joint, the rotation ``A[j]`` that puts the target's rest bones
along the source's rest bones.

Both skeletons' rest poses are their identity poses (every local rotation identity: a T-pose for
CMU, an arms-down pose for CMU 131, all bones along local X for Bandai-Namco). ``A[j]`` is the
world rotation of target joint ``j`` in the *reference pose*: the target posed so that each mapped
bone points like the source's rest bone. Retargeting then transfers world rotations relative to
rest (source rest world rotations are identity)::

    G_t[j](t) = G_s[s](t) @ G_s_rest[s]^-1 @ A[j] = G_s[s](t) @ A[j]

so every mapped target bone points exactly where the source bone points, whatever the two rest
poses and local axis conventions. ``A`` is built down the tree, each joint starting from its
parent's ``A`` (so the twist about a bone follows the parent, the natural choice for T- vs A-pose):

* one mapped bone below ``j``: the shortest-arc swing of ``A[parent] v_t`` onto ``v_s``;
* several (hips, chest): the frame of (centre branch, left minus right branch), or a least-squares
  fit (Kabsch) of all branch directions when there is no centre/left/right split;
* no bone (hands, head, toes without mapped children): the parent's ``A``.

Bone vectors are rest-pose differences between mapped joints; zero-length bones (CMU's
``LHipJoint``, ``LeftShoulder`` at the spine) are skipped by looking one mapped joint further.
"""
from __future__ import annotations

import numpy as np
import torch

from motion3d.geometry.rotations import quat_between, quat_to_matrix
from motion3d.retarget.chains import CHAIN, MAPPED, ChainPlan, arc_lengths, path_between, point_at
from motion3d.retarget.mapping import normalize_name
from motion3d.skeleton import Skeleton

__all__ = ["rest_alignment", "swing_matrix", "frame_alignment", "kabsch"]


def swing_matrix(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``(3, 3)`` shortest-arc rotation taking direction ``u`` onto ``v`` (``(3,)`` each)."""
    q = quat_between(torch.as_tensor(u, dtype=torch.float64), torch.as_tensor(v, dtype=torch.float64))
    return quat_to_matrix(q).numpy()


def _polar(H: np.ndarray) -> np.ndarray:
    U, _, Vt = np.linalg.svd(H)
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt)) or 1.0])
    return U @ D @ Vt


def kabsch(vt: np.ndarray, vs: np.ndarray, prior: np.ndarray, prior_weight: float = 1e-3) -> np.ndarray:
    """``(3, 3)`` rotation ``R`` best taking unit directions ``vt (n, 3)`` onto ``vs (n, 3)``,
    regularised towards ``prior`` (decides what the directions leave free)."""
    vt = vt / np.linalg.norm(vt, axis=-1, keepdims=True)
    vs = vs / np.linalg.norm(vs, axis=-1, keepdims=True)
    return _polar(vs.T @ vt + prior_weight * prior)


def _frame(primary: np.ndarray, lateral: np.ndarray) -> np.ndarray:
    e1 = primary / np.linalg.norm(primary)
    e2 = lateral - (lateral @ e1) * e1
    n = np.linalg.norm(e2)
    if n < 1e-9:
        return None
    e2 = e2 / n
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def frame_alignment(pt: np.ndarray, lt: np.ndarray, ps: np.ndarray, ls: np.ndarray) -> np.ndarray | None:
    """``(3, 3)`` rotation taking the target frame (primary ``pt``, lateral ``lt``) onto the source
    frame (``ps``, ``ls``): the primaries exactly, the laterals as closely as possible."""
    Ft, Fs = _frame(pt, lt), _frame(ps, ls)
    if Ft is None or Fs is None:
        return None
    return Fs @ Ft.T


def rest_alignment(source: Skeleton, target: Skeleton, pairs: dict[int, int], plan: ChainPlan) -> np.ndarray:
    """``(J_target, 3, 3)`` reference world rotations ``A`` (see the module docstring).

    ``pairs``: ``{target index: source index}``; ``plan``: from :func:`plan_chains`."""
    J = target.num_joints
    rest_t, rest_s = target.rest_positions(), source.rest_positions()
    eps_t = 1e-6 * max(target.height(), 1e-12)
    eps_s = 1e-6 * max(source.height(), 1e-12)
    mapped = set(pairs)
    # the nearest mapped ancestor of each mapped joint -> its mapped "children"
    anchor_children: dict[int, list[int]] = {j: [] for j in mapped}
    for j in sorted(mapped):
        a = int(target.parents[j])
        while a >= 0 and a not in mapped:
            a = int(target.parents[a])
        if a >= 0:
            anchor_children[a].append(j)
    sides = [normalize_name(n, target.names)[1] for n in target.names]

    def branches(j: int) -> list[int]:
        """Mapped joints below ``j`` (one per branch) at a non-zero distance on both skeletons."""
        out, todo = [], list(anchor_children[j])
        while todo:
            c = todo.pop(0)
            if (np.linalg.norm(rest_t[c] - rest_t[j]) > eps_t
                    and np.linalg.norm(rest_s[pairs[c]] - rest_s[pairs[j]]) > eps_s):
                out.append(c)
            else:
                todo.extend(anchor_children[c])
        return out

    def chain_vectors(j: int, start: int, end: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Target segment ``start -> end`` on the path ``a -> b`` and the source chord over the same
        normalised lengths of ``map(a) -> map(b)``."""
        path_t = path_between(target, a, b)
        path_s = path_between(source, pairs[a], pairs[b])
        u_t, _ = arc_lengths(rest_t, path_t)
        vt = rest_t[end] - rest_t[start]
        vs = point_at(rest_s, path_s, u_t[path_t.index(end)]) - point_at(rest_s, path_s, u_t[path_t.index(start)])
        if np.linalg.norm(vt) <= eps_t or np.linalg.norm(vs) <= eps_s:
            return None
        return vt, vs

    A = np.zeros((J, 3, 3))
    for j in range(J):
        p = int(target.parents[j])
        Ap = A[p] if p >= 0 else np.eye(3)
        A[j] = Ap
        if plan.kind[j] == CHAIN:
            a, b = plan.chain[j]
            path = path_between(target, a, b)
            v = chain_vectors(j, j, path[path.index(j) + 1], a, b)
            if v is not None:
                A[j] = swing_matrix(Ap @ v[0], v[1]) @ Ap
        elif plan.kind[j] == MAPPED:
            bs = branches(j)
            if len(bs) == 1:
                b = bs[0]
                path = path_between(target, j, b)
                v = chain_vectors(j, j, path[1], j, b) if len(path) > 2 else None
                if v is None:
                    v = (rest_t[b] - rest_t[j], rest_s[pairs[b]] - rest_s[pairs[j]])
                A[j] = swing_matrix(Ap @ v[0], v[1]) @ Ap
            elif len(bs) >= 2:
                vt = np.stack([rest_t[b] - rest_t[j] for b in bs])
                vs = np.stack([rest_s[pairs[b]] - rest_s[pairs[j]] for b in bs])
                centre = [k for k, b in enumerate(bs) if sides[b] is None]
                left = [k for k, b in enumerate(bs) if sides[b] == "left"]
                right = [k for k, b in enumerate(bs) if sides[b] == "right"]
                R = None
                if len(centre) == 1 and left and right:
                    c, l, r = centre[0], left[0], right[0]
                    R = frame_alignment(vt[c], vt[l] - vt[r], vs[c], vs[l] - vs[r])
                A[j] = R if R is not None else kabsch(vt, vs, Ap)
    return A
