"""Training-time renders for TensorBoard: clips and point clouds to video and image tensors.

The tensors follow ``SummaryWriter`` conventions: videos (N, T, C, H, W) uint8 for ``add_video``,
images (C, H, W) uint8 for ``add_image``. Drawing uses the vectorised numpy rasteriser
(:mod:`motion3d.render.raster`), so a batch of clips costs milliseconds on CPU.

``SummaryWriter.add_video`` needs moviepy (and its removed ``moviepy.editor``); :func:`log_video`
writes the same animated-GIF summary with Pillow instead, and works with any SummaryWriter
(Lightning's ``TensorBoardLogger.experiment`` is one).
"""
from __future__ import annotations

import io

import numpy as np

from motion3d.render import colors, raster
from motion3d.render.camera import ViewCamera
from motion3d.render.clip import Framing, as_clips, timeline
from motion3d.render.skeleton_video import camera_targets, scene_camera


def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def clips_video(clips, size: tuple[int, int] = (128, 128), fps: float | None = None, parents=None,
                max_frames: int | None = None, follow: bool = True, grid: bool = True) -> np.ndarray:
    """Render clips to a video tensor for ``add_video``.

    Args:
        clips: Clips / Motions, or a (N, T, J, 3) array or tensor of positions with ``parents``
            and ``fps`` (arrays do not carry a frame rate; none is assumed).
        size: (width, height) of each clip's video.
        fps: the rate of array inputs, and the output rate (default: the highest clip rate);
            clips are sampled by time and the shorter ones hold their last frame.
        max_frames: keep at most this many output frames (subsampled evenly).
    Returns:
        (N, T, 3, H, W) uint8.
    """
    return _render_clips(clips, size, fps, parents, max_frames, follow, grid)[0]


def _render_clips(clips, size, fps, parents, max_frames, follow, grid) -> tuple[np.ndarray, float]:
    """:func:`clips_video` and the frame rate of the (possibly subsampled) result."""
    if not isinstance(clips, (list, tuple)) and not hasattr(clips, "skeleton") and _numpy(clips).ndim == 4:
        clips = list(_numpy(clips))
    clips = as_clips([_numpy(c) if hasattr(c, "detach") else c for c in clips], parents=parents, fps=fps)
    rate, idx = timeline(clips, fps)  # (N, F)
    if max_frames is not None and idx.shape[1] > max_frames:
        rate *= max_frames / idx.shape[1]
        idx = idx[:, np.linspace(0, idx.shape[1] - 1, max_frames).round().astype(int)]
    framings = Framing.per_clip(clips)
    videos = []
    for k, (clip, fr) in enumerate(zip(clips, framings)):
        cam = scene_camera(fr)
        targets = camera_targets(clip, fr, follow)[idx[k]]
        frames = raster.draw_skeletons(
            clip.positions[idx[k]], clip.bones(), size, cam, targets,
            floor=fr.floor if grid else None, grid_step=fr.grid_step, color=colors.clip_color(k),
            sides=clip.sides())
        videos.append(frames)
    return np.stack(videos).transpose(0, 1, 4, 2, 3).copy(), rate


def clips_image(clips, num_keyframes: int = 6, size: tuple[int, int] = (128, 128), parents=None,
                fps: float | None = None) -> np.ndarray:
    """A filmstrip for ``add_image``: one row per clip, ``num_keyframes`` evenly spaced frames.

    Returns:
        (3, N * H, num_keyframes * W) uint8.
    """
    video = clips_video(clips, size, fps=fps, parents=parents, max_frames=num_keyframes)
    n, t, c, h, w = video.shape
    return video.transpose(2, 0, 3, 1, 4).reshape(c, n * h, t * w)


def points_image(points, size: tuple[int, int] = (128, 128), columns: int | None = None,
                 point_colors=None) -> np.ndarray:
    """Point clouds (N, P, 3) tiled into one image for ``add_image``: (3, rows * H, columns * W) uint8."""
    pts = _numpy(points)
    imgs = raster.draw_points(pts, size, point_colors=None if point_colors is None else _numpy(point_colors))
    return tile(imgs.transpose(0, 3, 1, 2), columns)


def points_video(points, num_frames: int = 24, size: tuple[int, int] = (128, 128)) -> np.ndarray:
    """A turntable of each point cloud (N, P, 3): (N, num_frames, 3, H, W) uint8 for ``add_video``."""
    pts = _numpy(points)
    n = pts.shape[0]
    az = np.tile(np.linspace(0.0, 360.0, num_frames, endpoint=False), n)
    imgs = raster.draw_points(np.repeat(pts, num_frames, axis=0), size, azimuth=az)
    H, W = imgs.shape[1:3]
    return imgs.reshape(n, num_frames, H, W, 3).transpose(0, 1, 4, 2, 3).copy()


def tile(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """Tile (N, C, H, W) images into (C, rows * H, columns * W), blank cells white."""
    n, c, h, w = images.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    out = np.full((rows * columns, c, h, w), 255, dtype=images.dtype)
    out[:n] = images
    return out.reshape(rows, columns, c, h, w).transpose(2, 0, 3, 1, 4).reshape(c, rows * h, columns * w)


def gif_bytes(video: np.ndarray, fps: float) -> bytes:
    """Encode (T, 3, H, W) uint8 as an animated GIF."""
    from PIL import Image

    frames = [Image.fromarray(f.transpose(1, 2, 0)) for f in video]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], loop=0,
                   duration=max(10, int(round(1000.0 / fps))))
    return buf.getvalue()


def log_video(writer, tag: str, video: np.ndarray, step: int | None = None, fps: float | None = None) -> None:
    """Write (N, T, 3, H, W) uint8 videos, tiled, as an animated GIF image summary at ``fps``
    (required: a video's rate is never assumed).

    The same summary ``SummaryWriter.add_video`` writes, without its moviepy dependency.
    ``writer`` is a ``torch.utils.tensorboard.SummaryWriter``.
    """
    from tensorboard.compat.proto.summary_pb2 import Summary

    if fps is None or not fps > 0:
        raise ValueError(f"log_video needs the video's fps (frames per second), got {fps}")
    video = _numpy(video)
    n, t, c, h, w = video.shape
    tiled = np.stack([tile(video[:, i]) for i in range(t)])  # (T, 3, H', W')
    image = Summary.Image(height=tiled.shape[2], width=tiled.shape[3], colorspace=c,
                          encoded_image_string=gif_bytes(tiled, fps))
    writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)


def log_clips(writer, tag: str, clips, step: int | None = None, parents=None, fps: float | None = None,
              size: tuple[int, int] = (128, 128), max_frames: int = 90) -> np.ndarray:
    """Render clips (see :func:`clips_video`) and log them as a video; returns the video tensor."""
    video, rate = _render_clips(clips, size, fps, parents, max_frames, True, True)
    log_video(writer, tag, video, step, rate)
    return video


__all__ = ["clips_video", "clips_image", "points_image", "points_video", "tile", "log_video",
           "log_clips", "ViewCamera"]
