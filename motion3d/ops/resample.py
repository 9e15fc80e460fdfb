"""Resampling a clip to another frame rate: slerp on rotations, linear on positions.

The maths (:func:`resample_indices`, frame placement and exact copies where new frames land on
source frames) is :mod:`motion3d.geometry.resample`; ``Motion.resample`` and :func:`resample`
are the same operation.
"""
from __future__ import annotations

from motion3d.geometry.resample import resample_indices
from motion3d.motion import Motion

__all__ = ["resample", "resample_indices"]


def resample(motion: Motion, fps: float) -> Motion:
    """``motion`` at ``fps`` frames per second (any ratio, up or down): ``motion.resample(fps)``.

    Rotations ``(T, J, 4)`` are slerped along the shortest arc; root positions ``(T, 3)`` and
    translations ``(T, J, 3)`` are interpolated linearly. Frames that coincide with source frames
    are exact copies. Returns a new Motion with ``K = floor(duration * fps) + 1`` frames; a rate
    within :data:`motion3d.motion.FPS_TOLERANCE` of the clip's gives a copy labelled ``fps``."""
    return motion.resample(fps)
