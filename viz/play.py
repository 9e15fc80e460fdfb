#!/usr/bin/env python
"""Play motion files in an Open3D window, or render the same scene headless to a video.

    python viz/play.py CLIP.bvh [CLIP2.bvh ...] [--overlay] [--model-dir DIR]
    python viz/play.py a.bvh b.bvh --offscreen out.mp4 [--fps F] [--size 640x480] [--force]

Bones are shaded cylinders and joints spheres, one colour per clip, side by side (or --overlay),
over a floor grid. Any frame rate plays in real time. Keys: space play/pause, right/left step,
up/down speed, 0 speed 1, L loop, F follow, R reset camera, Home restart, Q/Esc quit.
Without a display (Linux with neither DISPLAY nor WAYLAND_DISPLAY set) it stops at once with exit
status 2 and says to use --offscreen.
AMASS .npz files play as skinned SMPL-H meshes with --model-dir (or $MOTION3D_BODY_MODELS).
--offscreen OUT is checked before any work (never an input; an existing file only with --force) and
written under a temporary name, renamed when complete.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.outputs import OutputError, check_output, run_tool  # noqa: E402
from motion3d.render import sources  # noqa: E402
from motion3d.render.encode import VIDEO_SUFFIXES  # noqa: E402
from motion3d.render.player import missing_display  # noqa: E402
from motion3d.render.sources import parse_size  # noqa: E402


def main(argv: list[str] | None = None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="motion files (.bvh .amc .npz .npy)")
    ap.add_argument("--overlay", action="store_true", help="overlay the clips instead of side by side")
    ap.add_argument("--offscreen", metavar="OUT", default=None, help="render headless to OUT (.mp4/.gif)")
    ap.add_argument("--fps", type=float, default=None, help="offscreen output rate (default: highest input rate)")
    ap.add_argument("--size", type=parse_size, default=None, help="WxH (window 1280x720, offscreen 640x480)")
    ap.add_argument("--no-follow", action="store_true", help="offscreen: fixed camera")
    ap.add_argument("--model-dir", default=None, help="SMPL-H body models for AMASS .npz files")
    ap.add_argument("--force", action="store_true", help="--offscreen: replace an existing output")
    args = ap.parse_args(argv)
    if not args.offscreen:  # checked first: without a display the window loop would wait forever
        problem = missing_display()
        if problem:
            ap.error(problem)
    if args.offscreen:
        try:
            check_output(args.offscreen, inputs=args.files, force=args.force, suffixes=VIDEO_SUFFIXES,
                         what="--offscreen")
        except OutputError as e:
            ap.error(str(e))

    from motion3d.render.open3d_clips import ClipScene

    items = sources.load_items(args.files, args.model_dir, mesh=True)
    scene = ClipScene(items, layout="overlay" if args.overlay else "side")
    if args.offscreen:
        from motion3d.render.open3d_clips import render_video

        info = render_video(scene, args.offscreen, fps=args.fps, size=args.size or (640, 480),
                            follow=not args.no_follow)
        w, h = info["size"]
        print(f"wrote {info['path']}: {info['frames']} frames, {w}x{h}, {info['fps']:g} fps")
        return info
    from motion3d.render.player import Player

    w, h = args.size or (1280, 720)
    Player(scene, w, h, title=" | ".join(Path(f).name for f in args.files)).run()
    return None


if __name__ == "__main__":
    from motion3d.io import FormatError
    from motion3d.render.smpl_mesh import SMPLModelMissing

    run_tool(main, (FormatError, SMPLModelMissing))
