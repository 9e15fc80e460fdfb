#!/usr/bin/env python
"""Recover a perturbed pose from silhouettes with the differentiable renderer.

Takes one frame of a clip, renders its skeleton (capsules) from several cameras as the target,
perturbs the chosen joints' rotations, then fits them back by gradient descent through forward
kinematics and the soft rasteriser. Prints the silhouette IoU and the joint position error before and
after, and writes a PNG: rows = views; columns = target, start, fitted.

    python tools/fit_silhouette.py CLIP.bvh [--frame 40] [--joints 7 8 11 12] [--noise-deg 30]
                                   [--iters 150] [--size 96] [-o fit.png] [--force]

-o is checked before any work (a .png; never the input; an existing file only with --force), and
the results are printed before the image is written, so a failing write loses nothing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from motion3d.geometry.kinematics import forward_kinematics  # noqa: E402
from motion3d.geometry.rotations import axis_angle_to_quat, quat_mul  # noqa: E402
from motion3d.io import FormatError, bvh  # noqa: E402
from motion3d.outputs import OutputError, check_output, exit_on_sigterm  # noqa: E402
from motion3d.render.encode import write_png  # noqa: E402
from motion3d.render.fit import bones_of, fit_pose, orbit_cameras, render_views  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="a .bvh clip")
    ap.add_argument("--frame", type=int, default=0)
    ap.add_argument("--joints", type=int, nargs="*", default=None,
                    help="joints to perturb and fit (default: the shoulders/elbows/hips/knees found by name)")
    ap.add_argument("--noise-deg", type=float, default=30.0, help="perturbation angle per joint")
    ap.add_argument("--iters", type=int, default=150)
    ap.add_argument("--lr", type=float, default=0.05, help="Adam step size")
    ap.add_argument("--size", type=int, default=96, help="silhouette size in pixels")
    ap.add_argument("--views", type=float, nargs="*", default=[0.0, 90.0], help="camera azimuths (degrees)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", default="fit_silhouette.png")
    ap.add_argument("--force", action="store_true", help="replace an existing output image")
    args = ap.parse_args(argv)
    try:
        check_output(args.out, inputs=[args.file], force=args.force, suffixes=(".png",), what="-o")
    except OutputError as e:
        ap.error(str(e))

    torch.manual_seed(args.seed)
    try:
        m = bvh.load(args.file)
    except FormatError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    sk = m.skeleton
    frame = int(np.clip(args.frame, 0, m.num_frames - 1))
    offsets = torch.tensor(m.local_offsets()[frame] if m.translations is not None else sk.offsets, dtype=torch.float32)
    parents = [int(p) for p in sk.parents]
    q_true = torch.tensor(m.rotations[frame:frame + 1], dtype=torch.float32)
    root = torch.tensor(m.root_positions[frame:frame + 1], dtype=torch.float32)
    joints = args.joints
    if joints is None:
        words = ("upperarm", "lowerarm", "arm", "forearm", "upleg", "upperleg", "lowerleg", "leg", "shoulder", "elbow",
                 "hip", "knee")
        joints = [j for j, n in enumerate(sk.names)
                  if any(w in n.lower() for w in words) and n.lower() not in ("hips", "hip") and j != 0][:8]
    _, pos_true = forward_kinematics(q_true, offsets, parents, root)
    height = float(pos_true[0, :, 1].max() - pos_true[0, :, 1].min())
    # capsules for real bones only (Bandai's joint_Root -> Hips link is a translation, not a bone)
    bones = bones_of(parents)
    length = (pos_true[0, bones[:, 1]] - pos_true[0, bones[:, 0]]).norm(dim=-1)
    bones = bones[length < 0.45 * height]
    centre = pos_true[0].mean(0)
    cams = orbit_cameras(centre, 2.6 * height, (args.size, args.size), args.views)
    radius = 0.035 * height
    target = render_views(q_true, offsets, parents, root, cams, radius, bones=bones).detach()

    noise = torch.zeros(1, len(parents), 3)
    axis = torch.nn.functional.normalize(torch.randn(len(joints), 3), dim=-1)
    noise[0, joints] = axis * np.deg2rad(args.noise_deg)
    q_start = quat_mul(q_true, axis_angle_to_quat(noise))

    def report(q):
        _, pos = forward_kinematics(q, offsets, parents, root)
        sil = render_views(q, offsets, parents, root, cams, radius, bones=bones).detach()
        a, b = sil > 0.5, target > 0.5
        iou = float((a & b).sum() / (a | b).sum())
        err = float((pos - pos_true).norm(dim=-1).mean())
        return sil, iou, err

    sil0, iou0, err0 = report(q_start)
    res = fit_pose(target, q_start, offsets, parents, root, cams, radius, iters=args.iters, joints=joints,
                   bones=bones, lr=args.lr)
    sil1, iou1, err1 = report(res.rotations)
    rows = [torch.cat([target[v, 0], sil0[v, 0], sil1[v, 0]], 1) for v in range(len(cams))]
    img = (torch.cat(rows, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
    # the results first: they are the point of the run, and must survive a failing write
    print(f"{Path(args.file).name} frame {frame}: fitted joints {[sk.names[j] for j in joints]}")
    print(f"  silhouette IoU {iou0:.3f} -> {iou1:.3f}; mean joint error {err0:.3f} -> {err1:.3f} "
          f"(height {height:.1f}); loss {res.losses[0]:.3f} -> {res.losses[-1]:.3f}", flush=True)
    try:
        write_png(args.out, np.repeat(img[..., None], 3, -1))
    except OSError as e:
        print(f"error: cannot write {args.out}: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"wrote {args.out} (rows: views; columns: target, start, fitted)")
    return {"iou": (iou0, iou1), "error": (err0, err1), "out": args.out}


if __name__ == "__main__":
    exit_on_sigterm()
    main()
