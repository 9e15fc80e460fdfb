"""Skeleton topology for skeleton-aware networks (Aberman et al. 2020), from parents alone.

* :func:`subgraph_parents`: the tree restricted to some joints (each keeps its nearest kept
  ancestor as parent);
* :func:`tree_distances`: ``(J, J)`` hop counts between joints of the tree;
* :func:`pooling_groups`: joints merged pairwise along degree-2 chains (a joint with one child
  and that child, when the child has at most one child), and the pooled tree's parents.

Parents are ``(J,)`` int arrays with ``parents[0] == -1`` and ``parents[j] < j``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["check_parents", "subgraph_parents", "tree_distances", "neighbourhood", "pooling_groups"]


def check_parents(parents: Sequence[int]) -> np.ndarray:
    """``parents`` as an int64 array, checked: one root (-1) first, every parent before its child."""
    p = np.asarray(parents, dtype=np.int64).reshape(-1)
    if len(p) == 0 or p[0] != -1 or (p[1:] < 0).any() or (p[1:] >= np.arange(1, len(p))).any():
        raise ValueError(f"parents must start with -1 and list every parent before its child, got {p.tolist()}")
    return p


def subgraph_parents(parents: Sequence[int], keep: Sequence[int]) -> np.ndarray:
    """Parents ``(K,)`` of the joints ``keep`` (sorted, in the original order) among themselves:
    the nearest kept ancestor, ``-1`` for the first. Raises if the kept joints are not one tree."""
    p = check_parents(parents)
    keep = sorted(int(j) for j in keep)
    where = {j: i for i, j in enumerate(keep)}
    out = []
    for j in keep:
        a = int(p[j])
        while a >= 0 and a not in where:
            a = int(p[a])
        out.append(where.get(a, -1))
    if sum(1 for x in out if x < 0) != 1:
        raise ValueError(f"joints {keep} do not form one tree (several have no kept ancestor)")
    return check_parents(out)


def tree_distances(parents: Sequence[int]) -> np.ndarray:
    """``(J, J)`` int64 numbers of bones between every two joints."""
    p = check_parents(parents)
    J = len(p)
    depth = np.zeros(J, dtype=np.int64)
    for j in range(1, J):
        depth[j] = depth[p[j]] + 1
    anc = np.zeros((J, J), dtype=bool)  # anc[j, a]: a is j or an ancestor of j
    for j in range(J):
        anc[j, j] = True
        if j:
            anc[j] |= anc[p[j]]
    # depth of the lowest common ancestor: the deepest joint that is an ancestor of both
    common = anc[:, None, :] & anc[None, :, :]  # (J, J, J)
    lca_depth = np.where(common, depth[None, None, :], -1).max(-1)
    return depth[:, None] + depth[None, :] - 2 * lca_depth


def neighbourhood(parents: Sequence[int], distance: int = 2) -> np.ndarray:
    """``(J, J)`` bool: joints within ``distance`` bones of each other (the convolution's support)."""
    return tree_distances(parents) <= int(distance)


def pooling_groups(parents: Sequence[int]) -> tuple[list[list[int]], np.ndarray]:
    """``(groups, pooled_parents)``: joints merged in pairs along degree-2 chains, top-down.

    A joint (not the root) with exactly one child is merged with that child when the child has at
    most one child itself; every other joint stays alone. Groups are listed in the order of their
    first joint, so ``pooled_parents (G,)`` again lists parents first."""
    p = check_parents(parents)
    J = len(p)
    children = [[] for _ in range(J)]
    for j in range(1, J):
        children[p[j]].append(j)
    group_of = np.full(J, -1, dtype=np.int64)
    groups: list[list[int]] = []
    for j in range(J):
        if group_of[j] >= 0:
            continue
        members = [j]
        if j and len(children[j]) == 1 and len(children[children[j][0]]) <= 1:
            members.append(children[j][0])
        for m in members:
            group_of[m] = len(groups)
        groups.append(members)
    pooled = np.array([-1 if g[0] == 0 else int(group_of[p[g[0]]]) for g in groups], dtype=np.int64)
    return groups, check_parents(pooled)
