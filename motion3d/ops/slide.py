"""Foot sliding as a drift of the whole body, found from the planted feet.

When a capture's solver lets the body drift on the floor (a marker set sliding, a calibration
offset), every planted foot moves by the same planar velocity while it should stand still. Clean
capture has planted feet that move too (a heel rolling, a toe pivoting), but in no common
direction. :func:`slide_drift` therefore looks for one planar velocity that most of the contact
steps of the foot joints share, and takes it as a drift only when it is a much better explanation
than standing still:

1. contact steps: a foot joint low (within ``contact_height`` body heights of its lowest point in
   the segment) at both ends of a frame step and slower than ``max_speed`` body heights / s (loose:
   a sliding foot moves);
2. the mode of their planar velocities (:func:`shared_velocity`): the velocity with the most steps
   within ``tol`` of it, refined by the mean of those steps;
3. a drift only if it is faster than ``min_speed``, and if the steps that agree with it are at
   least ``ratio`` times those that agree with standing still, a fraction ``share`` of all the
   contact steps, and ``min_agree_s`` seconds' worth of one joint's steps. Clean capture has
   consistent slips too, slower ones (Bandai-Namco val, 529 windows of 2 s: at most 0.047 body
   heights / s, with 2.07 times the steps of standing still; a drift of 0.1 body heights / s: 0.07
   to 0.13 found, 2.3 to 236 times); noise makes a few steps agree by chance (jitter of 3 degrees
   and 1 % of the height, after the clean-up model: up to 28 % of them); a long gap leaves few
   measured steps, and three of five may agree;
4. the drift is taken off on the frames where some foot joint makes a contact step.

Only the steps between two ``valid`` frames count, and only those are corrected: where the capture
lost the root or a leg, the path is not a measurement.

Long clips are cut into segments of about ``segment_s`` seconds, each with its own drift.
Positions are y-up (the features' convention: x, height, z).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["slide_drift", "shared_velocity", "SLIDE_TOL", "SLIDE_RATIO", "SLIDE_MIN_SPEED", "SLIDE_MAX_SPEED",
           "SLIDE_CONTACT_HEIGHT", "SLIDE_SEGMENT_S", "SLIDE_SHARE", "SLIDE_MIN_AGREE_S"]

#: contact steps within this planar speed of each other (body heights / s) agree on a velocity.
#: Val (Bandai-Namco, 529 windows, drift 0.1 body heights / s, MPJPE of the input 118.6 mm): 0.03 / 0.04 /
#: 0.05 / 0.07: 18.8 / 20.6 / 22.8 / 27.9 mm, but at 0.03 clean windows reach 3.4 times the agreement of
#: standing still, at 0.05 2.07
SLIDE_TOL = 0.05
#: a drift needs this many times the contact steps that agree with standing still
SLIDE_RATIO = 2.5
#: ... and at least this fraction of all of them. Val, the clean-up model's output (seeds 0 / 1, 529 windows),
#: windows given a drift with 0.3 / 0.35 / 0.4: jitter x1 0 / 0 / 0 and 0.2 / 0 / 0 %, a drift of 0.1 body heights
#: / s 96.6 / 95.1 / 92.6 % (seed 1; median share 64 %)
SLIDE_SHARE = 0.35
#: ... and at least this many seconds' worth of steps of one foot joint (at 30 fps, 15): a long gap leaves a
#: few measured steps, and three of five may agree (gaps x2: 1 % of the windows, with 3 to 7 steps agreeing)
SLIDE_MIN_AGREE_S = 0.5
#: ... and to be faster than this (body heights / s)
SLIDE_MIN_SPEED = 0.05
#: a foot joint faster than this (body heights / s) over a frame step is not planted
SLIDE_MAX_SPEED = 0.5
#: a foot joint within this fraction of the body height of its lowest point is low enough to be planted
SLIDE_CONTACT_HEIGHT = 0.05
#: segments of about this many seconds get a drift each
SLIDE_SEGMENT_S = 2.0


def shared_velocity(velocities: np.ndarray, tol: float, iters: int = 5) -> tuple[np.ndarray, int, int]:
    """The mode of planar velocities ``(N, 2)``: among the velocities themselves, the one with the
    most others within ``tol``, then moved to the mean of those (``iters`` times, a mean shift).
    Returns ``(velocity (2,), agree, still)``: how many velocities are within ``tol`` of it and how
    many within ``tol`` of zero."""
    v = np.asarray(velocities, dtype=np.float64).reshape(-1, 2)
    still = int((np.linalg.norm(v, axis=-1) < tol).sum())
    if len(v) == 0:
        return np.zeros(2), 0, still
    close = np.linalg.norm(v[:, None] - v[None], axis=-1) < tol  # (N, N)
    best = v[close[int(close.sum(1).argmax())]].mean(0)
    for _ in range(iters):
        near = np.linalg.norm(v - best, axis=-1) < tol
        if not near.any():  # cannot happen (the mean of points within tol of one another is within tol of one)
            break
        best = v[near].mean(0)
    return best, int((np.linalg.norm(v - best, axis=-1) < tol).sum()), still


def slide_drift(feet: np.ndarray, fps: float, height: float, tol: float = SLIDE_TOL, ratio: float = SLIDE_RATIO,
                min_speed: float = SLIDE_MIN_SPEED, max_speed: float = SLIDE_MAX_SPEED,
                contact_height: float = SLIDE_CONTACT_HEIGHT, segment_s: float = SLIDE_SEGMENT_S,
                share: float = SLIDE_SHARE, min_agree_s: float = SLIDE_MIN_AGREE_S,
                valid: np.ndarray | None = None) -> np.ndarray:
    """The drift of a clip from its foot joints' global positions ``feet (T, F, 3)`` (y-up, file
    units; ``height`` the body height in those units) -> ``(T, 2)``: the planar (x, z) step of the
    drift at each frame, zero where none was found; subtract its cumulative sum from the root's
    planar path to take the drift off. ``valid (T,)`` bool (default all): the measured frames, the
    only ones whose steps count and are corrected. Speeds and tolerances are in body heights per
    second; see the module docstring."""
    f = np.asarray(feet, dtype=np.float64)
    if f.ndim != 3 or f.shape[-1] != 3:
        raise ValueError(f"slide_drift needs foot positions (T, F, 3), got shape {f.shape}")
    T = f.shape[0]
    out = np.zeros((T, 2))
    if T < 2 or f.shape[1] == 0:
        return out
    ok = np.ones(T, dtype=bool) if valid is None else np.asarray(valid, dtype=bool).reshape(T)
    segments = max(1, math.ceil(T / max(1.0, segment_s * fps) - 1e-9))
    bounds = np.linspace(0, T, segments + 1).round().astype(int)
    scale = fps / height  # file units per frame -> body heights per second
    min_agree = max(1, int(round(min_agree_s * fps)))
    for a, b in zip(bounds[:-1], bounds[1:]):
        seg = f[a:b]
        if len(seg) < 2:
            continue
        low = seg[..., 1] - seg[..., 1].min(axis=0, keepdims=True) < contact_height * height  # (t, F)
        step = seg[1:, :, [0, 2]] - seg[:-1, :, [0, 2]]  # (t-1, F, 2)
        speed = np.linalg.norm(step, axis=-1) * scale
        measured = ok[a:b][1:] & ok[a:b][:-1]  # (t-1,)
        contact = low[1:] & low[:-1] & (speed < max_speed) & measured[:, None]  # (t-1, F)
        n = int(contact.sum())
        if n < min_agree:
            continue
        v, agree, still = shared_velocity(step[contact] * scale, tol)
        if agree < max(min_agree, ratio * max(still, 1), share * n) or np.linalg.norm(v) < min_speed:
            continue
        frames = np.zeros(len(seg), dtype=bool)
        frames[1:] = contact.any(-1)
        out[a:b][frames] = v / scale
    return out
