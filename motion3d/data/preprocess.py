"""Files -> features: the uncached pass of :class:`motion3d.data.mocap.MocapDataModule`.

For a list of motion files: read every skeleton, take the most common one as the reference
(ties: the first file's), and for each file on it: load, resample to the target fps, put it on
the reference skeleton (:func:`motion3d.data.conform.conform`), encode with the representation,
and check the features are finite. Each failing file is reported as ``(index, reason, kind)``
with ``kind`` ``"mismatch"`` (another skeleton or frame rate) or ``"bad"`` (unreadable, NaN,
cannot be encoded), then skipped or raised per policy (:class:`BadDataError` names the file).
The result is one contiguous float32 array of all frames plus clip offsets.
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from tqdm.auto import tqdm

from motion3d import features
from motion3d.data.conform import SkeletonMismatch, conform, group_skeletons, header_difference
from motion3d.io import FormatError
from motion3d.io import registry
from motion3d.motion import Motion, same_fps
from motion3d.skeleton import Skeleton

__all__ = ["BadDataError", "Preprocessed", "preprocess", "read_skeleton", "POLICIES"]

log = logging.getLogger("motion3d.data")

POLICIES = ("skip", "error")


class BadDataError(ValueError):
    """A data file was rejected (``on_bad``/``on_mismatch`` = ``"error"``): names the file."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class Preprocessed:
    """The encoded clips of a file list.

    Attributes:
        frames: ``(N, D)`` float32 features of all clips, one after the other.
        offsets: ``(C + 1,)`` int64: clip ``c`` is ``frames[offsets[c]:offsets[c + 1]]``.
        clip_file: ``(C,)`` int64 index of each clip's file in the input list.
        clip_mirrored: ``(C,)`` bool: the clip is the left/right mirror image of its file.
        rejected: ``[(file index, reason, kind)]``.
        skeleton: the reference skeleton; ``fps``: the features' frame rate.
    """

    frames: np.ndarray
    offsets: np.ndarray
    clip_file: np.ndarray
    clip_mirrored: np.ndarray
    skeleton: Skeleton
    fps: float
    rejected: list[tuple[int, str, str]] = field(default_factory=list)


def _reason(e: Exception) -> str:
    """The problem without the file name (the report adds it once)."""
    if isinstance(e, FormatError):
        return e.problem if e.line is None else f"line {e.line}: {e.problem}"
    return str(e)


def read_skeleton(path: Path, loader_options: dict[str, Any]) -> tuple[Skeleton, float, Motion | None]:
    """``(skeleton, fps, motion or None)``: BVH headers only; other formats are loaded whole
    (the motion is returned so that it is not read twice)."""
    if registry.format_of(path) == "bvh":
        from motion3d.io import bvh

        sk, _, fps = bvh.read_header(path)
        return sk, fps, None
    m = registry.load_motion(path, **loader_options)
    return m.skeleton, m.fps, m


def _encode(motion: Motion, ref: Skeleton, fps: float, tol: float, rep, check_bones: bool = True) -> np.ndarray:
    if not same_fps(motion.fps, fps):
        motion = motion.resample(fps)
    else:
        motion = motion.replace(fps=fps)
    x = rep.encode(conform(motion, ref, tol, check_bones))
    if not np.isfinite(x).all():
        row = int(np.flatnonzero(~np.isfinite(x).all(1))[0])
        raise ValueError(f"features have NaN or inf values (first at frame {row} after resampling to {fps:g} fps)")
    return x


def preprocess(
    paths: Sequence[Path],
    representation: str,
    representation_options: dict[str, Any],
    fps: float | None,
    tol: float = 1e-3,
    mirror: bool = False,
    loader_options: dict[str, Any] | None = None,
    reference: Skeleton | None = None,
    on_bad: str = "skip",
    on_mismatch: str = "skip",
    progress: bool = True,
) -> Preprocessed:
    """Encode ``paths`` (see the module docstring). ``reference``: the skeleton to use instead
    of the most common one; ``fps=None`` keeps the reference file's frame rate."""
    loader_options = dict(loader_options or {})
    resample = fps is not None
    rejected: list[tuple[int, str, str]] = []

    def reject(i: int, reason: str, kind: str):
        policy = on_mismatch if kind == "mismatch" else on_bad
        if policy == "error":
            raise BadDataError(paths[i], reason)
        log.warning("skipping %s: %s", paths[i], reason)
        rejected.append((i, reason, kind))

    # 1. skeletons and frame rates; the most common skeleton is the reference
    heads: dict[int, tuple[Skeleton, float, Motion | None]] = {}
    for i, p in enumerate(tqdm(paths, desc="reading skeletons", disable=not progress or None, leave=False)):
        try:
            heads[i] = read_skeleton(p, loader_options)
        except (FormatError, OSError, ValueError, ImportError) as e:
            reject(i, _reason(e), "bad")
    if not heads:
        why = "; ".join(f"{paths[i]}: {r}" for i, r, _ in rejected[:3])
        raise ValueError(f"none of the {len(paths)} motion files could be read" + (f", e.g. {why}" if why else ""))
    ids = list(heads)
    if reference is None:
        groups = group_skeletons([heads[i][0] for i in ids], tol)
        best = Counter(groups).most_common()
        top = max(n for _, n in best)
        winner = min(g for g, n in best if n == top)  # ties: the group seen first
        first = ids[groups.index(winner)]
        reference = heads[first][0]
        fps = float(heads[first][1]) if fps is None else float(fps)
    elif fps is None:
        fps = float(next(heads[i][1] for i in ids if header_difference(reference, heads[i][0], tol) is None))
    fps = float(fps)
    rep = features.build(representation, reference, fps=fps, **representation_options)

    # 2. load, resample, conform, encode
    clips, clip_file, clip_mirrored = [], [], []
    todo = []
    for i in ids:
        why = header_difference(reference, heads[i][0], tol)
        if why is not None:
            reject(i, f"skeleton differs from the dataset's: {why}", "mismatch")
        elif not resample and not same_fps(heads[i][1], fps):
            reject(i, f"{heads[i][1]:g} fps, the dataset is at {fps:g} (set fps to resample)", "mismatch")
        else:
            todo.append(i)
    for i in tqdm(todo, desc="encoding clips", disable=not progress or None, leave=False):
        motion = heads[i][2]
        heads[i] = (heads[i][0], heads[i][1], None)
        try:
            if motion is None:
                motion = registry.load_motion(paths[i], **loader_options)
            x = _encode(motion, reference, fps, tol, rep)
        except SkeletonMismatch as e:
            reject(i, f"skeleton differs from the dataset's: {e}", "mismatch")
            continue
        except (FormatError, OSError, ValueError, ImportError) as e:
            reject(i, _reason(e), "bad")
            continue
        clips.append(x)
        clip_file.append(i)
        clip_mirrored.append(False)
        if mirror:
            try:
                # the mirror image of an almost symmetric rig: its bones are the reference's
                xm = _encode(motion.mirror(skeleton="keep"), reference, fps, tol, rep, check_bones=False)
            except ValueError as e:
                log.warning("no mirrored copy of %s: %s", paths[i], _reason(e))
                rejected.append((i, f"mirrored copy: {_reason(e)}", "mirror"))
                continue
            clips.append(xm)
            clip_file.append(i)
            clip_mirrored.append(True)
    lengths = np.array([len(c) for c in clips], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    frames = np.concatenate(clips, axis=0) if clips else np.zeros((0, rep.dim), np.float32)
    return Preprocessed(
        frames=np.ascontiguousarray(frames, dtype=np.float32),
        offsets=offsets,
        clip_file=np.asarray(clip_file, dtype=np.int64),
        clip_mirrored=np.asarray(clip_mirrored, dtype=bool),
        skeleton=reference,
        fps=fps,
        rejected=sorted(rejected),
    )
