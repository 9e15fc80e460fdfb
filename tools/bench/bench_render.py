#!/usr/bin/env python
"""Benchmark: rendering frames per second for a 22-joint skeleton (a Bandai-Namco clip) at
640x480, each path against a named baseline measured in the same run.

    python tools/bench/bench_render.py [--frames 120] [--data DIR] [--out DIR]

* matplotlib (motion3d.render.skeleton_video): persistent figure, per-frame line-data updates and
  blitting; draw only, and draw + H.264 encode to MP4.
  Baseline "naive matplotlib": a new figure with mplot3d axes, one ax.plot per bone, canvas draw
  and close, every frame (the usual approach of research viewers).
* Open3D offscreen (motion3d.render.open3d_clips.render_video): hidden legacy Visualizer (EGL),
  one skinned bone/joint mesh moved in place per frame; renders + encodes H.264 end to end.
  Baseline "naive Open3D": same hidden window, but per frame clear the scene and add a fresh
  cylinder and sphere mesh per bone and joint (create_cylinder / create_sphere), then capture.
* numpy rasteriser (motion3d.render.raster, the TensorBoard path): all frames at once.
* differentiable capsules (motion3d.render.diff.render_capsules, culled windows per bone):
  forward and forward+backward, 8 frames per batch.
  Baseline "dense": the same soft maths evaluated at every pixel for every bone (cull=False).
Each fast path is timed ``--repeat`` times and the best run is kept (the machine is shared).
Targets: Open3D offscreen >= 60 frames/s end to end.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_time  # noqa: E402
from motion3d.io import bvh  # noqa: E402
from motion3d.paths import data_root  # noqa: E402
from motion3d.render import raster  # noqa: E402
from motion3d.render.clip import from_motion  # noqa: E402
from motion3d.render.skeleton_video import SkeletonFigure, save_video  # noqa: E402

W, H = 640, 480


REPEAT = 3


def timed(fn, repeat: int | None = None) -> float:
    """Best wall time of ``repeat`` runs of ``fn`` (default ``REPEAT``)."""
    return best_time(fn, repeat or REPEAT)


def naive_matplotlib(clip, frames: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bones = clip.bones()
    for t in range(frames):
        fig = plt.figure(figsize=(W / 100, H / 100), dpi=100)
        ax = fig.add_subplot(projection="3d")
        p = clip.positions[t]
        for a, b in bones:
            ax.plot(p[[a, b], 0], p[[a, b], 2], p[[a, b], 1], color="C0", lw=2)
        fig.canvas.draw()
        np.asarray(fig.canvas.buffer_rgba())
        plt.close(fig)


def naive_open3d(clip, frames: int) -> None:
    import open3d as o3d

    from motion3d.render import open3d_scene as o3s

    with o3s.HeadlessRenderer(W, H) as r:
        bones = clip.bones()
        radius = 0.015 * float(np.ptp(clip.positions[..., 1]))
        for t in range(frames):
            r.vis.clear_geometries()
            p = clip.positions[t]
            for a, b in bones:
                d = p[b] - p[a]
                length = float(np.linalg.norm(d))
                cyl = o3d.geometry.TriangleMesh.create_cylinder(radius, max(length, 1e-6), 10, 1)
                R = o3s.align_y((d / max(length, 1e-9))[None])[0]
                # create_cylinder is along +Z, centred: turn Z to Y, then onto the bone
                to_y = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])
                cyl.rotate(R @ to_y, center=(0, 0, 0))
                cyl.translate(0.5 * (p[a] + p[b]))
                cyl.compute_vertex_normals()
                r.add(cyl, reset_bounding_box=(t == 0))
            for j in clip.drawn_joints():
                s = o3d.geometry.TriangleMesh.create_sphere(1.6 * radius, 6)
                s.translate(p[j])
                s.compute_vertex_normals()
                r.add(s, reset_bounding_box=(t == 0))
            centre = np.median(p, 0)
            r.look_at(centre + np.array([1.5, 0.8, 2.5]) * np.ptp(clip.positions[..., 1]), centre)
            r.render()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--data", default=None)
    ap.add_argument("--repeat", type=int, default=3, help="runs per fast path; the best is kept")
    ap.add_argument("--out", default=None, help="keep the videos here (default: a temporary folder)")
    args = ap.parse_args(argv)
    global REPEAT
    REPEAT = max(1, args.repeat)
    root = Path(args.data) if args.data else data_root()
    path = sorted((root / "mocap" / "bandai-namco-1" / "data").glob("*walk*.bvh"))[0]
    clip = from_motion(bvh.load(path))
    n = min(args.frames, clip.num_frames)
    clip.positions = clip.positions[:n]
    clip._bones = None
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_render_"))
    out.mkdir(parents=True, exist_ok=True)
    import os

    print(f"clip {path.name}: {clip.positions.shape[1]} joints, {n} frames, {W}x{H}; "
          f"torch threads {torch.get_num_threads()}; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} (other work on the machine slows every row)")
    res = {}

    def row(name, frames, seconds, base=None):
        fps = frames / seconds
        res[name] = fps
        ratio = f"  ({fps / res[base]:.1f}x {base})" if base else ""
        print(f"  {name:<44s} {fps:9.1f} frames/s{ratio}")

    # --- matplotlib
    nb = max(5, n // 6)
    row("naive matplotlib (new 3D figure per frame)", nb, timed(lambda: naive_matplotlib(clip, nb), 1))
    fig = SkeletonFigure(clip, (W, H))
    row("matplotlib persistent figure, draw", n, timed(lambda: [fig.draw([t]) for t in range(n)]),
        "naive matplotlib (new 3D figure per frame)")
    row("matplotlib draw + H.264 encode (MP4)", n,
        timed(lambda: save_video(clip, out / "matplotlib.mp4", panel_size=(W, H))),
        "naive matplotlib (new 3D figure per frame)")

    # --- Open3D
    try:
        from motion3d.render.open3d_clips import ClipScene, render_video

        naive_open3d(clip, 2)  # warm the EGL context and shader compilation
        row("naive Open3D (new meshes per frame)", nb, timed(lambda: naive_open3d(clip, nb), 1))
        scene = ClipScene([clip])
        render_video(scene, out / "warm.mp4", size=(W, H))
        row("Open3D offscreen render + H.264 encode", n,
            timed(lambda: render_video(scene, out / "open3d.mp4", size=(W, H))),
            "naive Open3D (new meshes per frame)")
    except ImportError as err:
        print(f"  Open3D skipped: {err}")

    # --- numpy rasteriser (TensorBoard path)
    from motion3d.render.skeleton_video import camera_targets, scene_camera
    from motion3d.render.clip import Framing

    fr = Framing.of([clip])
    tg = camera_targets(clip, fr, True)
    row("numpy rasteriser (all frames at once)", n,
        timed(lambda: raster.draw_skeletons(clip.positions, clip.bones(), (W, H), scene_camera(fr), tg,
                                            fr.floor, fr.grid_step, sides=clip.sides())),
        "naive matplotlib (new 3D figure per frame)")

    # --- differentiable capsules
    from motion3d.render.diff import Camera, render_capsules

    joints = torch.tensor(clip.positions[:8], dtype=torch.float32)
    bones = torch.as_tensor(clip.bones())
    h = float(np.ptp(clip.positions[..., 1]))
    centre = torch.tensor(np.median(clip.positions[0], 0), dtype=torch.float32)
    cam = Camera.look_at(centre + torch.tensor([0.0, 0.2, 3.0]) * h, centre, size=(W, H))
    k = joints.shape[0]
    base = "diff capsules dense (every pixel x bone), fwd"
    row(base, k, timed(lambda: render_capsules(joints, bones, cam, 0.03 * h, cull=False), 1))
    row("diff capsules, forward", k, timed(lambda: render_capsules(joints, bones, cam, 0.03 * h)), base)
    jg = joints.clone().requires_grad_(True)
    jd = joints.clone().requires_grad_(True)
    row("diff capsules dense, forward + backward", k,
        timed(lambda: render_capsules(jd, bones, cam, 0.03 * h, cull=False).silhouette.sum().backward(), 1))
    row("diff capsules, forward + backward", k,
        timed(lambda: render_capsules(jg, bones, cam, 0.03 * h).silhouette.sum().backward()),
        "diff capsules dense, forward + backward")
    print(f"videos in {out}")
    target = res.get("Open3D offscreen render + H.264 encode")
    if target is not None:
        print(f"target Open3D offscreen >= 60 frames/s end to end: {'met' if target >= 60 else 'NOT met'} "
              f"({target:.1f})")
    return res


if __name__ == "__main__":
    main()
