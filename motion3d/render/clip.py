"""What every renderer draws: named joint-position clips, their timing, floor and framing.

A :class:`Clip` is plain arrays (positions (T, J, 3), parents (J,), fps, name), so any skeleton,
any units and any frame rate render the same way. :func:`from_motion` adapts a ``Motion``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from motion3d.ops.joints import joint_side

#: joint_side's answer as the sign renderers colour by: -1 left, +1 right, 0 centre/unknown
_SIDE_SIGN = {"left": -1, "right": 1, None: 0}


@dataclass
class Clip:
    """A skeleton animation as global joint positions.

    Attributes:
        positions: (T, J, 3) global joint positions, Y up, any units.
        parents: (J,) parent index per joint, -1 for the root (joint 0).
        fps: frames per second (any positive value; required: a clip's rate is never assumed).
        name: shown above the clip.
        names: optional joint names (J,), used to colour left and right sides.
    """

    positions: np.ndarray
    parents: np.ndarray
    fps: float
    name: str = ""
    names: list[str] | None = field(default=None)

    def __post_init__(self):
        self.positions = np.asarray(self.positions, dtype=np.float64)
        self.parents = np.asarray(self.parents, dtype=np.int64)
        if self.positions.ndim != 3 or self.positions.shape[-1] != 3:
            raise ValueError(f"positions must be (T, J, 3), got {self.positions.shape}")
        if self.parents.shape != (self.positions.shape[1],):
            raise ValueError(f"parents must be (J,) = ({self.positions.shape[1]},), got {self.parents.shape}")
        if self.fps is None:
            raise ValueError(f"clip {self.name!r} needs fps (frames per second): a frame rate is never assumed")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps must be positive, got {self.fps}")
        self.fps = float(self.fps)
        self._bones = None
        self._body = None

    @property
    def num_frames(self) -> int:
        return self.positions.shape[0]

    @property
    def duration(self) -> float:
        """Length in seconds (the last frame is shown for one frame period)."""
        return self.num_frames / self.fps

    def bones(self) -> np.ndarray:
        """(B, 2) joint index pairs (parent, child) drawn as bones.

        Every non-root joint, except links whose length changes by more than a quarter of the
        figure's height over the clip: those are translation channels, not bones (Bandai-Namco's
        ``joint_Root`` stays on the origin while ``Hips`` walks away), and are not drawn; nor the
        link from a root that stays on the floor (a ground projection under the pelvis, as in some
        Bandai-Namco takes) up to its children.
        """
        if self._bones is None:
            child = np.nonzero(self.parents >= 0)[0]
            pairs = np.stack([self.parents[child], child], axis=1)
            length = np.linalg.norm(self.positions[:, pairs[:, 1]] - self.positions[:, pairs[:, 0]], axis=-1)
            y = self.positions[..., 1]
            height = max(float(np.ptp(y)), 1e-9)
            keep = np.ptp(length, axis=0) <= 0.25 * height
            roots = np.nonzero(self.parents < 0)[0]
            grounded = roots[(y[:, roots] - y.min()).max(axis=0) < 0.1 * height]
            keep &= ~np.isin(pairs[:, 0], grounded)
            self._bones = pairs[keep]
        return self._bones

    def drawn_joints(self) -> np.ndarray:
        """Indices of the joints that touch a drawn bone (all joints when there are no bones)."""
        b = self.bones()
        return np.unique(b) if len(b) else np.arange(self.positions.shape[1])

    def body_mask(self) -> np.ndarray:
        """(T, J) bool: the joints that frame the body in each frame (:func:`body_mask`, among
        :meth:`drawn_joints`): a world root left on the origin while the body walks metres away
        (Bandai-Namco's ``joint_Root``) is not part of the figure and does not size the view."""
        if self._body is None:
            drawn = np.zeros(self.positions.shape[1], dtype=bool)
            drawn[self.drawn_joints()] = True
            self._body = body_mask(self.positions, drawn)
        return self._body

    def body_positions(self) -> np.ndarray:
        """(T, J, 3) positions with NaN where a joint does not count for the body (:meth:`body_mask`)."""
        return np.where(self.body_mask()[..., None], self.positions, np.nan)

    def sides(self) -> np.ndarray:
        """(B,) side of each bone's child joint from its name (:func:`motion3d.ops.joints.joint_side`,
        which counts a side marker only when the other side's name exists): -1 left, +1 right,
        0 centre/unknown."""
        child = self.bones()[:, 1]
        if self.names is None:
            return np.zeros(len(child), dtype=np.int64)
        names = [str(n) for n in self.names]
        return np.array([_SIDE_SIGN[joint_side(names[j], names)] for j in child], dtype=np.int64)

    def frame_at(self, seconds: np.ndarray) -> np.ndarray:
        """Frame indices (N,) shown at times ``seconds`` (N,); the last frame holds after the end."""
        idx = np.floor(np.asarray(seconds, float) * self.fps + 1e-9).astype(np.int64)
        return np.clip(idx, 0, self.num_frames - 1)


def from_motion(motion, name: str = "") -> Clip:
    """A :class:`Clip` from a ``motion3d.Motion`` (global positions through its FK)."""
    sk = motion.skeleton
    return Clip(np.asarray(motion.positions()), np.asarray(sk.parents), float(motion.fps),
                name or getattr(motion, "name", ""), list(sk.names))


def as_clips(items, fps: float | None = None, parents=None, names=None) -> list[Clip]:
    """Normalise the inputs of the render functions to a list of clips.

    Accepts a Clip, a Motion, a (T, J, 3) array (with ``parents`` and ``fps``: an array does not
    carry its frame rate; Clips and Motions do), or a list of these.
    Raises:
        ValueError: an array without ``parents`` or without ``fps``.
    """
    if isinstance(items, (Clip, np.ndarray)) or hasattr(items, "skeleton"):
        items = [items]
    out = []
    for k, item in enumerate(items):
        label = names[k] if names is not None and k < len(names) else ""
        if isinstance(item, Clip):
            if label:
                item = Clip(item.positions, item.parents, item.fps, label, item.names)
            out.append(item)
        elif hasattr(item, "skeleton"):
            out.append(from_motion(item, label))
        else:
            if parents is None:
                raise ValueError("a positions array needs `parents`")
            if fps is None:
                raise ValueError("a positions array needs `fps` (frames per second): an array does not "
                                 "carry its frame rate, and none is assumed")
            out.append(Clip(np.asarray(item), parents, fps, label))
    return out


@dataclass
class Framing:
    """Shared framing for a group of clips: floor height, figure size and grid spacing (world units)."""

    floor: float
    height: float
    grid_step: float

    @staticmethod
    def of(clips: list[Clip]) -> "Framing":
        """One framing covering every clip, on the body over the whole clip (:meth:`Clip.body_mask`:
        joints left behind on the origin do not count).

        floor: the body's lowest point; height: the larger of its highest point above that floor
        and its widest extent along any axis in any one frame (a figure lying down, arms spread),
        so the view fits the figure, never the distance it travels.
        """
        body = [c.body_positions() for c in clips]
        floor = min(float(np.nanmin(b[..., 1])) for b in body)
        height = max(float(np.nanmax(b[..., 1])) - floor for b in body)
        spans = [float(np.nanmax(np.nanmax(b, axis=1) - np.nanmin(b, axis=1))) for b in body]
        height = max(height, max(spans), 1e-6)
        return Framing(floor, height, nice_step(height / 2.0))

    @staticmethod
    def per_clip(clips: list[Clip], share_within: float = 1.5) -> list["Framing"]:
        """A framing per clip; one shared framing when the clips' sizes are within ``share_within``.

        Clips of one skeleton compare at one scale; clips in different units (inches and
        centimetres) each fill their own panel.
        """
        own = [Framing.of([c]) for c in clips]
        heights = [f.height for f in own]
        if max(heights) <= share_within * min(heights):
            shared = Framing.of(clips)
            return [Framing(f.floor, shared.height, shared.grid_step) for f in own]
        return own


#: a joint that moves less than this fraction of the body's radius over the whole clip is static
STATIC_FRACTION = 0.05
#: a static joint farther than this many body radii from the body's centre is not part of it
FAR_RADII = 6.0


def body_mask(positions: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
    """(T, J) bool: the joints that make up the body in each frame.

    A joint does not count in a frame when it stays at one place over the whole clip (it moves less
    than ``STATIC_FRACTION`` of the body's radius) and is, in that frame, more than ``FAR_RADII``
    body radii away from the body's centre: a world or ``joint_Root`` node left on the origin while
    the body walks metres away. The centre is the per-frame median of the joints, the radius the
    median distance of the joints from it (over the clip), both unmoved by one stray joint; the
    figure's own joints lie within about 4.6 radii of it in every clip of the shared data (running,
    dancing, lying down), a static root 4-5 m away at 10-15.

    Args:
        positions: (T, J, 3) joint positions.
        candidates: optional (J,) bool, the joints that may count at all (those drawn).
    Returns:
        (T, J) bool; at least the candidates nearest the centre count in each frame.
    """
    pos = np.asarray(positions, float)
    T, J, _ = pos.shape
    cand = np.ones(J, dtype=bool) if candidates is None else np.asarray(candidates, bool)
    if not cand.any():
        cand = np.ones(J, dtype=bool)
    centre = np.median(pos[:, cand], axis=1)  # (T, 3)
    dist = np.linalg.norm(pos - centre[:, None], axis=-1)  # (T, J)
    radius = max(float(np.median(dist[:, cand])), 1e-12)
    static = np.ptp(pos, axis=0).max(axis=-1) < STATIC_FRACTION * radius  # (J,)
    mask = cand[None] & ~(static[None] & (dist > FAR_RADII * radius))
    # never leave a frame empty (a clip that is nothing but static points far apart)
    empty = ~mask.any(axis=1)
    if empty.any():
        mask[empty] = cand[None]
    return mask


def body_center(positions: np.ndarray) -> np.ndarray:
    """(T, 3) per-frame median of the joints: follows the body even when joint 0 stays put."""
    return np.median(positions, axis=-2)


def nice_step(x: float) -> float:
    """The nearest 1, 2 or 5 times a power of ten at or below ``x`` (> 0)."""
    p = 10.0 ** np.floor(np.log10(x))
    for m in (5.0, 2.0, 1.0):
        if m * p <= x:
            return m * p
    return p


def grid_segments(center_xz: np.ndarray, floor: float, step: float, half_cells: int) -> np.ndarray:
    """Floor grid lines around moving centres, snapped to multiples of ``step``.

    Args:
        center_xz: (T, 2) X/Z centre per frame.
    Returns:
        (T, 2 * (2 * half_cells + 1), 2, 3): line segments (start, end) per frame.
    """
    c = np.round(np.asarray(center_xz, float) / step) * step  # (T, 2)
    k = np.arange(-half_cells, half_cells + 1) * step  # (L,)
    ext = half_cells * step
    T, L = len(c), len(k)
    seg = np.empty((T, 2, L, 2, 3))
    seg[..., 1] = floor
    # lines of constant x, running along z
    seg[:, 0, :, :, 0] = (c[:, 0, None] + k)[:, :, None]
    seg[:, 0, :, 0, 2] = c[:, 1, None] - ext
    seg[:, 0, :, 1, 2] = c[:, 1, None] + ext
    # lines of constant z, running along x
    seg[:, 1, :, :, 2] = (c[:, 1, None] + k)[:, :, None]
    seg[:, 1, :, 0, 0] = c[:, 0, None] - ext
    seg[:, 1, :, 1, 0] = c[:, 0, None] + ext
    return seg.reshape(T, 2 * L, 2, 3)


def timeline(clips: list[Clip], fps: float | None = None, duration: float | None = None) -> tuple[float, np.ndarray]:
    """Output frame rate and the frame index of every clip at every output frame.

    The output rate defaults to the highest clip rate; each clip is sampled by time, so clips at
    different rates stay in sync. Returns (fps, (N, F) indices).
    """
    out_fps = float(fps) if fps else max(c.fps for c in clips)
    total = duration if duration is not None else max(c.duration for c in clips)
    n = max(1, int(round(total * out_fps)))
    t = np.arange(n) / out_fps
    return out_fps, np.stack([c.frame_at(t) for c in clips])
