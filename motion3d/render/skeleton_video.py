"""Skeleton animations drawn with matplotlib (Agg, no display) and written as MP4 or GIF.

One persistent figure: every panel's artists are made once, each frame only moves their data
(``set_segments`` / ``set_data``) and redraws them over a cached background (blitting), then reads
``canvas.buffer_rgba()``. Several clips sit side by side, each in its own panel with its name and a
camera that follows its root; panels share one scale when the clips are of similar size. Clips at different
frame rates are sampled by time, so any input fps plays at its true speed.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from motion3d.render import colors
from motion3d.render.camera import ViewCamera, follow_targets
from motion3d.render.clip import Clip, Framing, as_clips, grid_segments, timeline
from motion3d.render.encode import VideoWriter, even_size


def scene_camera(framing: Framing, azimuth: float = 35.0, elevation: float = 20.0, zoom: float = 1.0) -> ViewCamera:
    """The default camera for a framing: the figure's height fills ~70% of the image."""
    return ViewCamera(azimuth, elevation, distance=3.5 * framing.height, scale=1.45 * framing.height / zoom)


def camera_targets(clip: Clip, framing: Framing, follow: bool) -> np.ndarray:
    """(T, 3) look-at points: following the body, or fixed at the middle of the body's whole path
    (joints that are not part of the body, :meth:`Clip.body_mask`, left out)."""
    if follow:
        return follow_targets(clip.positions, framing.floor, clip.fps)
    body = clip.body_positions()
    lo, hi = np.nanmin(body, axis=(0, 1)), np.nanmax(body, axis=(0, 1))
    mid = 0.5 * (lo + hi)
    mid[1] = framing.floor + 0.5 * framing.height
    return np.repeat(mid[None], clip.num_frames, axis=0)


class SkeletonFigure:
    """A reusable figure that draws clips side by side; call :meth:`draw` per output frame.

    Clips of similar size share one scale; clips in different units each fill their panel
    (:meth:`Framing.per_clip`).

    Args:
        clips: clips (see :func:`motion3d.render.clip.as_clips`).
        panel_size: (width, height) in pixels of each clip's panel (the figure is N panels wide).
        follow: camera follows each clip's root; otherwise it frames the whole clip.
        camera: a :class:`ViewCamera`; by default one fitted to the clips' size.
        show_names: write each clip's name at the top of its panel.
    """

    def __init__(self, clips, panel_size: tuple[int, int] = (480, 480), follow: bool = True,
                 camera: ViewCamera | None = None, show_names: bool = True, joints: bool = True):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure

        self.clips = as_clips(clips)
        n = len(self.clips)
        pw, ph = panel_size
        self.width, self.height = even_size(pw * n, ph)
        self.panel_w, self.panel_h = self.width / n, self.height
        self.framings = Framing.per_clip(self.clips)
        self.cameras = [camera or scene_camera(f) for f in self.framings]
        self.targets = [camera_targets(c, f, follow) for c, f in zip(self.clips, self.framings)]
        self.grid_half_cells = [max(int(np.ceil(1.6 * cam.scale / f.grid_step)), 2)
                                for cam, f in zip(self.cameras, self.framings)]

        dpi = 100.0
        self.fig = Figure(figsize=(self.width / dpi, self.height / dpi), dpi=dpi)
        self.fig.patch.set_facecolor(colors.BACKGROUND)
        self.canvas = FigureCanvasAgg(self.fig)
        lw = max(1.5, self.panel_h / 150.0)
        self.axes, self.grid_art, self.bone_art, self.joint_art, self.bone_rgb = [], [], [], [], []
        for k, clip in enumerate(self.clips):
            ax = self.fig.add_axes((k / n, 0.0, 1.0 / n, 1.0))
            ax.set_xlim(0, self.panel_w)
            ax.set_ylim(self.panel_h, 0)
            ax.set_axis_off()
            if show_names and clip.name:
                ax.text(0.5, 0.97, clip.name, transform=ax.transAxes, ha="center", va="top",
                        fontsize=max(8, self.panel_h / 40), color="0.15")
            grid = LineCollection([], colors=[colors.GRID], linewidths=max(0.8, lw / 3), animated=True)
            rgb = colors.bone_colors(colors.clip_color(k), clip.sides())
            bones = LineCollection([], linewidths=lw, capstyle="round", animated=True)
            (jts,) = ax.plot([], [], "o", ms=lw * 1.4, color=colors.JOINT, animated=True,
                             visible=joints)
            ax.add_collection(grid)
            ax.add_collection(bones)
            self.axes.append(ax)
            self.grid_art.append(grid)
            self.bone_art.append(bones)
            self.joint_art.append(jts)
            self.bone_rgb.append(rgb)
        self.joint_ids = [c.drawn_joints() for c in self.clips]
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def draw(self, frame_indices) -> np.ndarray:
        """Draw frame ``frame_indices[k]`` of every clip k; returns (H, W, 3) uint8 RGB."""
        self.canvas.restore_region(self.background)
        for k, clip in enumerate(self.clips):
            t = int(frame_indices[k])
            target, cam, fr = self.targets[k][t], self.cameras[k], self.framings[k]
            grid = grid_segments(target[None, [0, 2]], fr.floor, fr.grid_step, self.grid_half_cells[k])[0]
            g2 = cam.project(grid.reshape(-1, 3), target, self.panel_w, self.panel_h)
            self.grid_art[k].set_segments(g2[:, :2].reshape(-1, 2, 2))
            p2 = cam.project(clip.positions[t], target, self.panel_w, self.panel_h)  # (J, 3)
            bones = clip.bones()
            seg = p2[bones][:, :, :2]  # (B, 2, 2)
            order = np.argsort(p2[bones][:, :, 2].mean(axis=1))  # far first
            self.bone_art[k].set_segments(seg[order])
            self.bone_art[k].set_color(self.bone_rgb[k][order])
            shown = p2[self.joint_ids[k]]
            self.joint_art[k].set_data(shown[:, 0], shown[:, 1])
            ax = self.axes[k]
            ax.draw_artist(self.grid_art[k])
            ax.draw_artist(self.bone_art[k])
            ax.draw_artist(self.joint_art[k])
        buf = np.asarray(self.canvas.buffer_rgba())
        return buf[..., :3].copy()

    def frames(self, fps: float | None = None) -> Iterator[np.ndarray]:
        """Every output frame at ``fps`` (default: the highest clip rate), each (H, W, 3) uint8."""
        _, idx = timeline(self.clips, fps)
        for f in range(idx.shape[1]):
            yield self.draw(idx[:, f])

    def close(self) -> None:
        self.fig.clear()


def render_frames(clips, fps: float | None = None, panel_size=(480, 480), **kwargs) -> np.ndarray:
    """All frames of the clips side by side: (F, H, W, 3) uint8."""
    fig = SkeletonFigure(clips, panel_size, **kwargs)
    return np.stack(list(fig.frames(fps)))


def save_video(clips, path: str | os.PathLike, fps: float | None = None, panel_size=(480, 480),
               **kwargs) -> dict:
    """Render clips side by side to ``path`` (.mp4: H.264 yuv420p; .gif).

    Args:
        clips: Clip / Motion / list of them (see :func:`as_clips`).
        fps: output rate; default the highest clip rate (clips are sampled by time).
        panel_size: (width, height) of each clip's panel in pixels.
        **kwargs: passed to :class:`SkeletonFigure` (follow, camera, show_names, joints).
    Returns:
        {"path", "frames", "fps", "size": (W, H)}.
    """
    clips = as_clips(clips)
    out_fps, _ = timeline(clips, fps)
    fig = SkeletonFigure(clips, panel_size, **kwargs)
    with VideoWriter(path, out_fps, threaded=True) as w:
        for frame in fig.frames(out_fps):
            w.write(frame)
    fig.close()
    return {"path": str(path), "frames": w.num_frames, "fps": out_fps, "size": (fig.width, fig.height)}
