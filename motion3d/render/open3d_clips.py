"""Animated Open3D scenes of clips (skeletons) and mesh sequences, and their headless video.

A :class:`ClipScene` holds one track per clip (a skeleton of shaded bones, or a mesh sequence such
as SMPL), laid out side by side or overlaid, each in its own colour, over a floor grid that covers
the whole motion. :meth:`ClipScene.set_time` poses every track at a time in seconds (each track at its
own frame rate), so the interactive player and the offscreen writer play any fps in real time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from motion3d.render import colors as palette
from motion3d.render import open3d_scene as o3s
from motion3d.render.camera import follow_targets, smooth_path, view_basis
from motion3d.render.clip import Clip, as_clips, nice_step
from motion3d.render.encode import VideoWriter, even_size


@dataclass
class MeshSequence:
    """A deforming mesh: vertices (T, V, 3), faces (F, 3), Y up, at ``fps``; optional joints (T, J, 3)."""

    vertices: np.ndarray
    faces: np.ndarray
    fps: float
    name: str = ""
    joints: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return len(self.vertices)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def frame_at(self, seconds) -> np.ndarray:
        idx = np.floor(np.asarray(seconds, float) * self.fps + 1e-9).astype(np.int64)
        return np.clip(idx, 0, self.num_frames - 1)


class _Track:
    """One animated item of a scene: its points per frame (T, P, 3) and its Open3D geometry."""

    def __init__(self, item, color: np.ndarray, radius: float):
        self.item = item
        self.name = item.name
        self.fps = item.fps
        self.offset = np.zeros(3)
        self.scale = 1.0
        self.pivot = np.zeros(3)
        self.body = None  # (T, P, 3) the points that count for layout (set by ClipScene)
        if isinstance(item, MeshSequence):
            self.points = np.asarray(item.vertices, float)
            self.skel = None
            self.color = 0.55 * color + 0.4
        else:
            self.points = item.positions
            self.skel = _skeleton_mesh(item, radius, color)
            self.color = color
        self.geometry = None

    def world(self, frame: int, points: np.ndarray | None = None) -> np.ndarray:
        """(P, 3) points of a frame (of ``points`` (T, P, 3), default the track's) after the
        scene's scale and offset."""
        points = self.points if points is None else points
        return (points[frame] - self.pivot) * self.scale + self.pivot + self.offset

    def build(self, frame: int):
        pts = self.world(frame)
        if self.skel is not None:
            self.geometry = o3s.skeleton_geometry(self.skel, pts)
        else:
            self.geometry = o3s.mesh_geometry(pts, self.item.faces, self.color)
        return self.geometry

    def update(self, frame: int) -> None:
        pts = self.world(frame)
        if self.skel is not None:
            o3s.update_skeleton_geometry(self.geometry, self.skel, pts)
        else:
            o3s.update_mesh_geometry(self.geometry, pts)


def _skeleton_mesh(clip: Clip, radius: float, color: np.ndarray) -> o3s.SkeletonMesh:
    """A SkeletonMesh drawing only the clip's real bones (see ``Clip.bones``)."""
    parents = np.full(len(clip.parents), -1)
    bones = clip.bones()
    parents[bones[:, 1]] = bones[:, 0]
    return o3s.SkeletonMesh(parents, radius, palette.bone_colors(color, clip.sides()),
                            joints=clip.drawn_joints())


class ClipScene:
    """Clips and mesh sequences as one animated Open3D scene.

    Args:
        items: Clips / Motions / MeshSequences (or a list).
        layout: ``"side"`` (side by side along X, one body height apart) or ``"overlay"``.
        normalize: rescale items to the first one's height when sizes differ by more than 1.5x
            (clips in inches next to clips in centimetres).
        radius: bone radius in world units (default 1.5% of the body height).
    """

    def __init__(self, items, layout: str = "side", normalize: bool = True, radius: float | None = None):
        if layout not in ("side", "overlay"):
            raise ValueError(f"layout must be 'side' or 'overlay', got {layout!r}")
        if isinstance(items, MeshSequence):
            items = [items]
        items = [it if isinstance(it, MeshSequence) else as_clips(it)[0] for it in items]
        body = [_body_points(it) for it in items]  # NaN where a joint is not part of the body
        heights = [float(np.nanmax(b[..., 1]) - np.nanmin(b[..., 1])) or 1.0 for b in body]
        ref = heights[0]
        self.height = ref
        radius = radius or 0.015 * ref
        self.tracks = [_Track(it, palette.clip_color(k), radius) for k, it in enumerate(items)]
        cursor = 0.0
        for k, (tr, h, b) in enumerate(zip(self.tracks, heights, body)):
            tr.body = b
            tr.pivot = np.array([0.0, float(np.nanmin(b[..., 1])), 0.0])
            if normalize and max(h, ref) > 1.5 * min(h, ref):
                tr.scale = ref / h
            if layout == "side":
                # place each track right of the previous one's whole X range: no overlap ever
                xs = (b[..., 0] - tr.pivot[0]) * tr.scale + tr.pivot[0]
                start_z = np.nanmedian(b[0, :, 2]) * tr.scale
                tr.offset = np.array([cursor - np.nanmin(xs), 0.0, -start_z])
                cursor += float(np.nanmax(xs) - np.nanmin(xs)) + 0.6 * ref
        if layout == "side":  # centre the row of tracks on X = 0
            shift = 0.5 * (cursor - 0.6 * ref)
            for tr in self.tracks:
                tr.offset[0] -= shift
        self.floor = min(float(np.nanmin(tr.world(0, tr.body)[..., 1])) for tr in self.tracks)
        for tr in self.tracks:  # stand every track on the common floor
            lowest = (tr.body[..., 1] - tr.pivot[1]) * tr.scale + tr.pivot[1] + tr.offset[1]
            tr.offset[1] += self.floor - float(np.nanmin(lowest))
        self.fps = max(tr.fps for tr in self.tracks)
        self.duration = max(tr.item.duration for tr in self.tracks)
        self.num_frames = max(1, int(round(self.duration * self.fps)))
        # follow path: mean over tracks of their smoothed body centres, at the output rate
        t = np.arange(self.num_frames) / self.fps
        centres = []
        for tr in self.tracks:
            world = (tr.points - tr.pivot) * tr.scale + tr.pivot + tr.offset
            ft = follow_targets(world, self.floor, tr.fps)
            centres.append(ft[tr.item.frame_at(t)])
        self.targets = smooth_path(np.mean(centres, axis=0), 1)
        lo = np.min([np.nanmin((tr.body - tr.pivot) * tr.scale + tr.pivot + tr.offset, axis=(0, 1)) for tr in self.tracks], 0)
        hi = np.max([np.nanmax((tr.body - tr.pivot) * tr.scale + tr.pivot + tr.offset, axis=(0, 1)) for tr in self.tracks], 0)
        self.grid_step = nice_step(ref / 2.0)
        margin = 1.5 * ref
        self.grid_center = 0.5 * (lo + hi)[[0, 2]]
        self.grid_half = int(np.ceil((0.5 * np.max((hi - lo)[[0, 2]]) + margin) / self.grid_step))
        self.group_width = float(hi[0] - lo[0]) if layout == "side" else 0.0
        self.geometries = []
        self._frames = [-1] * len(self.tracks)

    def build(self) -> list:
        """Create the Open3D geometries (tracks at time 0, then the floor grid)."""
        self.geometries = [tr.build(0) for tr in self.tracks]
        self.grid = o3s.floor_grid_geometry(self.grid_center, self.floor, self.grid_step, self.grid_half)
        self._frames = [0] * len(self.tracks)
        return self.geometries + [self.grid]

    def set_time(self, seconds: float) -> list:
        """Pose every track at ``seconds``; returns the geometries that changed."""
        changed = []
        for k, tr in enumerate(self.tracks):
            f = int(tr.item.frame_at(seconds))
            if f != self._frames[k]:
                tr.update(f)
                self._frames[k] = f
                changed.append(tr.geometry)
        return changed

    def target(self, seconds: float) -> np.ndarray:
        """(3,) look-at point that follows the clips at ``seconds``."""
        i = int(np.clip(np.floor(seconds * self.fps + 1e-9), 0, self.num_frames - 1))
        return self.targets[i]

    def view(self, seconds: float, azimuth: float = 35.0, elevation: float = 18.0,
             fov_deg: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
        """Default camera (eye, target) at ``seconds``: every track in view, following them."""
        target = self.target(seconds)
        extent = max(self.height * 1.3, 0.9 * (self.group_width + 0.4 * self.height))
        dist = 0.5 * extent / np.tan(np.deg2rad(fov_deg) / 2.0) + 0.5 * self.height
        return target + dist * view_basis(azimuth, elevation)[2], target

    def names(self) -> list[tuple[str, np.ndarray]]:
        """(name, RGB) per track, for legends."""
        return [(tr.name, palette.clip_color(k)) for k, tr in enumerate(self.tracks)]


def _body_points(item) -> np.ndarray:
    """(T, P, 3) points that size and place an item: every mesh vertex; a clip's body joints, NaN
    elsewhere (:meth:`Clip.body_positions`: a root left on the origin does not widen the layout)."""
    return np.asarray(item.vertices, float) if isinstance(item, MeshSequence) else item.body_positions()


def label_font(size: int):
    """Pillow's default font at ``size`` pixels (a fixed-size bitmap font before Pillow 10.1)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def legend_overlay(entries, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Names with colour swatches in the top-left corner.

    Returns:
        rgb (H, W, 3) uint8 and alpha (H, W, 1) float32 in [0, 1], to blend onto frames.
    """
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    size = max(10, height // 32)
    font = label_font(size)
    y = size // 2
    for name, rgb in entries:
        if not name:
            continue
        c = tuple(int(v) for v in palette.to_uint8(rgb))
        draw.rectangle([size // 2, y + 2, size // 2 + size - 4, y + size - 2], fill=c + (255,))
        draw.text((size * 2, y), name, fill=(40, 40, 40, 255), font=font)
        y += int(size * 1.4)
    arr = np.asarray(img)
    return arr[..., :3].copy(), (arr[..., 3:] / 255.0).astype(np.float32)


def blend(frame: np.ndarray, overlay: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Alpha-blend a legend onto a frame (H, W, 3) uint8, only where the legend is drawn."""
    rgb, alpha = overlay
    rows = np.nonzero(alpha[..., 0].any(axis=1))[0]
    if len(rows) == 0:
        return frame
    r0, r1 = rows[0], rows[-1] + 1
    a = alpha[r0:r1]
    frame[r0:r1] = (frame[r0:r1] * (1.0 - a) + rgb[r0:r1] * a).astype(np.uint8)
    return frame


def render_video(items, path: str | os.PathLike, fps: float | None = None, size=(640, 480),
                 layout: str = "side", follow: bool = True, names: bool = True, azimuth: float = 35.0,
                 elevation: float = 18.0, preset: str = "ultrafast") -> dict:
    """Render clips / mesh sequences headless with Open3D and write an MP4 (H.264 yuv420p) or GIF.

    Args:
        items: Clips, Motions or MeshSequences (see :class:`ClipScene`).
        fps: output rate (default the highest input rate; inputs are sampled by time).
        size: (width, height) in pixels.
        preset: x264 preset; "ultrafast" keeps encoding off the critical path (files ~2x larger
            than "veryfast" at the same quality).
    Returns:
        {"path", "frames", "fps", "size"}.
    """
    scene = items if isinstance(items, ClipScene) else ClipScene(items, layout)
    out_fps = float(fps or scene.fps)
    n = max(1, int(round(scene.duration * out_fps)))
    width, height = even_size(*size)
    overlay = legend_overlay(scene.names(), width, height) if names else None
    with o3s.HeadlessRenderer(width, height) as r, \
            VideoWriter(path, out_fps, preset=preset, threaded=True) as w:
        for g in scene.build():
            r.add(g)
        fixed = None if follow else scene.view(0.0, azimuth, elevation)
        for i in range(n):
            t = i / out_fps
            for g in scene.set_time(t):
                r.update(g)
            eye, target = fixed or scene.view(t, azimuth, elevation)
            r.look_at(eye, target)
            frame = r.render()
            w.write(blend(frame, overlay) if overlay is not None else frame)
    return {"path": str(path), "frames": w.num_frames, "fps": out_fps, "size": (width, height)}
