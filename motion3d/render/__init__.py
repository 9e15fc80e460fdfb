"""Rendering: skeleton videos (matplotlib), training-time renders for TensorBoard (numpy
rasteriser), Open3D scenes / headless video / interactive player, SMPL-H meshes, and a
differentiable renderer in pure torch.

    from motion3d.render import Clip, save_video, clips_video
    save_video([clip_a, clip_b], "cmp.mp4")                 # side by side, names, floor, follow cam
    video = clips_video(batch_positions, parents=parents)    # (N, T, 3, H, W) uint8 for add_video

Modules: ``clip`` (Clip, timing, framing), ``camera``, ``colors``, ``encode`` (MP4/GIF/PNG),
``skeleton_video``, ``raster``, ``tensorboard``, ``open3d_scene`` (geometries, HeadlessRenderer,
render_offscreen), ``open3d_clips`` (ClipScene, MeshSequence, render_video), ``player``,
``smpl_mesh``, ``sources`` (files to clips), ``diff`` (differentiable), ``fit`` (pose from
silhouettes). Open3D, smplx and pytorch3d are imported only by the functions that need them.
"""
from motion3d.render.clip import Clip, as_clips, from_motion
from motion3d.render.encode import VideoWriter, read_video, write_png, write_video
from motion3d.render.skeleton_video import SkeletonFigure, render_frames, save_video
from motion3d.render.tensorboard import (clips_image, clips_video, log_clips, log_video, points_image,
                                         points_video)

__all__ = ["Clip", "as_clips", "from_motion", "VideoWriter", "read_video", "write_png", "write_video",
           "SkeletonFigure", "render_frames", "save_video", "clips_image", "clips_video", "log_clips",
           "log_video", "points_image", "points_video"]
