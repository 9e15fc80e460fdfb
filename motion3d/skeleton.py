"""The skeleton: a tree of named joints with rest offsets, channel layout and end sites.

Joints are indexed ``0..J-1`` in topological order (every parent index is smaller than its
children's); the root has parent ``-1``. Compare joints by index, never by value. End Sites (BVH's
leaf markers) are not joints: they are kept in :attr:`Skeleton.end_sites` so that files save back
unchanged and so that :meth:`Skeleton.height` can reach the top of the head.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

__all__ = ["Skeleton", "ROTATION_CHANNELS", "POSITION_CHANNELS", "bone_difference"]

POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")
_DEFAULT_ROOT_CHANNELS = ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
_DEFAULT_CHANNELS = ("Zrotation", "Xrotation", "Yrotation")

_HEAD = re.compile(r"head(?!.*(end|top|nub))", re.I)
_FOOT = re.compile(r"(foot|ankle)(?!.*(index|toe))", re.I)


@dataclass(eq=False)
class Skeleton:
    """A joint tree.

    Attributes:
        names: ``J`` joint names (unique).
        parents: ``(J,)`` int array, ``-1`` for the root; ``parents[j] < j``.
        offsets: ``(J, 3)`` rest offsets of each joint from its parent, in file units (the root's
            offset is its rest position).
        channels: per joint, the tuple of BVH channel names in file order, e.g.
            ``("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")``.
            Rotation channels give that joint's intrinsic Euler order; position channels mean the
            file animates that joint's translation (replacing its offset).
        end_sites: ``{joint index: (3,) offset}`` of End Sites hanging from leaf joints.
    """

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[tuple[str, ...]] = field(default_factory=list)
    end_sites: dict[int, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        self.names = [str(n) for n in self.names]
        self.parents = np.asarray(self.parents, dtype=np.int64).reshape(-1)
        self.offsets = np.asarray(self.offsets, dtype=np.float64).reshape(-1, 3)
        J = len(self.names)
        if self.parents.shape != (J,) or self.offsets.shape != (J, 3):
            raise ValueError(
                f"skeleton has {J} names but parents {self.parents.shape} and offsets {self.offsets.shape}"
            )
        if J == 0:
            raise ValueError("a skeleton needs at least one joint")
        if len(set(self.names)) != J:
            dup = sorted(n for n, c in Counter(self.names).items() if c > 1)
            raise ValueError(f"joint names must be unique; repeated: {dup}")
        if self.parents[0] != -1 or (self.parents[1:] < 0).any():
            raise ValueError("joint 0 must be the only root (parent -1)")
        if (self.parents[1:] >= np.arange(1, J)).any():
            raise ValueError("joints must be in topological order: parents[j] < j")
        if not self.channels:
            self.channels = [_DEFAULT_ROOT_CHANNELS] + [_DEFAULT_CHANNELS] * (J - 1)
        self.channels = [tuple(c) for c in self.channels]
        if len(self.channels) != J:
            raise ValueError(f"{len(self.channels)} channel lists for {J} joints")
        for j, ch in enumerate(self.channels):
            bad = [c for c in ch if c not in POSITION_CHANNELS + ROTATION_CHANNELS]
            if bad:
                raise ValueError(f"joint {self.names[j]!r}: unknown channel(s) {bad}")
        self.end_sites = {int(k): np.asarray(v, dtype=np.float64).reshape(3) for k, v in self.end_sites.items()}

    # ------------------------------------------------------------------ structure
    @property
    def num_joints(self) -> int:
        return len(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"Skeleton({self.num_joints} joints, root={self.names[0]!r}, height={self.height():.4g})"

    def index(self, name: str) -> int:
        """Index of the joint called ``name`` (exact match; KeyError listing the names otherwise)."""
        names = self.names
        lookup = self.__dict__.get("_name_index")  # name -> first index, built on first use
        i = None if lookup is None else lookup.get(name)
        if i is None or i >= len(names) or names[i] != name:  # a miss, or names changed since
            lookup = {}
            for k, n in enumerate(names):
                lookup.setdefault(n, k)
            self.__dict__["_name_index"] = lookup
            i = lookup.get(name)
            if i is None:
                raise KeyError(f"no joint named {name!r}; joints: {', '.join(names)}")
        return i

    def children(self, j: int) -> list[int]:
        return [int(c) for c in np.flatnonzero(self.parents == j)]

    @property
    def depths(self) -> np.ndarray:
        """``(J,)`` number of ancestors of each joint (root 0)."""
        d = np.zeros(self.num_joints, dtype=np.int64)
        for j in range(1, self.num_joints):
            d[j] = d[self.parents[j]] + 1
        return d

    @property
    def levels(self) -> list[np.ndarray]:
        """Joint indices grouped by depth: ``levels[k]`` are the joints with ``k`` ancestors."""
        d = self.depths
        return [np.flatnonzero(d == k) for k in range(int(d.max()) + 1)]

    def chain(self, j: int) -> list[int]:
        """Joint indices from the root down to ``j`` (inclusive)."""
        out = [j]
        while self.parents[out[-1]] >= 0:
            out.append(int(self.parents[out[-1]]))
        return out[::-1]

    def pelvis(self) -> int:
        """The joint that carries the body's trajectory: the first joint (in tree order) with two
        or more children (CMU ``Hips`` = joint 0; Bandai-Namco ``Hips`` = joint 1, under a static
        ``joint_Root``)."""
        counts = np.bincount(self.parents[1:], minlength=self.num_joints)
        branching = np.flatnonzero(counts >= 2)
        return int(branching[0]) if len(branching) else 0

    def body_joints(self) -> np.ndarray:
        """Indices of the joints below the pelvis: their offsets are the body's proportions.
        The pelvis and its ancestors are placed by the trajectory (root positions or animated
        translations), so their offsets are not compared between skeletons."""
        mask = np.ones(self.num_joints, bool)
        mask[self.chain(self.pelvis())] = False
        return np.flatnonzero(mask)

    def leaves(self) -> list[int]:
        has_child = np.zeros(self.num_joints, bool)
        has_child[self.parents[1:]] = True
        return [int(j) for j in np.flatnonzero(~has_child)]

    # ------------------------------------------------------------------ channels
    def rotation_order(self, j: int) -> str:
        """Intrinsic Euler order of joint ``j``'s rotation channels, e.g. ``"ZXY"`` ('' if none)."""
        return "".join(c[0] for c in self.channels[j] if c in ROTATION_CHANNELS)

    def has_position_channels(self, j: int) -> bool:
        return any(c in POSITION_CHANNELS for c in self.channels[j])

    @property
    def num_channels(self) -> int:
        return sum(len(c) for c in self.channels)

    # ------------------------------------------------------------------ geometry
    def rest_positions(self) -> np.ndarray:
        """``(J, 3)`` global joint positions with every rotation at identity."""
        pos = self.offsets.copy()
        for j in range(1, self.num_joints):
            pos[j] = pos[self.parents[j]] + self.offsets[j]
        return pos

    def bone_lengths(self) -> np.ndarray:
        """``(J,)`` length of each joint's offset from its parent (root: 0)."""
        lengths = np.linalg.norm(self.offsets, axis=-1)
        lengths[0] = 0.0
        return lengths

    def find(self, pattern: str) -> list[int]:
        """Indices of joints whose name matches the regular expression ``pattern`` (case-insensitive)."""
        rx = re.compile(pattern, re.I)
        return [j for j, n in enumerate(self.names) if rx.search(n)]

    def height(self) -> float:
        """A pose-independent body height in file units, for normalising metrics and thresholds.

        The length of the tree path from the top of the head (the head joint's End Site, when it
        has one) down to the lower of the two ankles, summing bone lengths. Joints are found by
        name (``head``; ``foot``/``ankle``). Skeletons without such names fall back to the vertical
        (Y) extent of the rest pose, end sites included.
        """
        heads = [j for j in range(self.num_joints) if _HEAD.search(self.names[j])]
        feet = [j for j in range(self.num_joints) if _FOOT.search(self.names[j])]
        if heads and feet:
            lengths = self.bone_lengths()
            head = min(heads, key=lambda j: self.depths[j])
            best = 0.0
            for foot in feet:
                a, b = self.chain(head), self.chain(foot)
                common = len([1 for x, y in zip(a, b) if x == y])
                path = lengths[a[common:]].sum() + lengths[b[common:]].sum()
                best = max(best, float(path))
            top = np.linalg.norm(self.end_sites.get(head, np.zeros(3)))
            if best > 0:
                return best + float(top)
        pos = self.rest_positions()
        ends = [pos[j] + off for j, off in self.end_sites.items()]
        allpos = np.concatenate([pos, np.asarray(ends).reshape(-1, 3)], axis=0)
        extent = float(np.ptp(allpos[:, 1]))
        return extent if extent > 0 else float(np.ptp(allpos, axis=0).max())

    # ------------------------------------------------------------------ derived skeletons
    def scaled(self, factor: float) -> "Skeleton":
        """A copy with every offset (and end site) multiplied by ``factor``."""
        return Skeleton(
            list(self.names), self.parents.copy(), self.offsets * factor, list(self.channels),
            {j: o * factor for j, o in self.end_sites.items()},
        )

    def copy(self) -> "Skeleton":
        """An independent copy (arrays copied; no re-validation)."""
        new = object.__new__(Skeleton)
        new.names = list(self.names)
        new.parents = self.parents.copy()
        new.offsets = self.offsets.copy()
        new.channels = list(self.channels)
        new.end_sites = {j: o.copy() for j, o in self.end_sites.items()}
        return new

    def subset(self, keep: Sequence[int] | Iterable[str]) -> tuple["Skeleton", np.ndarray]:
        """The skeleton restricted to the joints ``keep`` (indices or names; closed under parents
        is not required: a kept joint whose parent is dropped attaches to its nearest kept
        ancestor, with the offsets summed along the rest pose). Returns ``(skeleton, indices)``."""
        idx = sorted({self.index(k) if isinstance(k, str) else int(k) for k in keep} | {0})
        pos = self.rest_positions()
        new_index = {old: new for new, old in enumerate(idx)}
        parents, offsets = [], []
        for old in idx:
            p = int(self.parents[old])
            while p >= 0 and p not in new_index:
                p = int(self.parents[p])
            parents.append(new_index[p] if p >= 0 else -1)
            offsets.append(self.offsets[old] if p < 0 else pos[old] - pos[p])
        ends = {new_index[j]: o for j, o in self.end_sites.items() if j in new_index}
        sk = Skeleton([self.names[i] for i in idx], np.array(parents), np.array(offsets),
                      [self.channels[i] for i in idx], ends)
        return sk, np.asarray(idx)

    # ------------------------------------------------------------------ comparison, serialisation
    def same_topology(self, other: "Skeleton") -> bool:
        """Same joint names in the same order with the same parents."""
        return self.names == other.names and np.array_equal(self.parents, other.parents)

    def allclose(self, other: "Skeleton", atol: float = 1e-6, body_only: bool = False) -> bool:
        """Same topology and offsets within ``atol`` (only the body's, below the pelvis, when
        ``body_only``: see :meth:`body_joints`)."""
        if not self.same_topology(other):
            return False
        idx = self.body_joints() if body_only else slice(None)
        return bool(np.allclose(self.offsets[idx], other.offsets[idx], atol=atol))

    def describe_difference(self, other: "Skeleton", atol: float = 1e-4, joints=None,
                            scale: float | None = None) -> str | None:
        """A human-readable reason why ``other`` differs from this skeleton, or ``None`` if they
        match: joint count, names, hierarchy, then bone offsets.

        Args:
            other: the skeleton to compare (``self`` is the reference).
            atol: offset tolerance as a fraction of ``scale``.
            scale: the length ``atol`` is a fraction of; default ``max(1, height())``.
            joints: the joints whose offsets are compared; default :meth:`body_joints` (the
                trajectory chain's offsets are placed by the motion, not proportions).
        A NaN offset is a difference (never within tolerance).
        """
        if self.num_joints != other.num_joints:
            return f"{other.num_joints} joints, expected {self.num_joints}"
        if self.names != other.names:
            diff = [(a, b) for a, b in zip(self.names, other.names) if a != b][:3]
            return f"joint names differ, e.g. {diff} (expected, got)"
        if not np.array_equal(self.parents, other.parents):
            j = int(np.flatnonzero(np.asarray(self.parents) != np.asarray(other.parents))[0])
            return f"joint hierarchy differs (parent of {self.names[j]!r})"
        js = self.body_joints() if joints is None else np.asarray(joints, dtype=np.int64).reshape(-1)
        if len(js):
            scale = max(1.0, self.height()) if scale is None else float(scale)
            return bone_difference(self.names, self.offsets[js], other.offsets[js], js, atol * scale)
        return None

    def to_dict(self) -> dict:
        """Plain lists and dicts (safe for ``torch.load(weights_only=True)`` and JSON)."""
        return {
            "names": list(self.names),
            "parents": self.parents.tolist(),
            "offsets": self.offsets.tolist(),
            "channels": [list(c) for c in self.channels],
            "end_sites": {str(k): v.tolist() for k, v in self.end_sites.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Skeleton":
        return cls(
            d["names"], np.asarray(d["parents"]), np.asarray(d["offsets"], dtype=np.float64),
            [tuple(c) for c in d.get("channels", [])],
            {int(k): np.asarray(v) for k, v in d.get("end_sites", {}).items()},
        )


def bone_difference(names: Sequence[str], expected: np.ndarray, got: np.ndarray, joints: Sequence[int],
                    limit: float) -> str | None:
    """Why offsets ``got`` ``(K, 3)`` of ``joints`` ``(K,)`` are not ``expected`` within ``limit``
    (file units, per coordinate), or ``None``. NaN anywhere is a difference: the test is
    ``not (err <= limit)``, which NaN fails."""
    err = np.abs(np.asarray(got, dtype=np.float64) - np.asarray(expected, dtype=np.float64)).max(axis=-1)  # (K,)
    bad = ~(err <= limit)
    if not bad.any():
        return None
    k = int(np.flatnonzero(np.isnan(err))[0]) if np.isnan(err).any() else int(np.argmax(np.where(bad, err, -1.0)))
    return f"bone offsets differ: {names[int(joints[k])]!r} differs by {err[k]:.4g} units (tolerance {limit:.3g})"
