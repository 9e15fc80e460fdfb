#!/usr/bin/env python
"""Render motion files to a video: skeletons side by side with their names, floor grid, a camera that
follows each root, at any input frame rate.

    python viz/render.py FILE... -o out.mp4 [--fps F] [--size 480x480] [--no-follow]
    python viz/render.py a.bvh b.bvh -o cmp.gif --start 1 --duration 3
    python viz/render.py a.bvh -o out.mp4 --backend open3d        # shaded bones (Open3D, headless)

FILE: .bvh, .amc (ASF beside it), .npz (AMASS: its SMPL-H joints; needs --model-dir), .npy
(HumanML3D (T, 22, 3) joints). .mp4 is H.264 (yuv420p); .gif works too.
OUT is checked before any work: never one of the FILEs; an existing OUT only with --force. The
video is written to a temporary file beside OUT and renamed when complete: a render that is
interrupted (Ctrl-C, SIGTERM) leaves nothing at OUT.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.outputs import OutputError, check_output, run_tool  # noqa: E402
from motion3d.render import sources  # noqa: E402
from motion3d.render.encode import VIDEO_SUFFIXES  # noqa: E402
from motion3d.render.sources import parse_size  # noqa: E402
from motion3d.render.clip import Clip  # noqa: E402


def trim(item, start: float, duration: float | None):
    """Cut a clip to [start, start + duration) seconds."""
    a = int(round(start * item.fps))
    b = None if duration is None else a + max(1, int(round(duration * item.fps)))
    if isinstance(item, Clip):
        return Clip(item.positions[a:b], item.parents, item.fps, item.name, item.names)
    joints = None if item.joints is None else item.joints[a:b]
    return type(item)(item.vertices[a:b], item.faces, item.fps, item.name, joints)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="motion files (.bvh .amc .npz .npy)")
    ap.add_argument("-o", "--out", required=True, help="output .mp4 or .gif")
    ap.add_argument("--fps", type=float, default=None, help="output frame rate (default: highest input rate)")
    ap.add_argument("--size", type=parse_size, default=None,
                    help="panel size WxH for matplotlib (default 480x480), frame size for open3d (640x480)")
    ap.add_argument("--no-follow", action="store_true", help="fixed camera instead of following the root")
    ap.add_argument("--names", nargs="*", default=None, help="labels instead of the file names")
    ap.add_argument("--start", type=float, default=0.0, help="start time in seconds")
    ap.add_argument("--duration", type=float, default=None, help="length in seconds")
    ap.add_argument("--backend", choices=("matplotlib", "open3d"), default="matplotlib")
    ap.add_argument("--model-dir", default=None, help="SMPL-H body models for AMASS .npz files")
    ap.add_argument("--force", action="store_true", help="replace an existing output (never an input)")
    args = ap.parse_args(argv)
    try:
        check_output(args.out, inputs=args.files, force=args.force, suffixes=VIDEO_SUFFIXES, what="-o")
    except OutputError as e:
        ap.error(str(e))

    items = sources.load_items(args.files, args.model_dir, mesh=args.backend == "open3d")
    items = [trim(it, args.start, args.duration) for it in items]
    if any(it.num_frames == 0 for it in items):
        ap.error("--start is past the end of a clip")
    for k, it in enumerate(items):
        if args.names and k < len(args.names):
            it.name = args.names[k]
    if args.backend == "open3d":
        from motion3d.render.open3d_clips import render_video

        info = render_video(items, args.out, fps=args.fps, size=args.size or (640, 480),
                            follow=not args.no_follow)
    else:
        from motion3d.render.skeleton_video import save_video

        clips = [sources.as_skeleton(it) for it in items]
        info = save_video(clips, args.out, fps=args.fps, panel_size=args.size or (480, 480),
                          follow=not args.no_follow)
    w, h = info["size"]
    print(f"wrote {info['path']}: {info['frames']} frames, {w}x{h}, {info['fps']:g} fps")
    return info


if __name__ == "__main__":
    from motion3d.io import FormatError
    from motion3d.render.smpl_mesh import SMPLModelMissing

    run_tool(main, (FormatError, SMPLModelMissing))
