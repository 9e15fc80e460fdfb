"""The data context a motion network lives in: skeleton, feature representation, normalisation
statistics, label names, frame rate and window (:class:`MotionContext`), and how two contexts differ.

Tasks take it from the datamodule in ``setup()`` (the :class:`~motion3d.data.mocap.MocapDataModule`
contract: ``representation``, ``normalizer``, ``label_names``, ``fps``, ``window``); checkpoints store
it as plain lists and dicts (:meth:`MotionContext.to_meta`), so sampling and evaluation need
nothing else, and loading a checkpoint against other data says what differs.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch

from motion3d.features import MotionRepresentation, Normalizer, from_dict
from motion3d.motion import Motion
from motion3d.retarget import retarget
from motion3d.skeleton import Skeleton

__all__ = ["MotionContext", "ContextMismatch", "SKELETON_TOLERANCE", "skeleton_difference", "layout_difference",
           "labels_of", "random_labels"]


class ContextMismatch(ValueError):
    """A checkpoint or network does not fit the data (skeleton, feature layout, labels, dims)."""


@dataclass
class MotionContext:
    """The data a motion network lives in.

    Attributes:
        representation: the feature representation (``dim`` = D, ``decode_positions``).
        normalizer: per-channel statistics; networks see normalised features.
        label_names: ``{"content": [...], "style": [...]}`` (index = label id).
        fps: frames per second of the features (required: a context without one is an error).
        window: training window length in frames (``None`` if unknown).
    """

    representation: MotionRepresentation
    normalizer: Normalizer
    label_names: dict[str, list[str]] = field(default_factory=dict)
    fps: float | None = None
    window: int | None = None

    def __post_init__(self):
        fps = None if self.fps is None else float(self.fps)
        if fps is None or not math.isfinite(fps) or fps <= 0:
            raise ContextMismatch(f"a motion context needs the data's frame rate; got fps={self.fps!r}")
        self.fps = fps
        self.label_names = {k: list(self.label_names.get(k, []) or []) for k in ("content", "style")}
        if self.normalizer.dim != self.representation.dim:
            raise ContextMismatch(f"normaliser has {self.normalizer.dim} channels but the representation "
                                  f"{self.representation} has {self.representation.dim}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_datamodule(cls, dm) -> "MotionContext":
        """From a datamodule after ``setup()`` (``representation``, ``normalizer``, ``label_names``, ``fps``)."""
        missing = [a for a in ("representation", "normalizer") if getattr(dm, a, None) is None]
        if missing:
            raise AttributeError(f"{type(dm).__name__} has no {missing} after setup(); motion tasks need a "
                                 "datamodule following the MocapDataModule contract")
        rep = dm.representation
        fps = getattr(dm, "fps", None) or rep.fps
        if not fps:
            raise AttributeError(f"{type(dm).__name__} gives no frame rate (fps) after setup(), nor does its "
                                 f"representation {rep}; a motion task needs it")
        return cls(rep, dm.normalizer, dict(getattr(dm, "label_names", {}) or {}), float(fps),
                   getattr(dm, "window", None))

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> "MotionContext":
        return cls(from_dict(meta["representation"]), Normalizer.from_dict(meta["normalizer"]),
                   {k: list(v) for k, v in meta.get("label_names", {}).items()}, float(meta["fps"]),
                   meta.get("window"))

    def to_meta(self) -> dict:
        """Plain lists and dicts (``weights_only`` safe)."""
        return {"skeleton": self.skeleton.to_dict(), "representation": self.representation.to_dict(),
                "normalizer": self.normalizer.to_dict(), "label_names": {k: list(v) for k, v in self.label_names.items()},
                "fps": float(self.fps), "window": None if self.window is None else int(self.window)}

    # ------------------------------------------------------------------ properties
    @property
    def skeleton(self) -> Skeleton:
        return self.representation.skeleton

    @property
    def dim(self) -> int:
        return self.representation.dim

    def num_labels(self, kind: str) -> int:
        return len(self.label_names.get(kind, []))

    def describe_difference(self, meta: Mapping[str, Any], labels: bool = True) -> str | None:
        """Why the context stored in ``meta`` (:meth:`to_meta`) differs from this one, or ``None``."""
        why = skeleton_difference(self.skeleton, Skeleton.from_dict(meta["skeleton"]))
        if why is not None:
            return f"skeleton differs: {why}"
        why = layout_difference(self.representation, meta["representation"])
        if why is not None:
            return f"feature layout differs: {why}"
        if labels:
            for kind in ("content", "style"):
                theirs = list(meta.get("label_names", {}).get(kind, []))
                if theirs != self.label_names[kind]:
                    return f"{kind} label names differ: {theirs} vs {self.label_names[kind]}"
        return None

    # ------------------------------------------------------------------ decoding
    def decode_positions(self, x: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        """Global joint positions ``(..., T, J, 3)`` (float32) of NORMALISED features ``(..., T, D)``.

        ``previous``: ``(..., 1, D)`` normalised frame before ``x``, so that the trajectory of
        ``x``'s first frame is integrated too (the decoder ignores the first frame's velocity);
        decoding starts at the origin. Differentiable; autocast is switched off (bf16 FK drifts).
        """
        device_type = x.device.type
        with torch.autocast(device_type, enabled=False) if device_type in ("cuda", "cpu") else contextlib.nullcontext():
            feats = x.float()
            if previous is not None:
                feats = torch.cat([previous.float(), feats], dim=-2)
            pos = self.representation.decode_positions(self.normalizer.denormalize(feats))
            return pos[..., 1:, :, :] if previous is not None else pos

    def renormalize(self, x: torch.Tensor, target: "MotionContext") -> torch.Tensor:
        """Features ``(..., D)`` normalised by this context, normalised by ``target``'s statistics
        instead (same representation; computed in float64) -> float32."""
        return target.normalizer.normalize(self.normalizer.denormalize(x.double())).float()

    # ------------------------------------------------------------------ clips in and out
    def conform(self, motion: Motion, path: Any = "<clip>", role: str = "input", allow_retarget: bool = False
                ) -> Motion:
        """``motion`` on this context's skeleton and at its fps: resampled when the rate differs,
        retargeted (:func:`motion3d.retarget.retarget`) when ``allow_retarget`` and the skeleton
        differs, else a :class:`ContextMismatch` naming ``path`` and ``role``."""
        why = self.skeleton.describe_difference(motion.skeleton, atol=SKELETON_TOLERANCE)
        if why is not None:
            if not allow_retarget:
                raise ContextMismatch(f"{role} clip {path} is not on the checkpoint's skeleton: {why}")
            motion = retarget(motion, self.skeleton)
        return motion.resample(self.fps)  # a rate within FPS_TOLERANCE is only relabelled

    def encode(self, motion: Motion) -> torch.Tensor:
        """Normalised features ``(T, D)`` float32 of a motion on this skeleton and fps."""
        raw = self.representation.encode(motion).astype(np.float64)
        return torch.from_numpy(self.normalizer.normalize(raw)).float()

    def decode(self, x: torch.Tensor, like: Motion | None = None, name: str = "") -> Motion:
        """The Motion of normalised features ``x (T, D)``, starting where ``like`` starts (its
        position and heading at its first frame; the origin without it)."""
        feats = self.normalizer.denormalize(x.detach().cpu().double())
        initial = None if like is None else self.representation.initial_state(like)
        return self.representation.decode(feats, initial=initial, fps=self.fps, name=name or getattr(like, "name", ""))

    def contacts(self, x: torch.Tensor) -> torch.Tensor | None:
        """Denormalised foot-contact channels ``(..., T, F)`` clamped to [0, 1], or ``None``."""
        rep = self.representation
        if "contacts" not in rep.layout or not getattr(rep, "feet", None):
            return None
        s = rep.slice("contacts")
        mean = torch.as_tensor(self.normalizer.mean[s], dtype=torch.float32, device=x.device)
        std = torch.as_tensor(self.normalizer.std[s], dtype=torch.float32, device=x.device)
        return (x[..., s].float() * std + mean).clamp(0.0, 1.0)

    @property
    def root_joint(self) -> int:
        """The trajectory joint (the pelvis) for root-relative errors."""
        return int(getattr(self.representation, "pelvis", 0))

    @property
    def feet(self) -> list[int]:
        return [int(j) for j in getattr(self.representation, "feet", [])]


#: bone offsets closer than this fraction of the height are the same skeleton (as the data module's
#: ``skeleton_tolerance``: Bandai-Namco files differ by ~0.04 cm)
SKELETON_TOLERANCE = 1e-3


def skeleton_difference(a: Skeleton, b: Skeleton, tolerance: float = SKELETON_TOLERANCE) -> str | None:
    """Why skeleton ``b`` is not ``a`` (names, hierarchy, offsets beyond ``tolerance x height``), or ``None``."""
    return a.describe_difference(b, atol=tolerance)


def layout_difference(rep: MotionRepresentation, other: MotionRepresentation | Mapping) -> str | None:
    """Why ``other`` (a representation or its ``to_dict``) has another feature layout than ``rep``:
    name, options (joints, thresholds), channel groups or width; the skeleton is compared apart."""
    mine = rep.to_dict()
    theirs = other.to_dict() if isinstance(other, MotionRepresentation) else dict(other)
    for key in ("name", "dim", "layout", "options"):
        if theirs.get(key) != mine[key]:
            return f"{key} {theirs.get(key)} vs {mine[key]}"
    return None



def labels_of(batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``{"content", "style"}`` label tensors ``(B,)`` of a batch (missing kinds left out)."""
    return {k: batch[k] for k in ("content", "style") if k in batch}


def random_labels(ctx: MotionContext, n: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """``n`` labels of each kind drawn uniformly from the label names (``-1`` when a kind has none)."""
    out = {}
    for kind in ("content", "style"):
        k = ctx.num_labels(kind)
        out[kind] = (torch.randint(0, k, (n,), generator=generator) if k else torch.full((n,), -1)).long()
    return out

