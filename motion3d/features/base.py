"""The common interface of motion representations, and their registry.

A representation turns a :class:`Motion` into a float32 array ``(T, D)`` (``encode``) and
features back into global joint positions, batched and differentiable in torch
(``decode_positions``: ``(..., T, D) -> (..., T, J, 3)``). Representations that keep rotations
also decode to a Motion (``decode``). ``layout`` names the slices of the D channels; ``to_dict``
gives plain lists and dicts (skeleton included) so that a representation travels in a checkpoint
loadable with ``torch.load(weights_only=True)``, and :func:`from_dict` rebuilds it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch

from motion3d.motion import Motion, same_fps
from motion3d.skeleton import Skeleton

__all__ = ["MotionRepresentation", "register", "build", "from_dict", "available"]

_REGISTRY: dict[str, type["MotionRepresentation"]] = {}

#: a motion is on a representation's skeleton when the offsets that matter agree within this
#: fraction of the height (Bandai-Namco clips differ by up to 0.04 cm = 3e-4 x height in the
#: direction of a few bones; that much error decoding one clip's features on another's skeleton)
OFFSET_TOLERANCE = 1e-3


class MotionRepresentation(ABC):
    """Base class. Subclasses set ``name`` (the registry key), fill ``self.layout`` (ordered
    ``{group: (start, stop)}``) and ``self.names`` (one name per channel) in ``__init__``, and
    implement :meth:`encode`, :meth:`decode_positions`, :meth:`initial_state` and :meth:`options`."""

    name: str = ""
    #: whether :meth:`decode` can give back a Motion (rotations), not only positions
    decodes_motion: bool = False

    def __init__(self, skeleton: Skeleton, fps: float | None = None):
        self.skeleton = skeleton
        self.fps = None if fps is None else float(fps)
        self.layout: dict[str, tuple[int, int]] = {}
        self.names: list[str] = []

    # ------------------------------------------------------------------ layout
    @property
    def dim(self) -> int:
        """``D``, the number of channels per frame."""
        return len(self.names)

    def slice(self, group: str) -> slice:
        """The channels of one group, e.g. ``features[..., rep.slice("contacts")]``."""
        if group not in self.layout:
            raise KeyError(f"{self.name} has no feature group {group!r}; groups: {list(self.layout)}")
        a, b = self.layout[group]
        return slice(a, b)

    def split(self, features):
        """``{group: features[..., slice]}`` for numpy arrays or tensors ``(..., D)``."""
        self._check_dim(features)
        return {g: features[..., a:b] for g, (a, b) in self.layout.items()}

    def _check_dim(self, features):
        if features.shape[-1] != self.dim:
            raise ValueError(
                f"{self.name} features have {self.dim} channels per frame, got shape {tuple(features.shape)}"
            )

    def _offset_joints(self) -> list[int]:
        """Joints whose rest offsets the features depend on (checked by :meth:`_check_motion`);
        subclasses narrow it (the pelvis' offset never matters: its trajectory is encoded)."""
        return list(range(self.skeleton.num_joints))

    def _check_motion(self, motion: Motion):
        sk = self.skeleton
        why = sk.describe_difference(motion.skeleton, OFFSET_TOLERANCE, joints=self._offset_joints(),
                                     scale=sk.height())
        if why is not None:
            raise ValueError(f"motion {motion.name!r} is not on this representation's skeleton: {why}")
        if self.fps is not None and not same_fps(motion.fps, self.fps):
            raise ValueError(
                f"motion {motion.name!r} is at {motion.fps:g} fps but the representation expects "
                f"{self.fps:g}; resample it first (motion3d.ops.resample)"
            )

    def _fps(self, fps: float | None) -> float:
        fps = fps if fps is not None else self.fps
        if fps is None:
            raise ValueError("decode needs fps= (the representation was built without fps)")
        return float(fps)

    # ------------------------------------------------------------------ the pair
    @abstractmethod
    def encode(self, motion: Motion) -> np.ndarray:
        """``(T, D)`` float32 features of ``motion`` (on this skeleton)."""

    @abstractmethod
    def decode_positions(self, features: torch.Tensor, initial: torch.Tensor | None = None) -> torch.Tensor:
        """Global joint positions ``(..., T, J, 3)`` from features ``(..., T, D)`` (torch,
        differentiable; numpy accepted). ``initial``: ``(..., 3)`` ``[x0, z0, heading0]`` of the
        trajectory joint at the first frame (default: the origin, facing +Z)."""

    @abstractmethod
    def initial_state(self, motion: Motion) -> np.ndarray:
        """``(3,)`` ``[x0, z0, heading0]`` of ``motion``'s first frame, so that decoding lands
        where the clip started."""

    # ------------------------------------------------------------------ serialisation
    @abstractmethod
    def options(self) -> dict[str, Any]:
        """Constructor keyword arguments as plain values (lists, strings, numbers)."""

    def to_dict(self) -> dict:
        """``{"name", "skeleton", "options", "layout", "dim"}`` in plain lists and dicts."""
        return {
            "name": self.name,
            "skeleton": self.skeleton.to_dict(),
            "options": self.options(),
            "layout": {k: [int(a), int(b)] for k, (a, b) in self.layout.items()},
            "dim": self.dim,
        }

    def describe_difference(self, other: "MotionRepresentation | dict") -> str | None:
        """Why ``other`` (a representation or its dict) is not this one, or ``None``."""
        d = other.to_dict() if isinstance(other, MotionRepresentation) else other
        if d.get("name") != self.name:
            return f"representation {d.get('name')!r} vs {self.name!r}"
        why = self.skeleton.describe_difference(Skeleton.from_dict(d["skeleton"]))
        if why is not None:
            return f"skeleton differs: {why}"
        if d.get("options") != self.options():
            return f"options differ: {d.get('options')} vs {self.options()}"
        return None

    def __repr__(self) -> str:
        groups = ", ".join(f"{k}={b - a}" for k, (a, b) in self.layout.items())
        return f"{type(self).__name__}(D={self.dim}: {groups})"


def register(cls: type[MotionRepresentation]) -> type[MotionRepresentation]:
    """Class decorator adding a representation to the registry under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty name to be registered")
    _REGISTRY[cls.name] = cls
    return cls


def available() -> list[str]:
    """Registered representation names."""
    return sorted(_REGISTRY)


def build(name: str, skeleton: Skeleton, **options) -> MotionRepresentation:
    """The representation registered as ``name`` (``"rot6d"``, ``"positions"``) for ``skeleton``."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown motion representation {name!r}; available: {available()}")
    return _REGISTRY[name](skeleton, **options)


def from_dict(d: dict) -> MotionRepresentation:
    """Rebuild a representation from :meth:`MotionRepresentation.to_dict`."""
    rep = build(d["name"], Skeleton.from_dict(d["skeleton"]), **d.get("options", {}))
    if "dim" in d and int(d["dim"]) != rep.dim:
        raise ValueError(f"stored {d['name']} layout has D={d['dim']} but rebuilding gives D={rep.dim}")
    return rep


def _as_tensor(x, dtype=None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x if dtype is None else x.to(dtype)
    return torch.from_numpy(np.ascontiguousarray(x)).to(dtype or torch.float64)
