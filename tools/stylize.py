"""Perform a content clip in another style with a 'stylize' checkpoint; BVH on the content's skeleton.

    python tools/stylize.py CONTENT.bvh --style-label angry --ckpt runs/style/.../last.ckpt -o out.bvh
    python tools/stylize.py CONTENT.bvh --style STYLE.bvh --ckpt X -o out.bvh --video out.mp4 --html out.html

A style clip on another skeleton is retargeted onto the checkpoint's first (motion3d.retarget).
Clips of any length: overlapping windows of the training length, cross-faded in feature space.
--plant-feet keeps the ankles still (leg IK) where the content's feet are planted.
The video shows content | style | output (content | output with --style-label); --html writes the
same clips as one self-contained page that plays offline in a browser.
Outputs are checked before any work: never onto an input; an existing file only with --force; each
is written to a temporary file beside it and renamed when complete.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.io.registry import load_motion  # noqa: E402
from motion3d.outputs import OutputError, atomic_output, exit_on_sigterm  # noqa: E402
from motion3d.render.html_page import html_writer  # noqa: E402
from motion3d.render.clip import from_motion  # noqa: E402
from motion3d.render.encode import check_clip_outputs  # noqa: E402
from motion3d.tasks.stylize_clips import Stylizer  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("content", help="content clip (BVH, or any format motion3d reads) on the checkpoint's skeleton")
    style = p.add_mutually_exclusive_group(required=True)
    style.add_argument("--style", help="style example clip (any skeleton motion3d.retarget can map)")
    style.add_argument("--style-label", help="a style label the checkpoint was trained with")
    p.add_argument("--ckpt", required=True, help="a 'stylize' checkpoint (configs/style/*.yaml)")
    p.add_argument("-o", "--out", required=True, help="output BVH")
    p.add_argument("--video", help="also render content | style | output to this MP4 (or GIF)")
    p.add_argument("--html", metavar="OUT.html",
                   help="also write content | style | output as one offline HTML page")
    p.add_argument("--overlap", type=int, help="frames shared by consecutive windows (default: half a window)")
    p.add_argument("--plant-feet", action="store_true",
                   help="IK clean-up: keep the ankles still where the content's feet are planted")
    p.add_argument("--strength", type=float, default=1.0,
                   help="style strength in [0, 1]: 0 keeps the content's own style, 1 the requested one")
    p.add_argument("--device", default="cpu")
    p.add_argument("--force", action="store_true", help="replace existing output files (never an input)")
    args = p.parse_args(argv)
    inputs = (args.content, args.style, args.ckpt)
    try:
        check_clip_outputs(args.out, args.video, inputs=inputs, force=args.force)
        web = html_writer(args.html, inputs, args.force) if args.html else None
    except OutputError as e:
        p.error(str(e))

    from motion3d.io import bvh

    try:
        st = Stylizer.load(args.ckpt, args.device)
        content = load_motion(args.content)
        if args.style_label is not None:
            code, style_clip = st.code_from_label(args.style_label), None
        else:
            style_clip = load_motion(args.style)
            code = st.code_from_clip(style_clip, args.style)
        out = st.stylize(content, code, args.content, args.overlap, plant_feet=args.plant_feet,
                         strength=args.strength)
    except (ValueError, RuntimeError, FileNotFoundError) as e:
        p.error(str(e))
    out.name = f"{Path(args.content).stem}_{args.style_label or Path(args.style).stem}"
    path = Path(args.out)
    with atomic_output(path) as tmp:
        bvh.save(out, tmp)
    print(f"wrote {path} ({out.num_frames} frames at {out.fps:g} fps)")
    result = {"bvh": str(path), "frames": out.num_frames, "video": None, "html": None}
    if args.video:
        from motion3d.render.skeleton_video import save_video

        clips = [content] + ([style_clip] if style_clip is not None else []) + [out]
        result["video"] = save_video(clips, args.video, panel_size=(320, 320))["path"]
        print(f"video: {result['video']} ({' | '.join(['content'] + (['style'] if style_clip else []) + ['output'])})")
    if web is not None:
        clips = [from_motion(content, f"content: {Path(args.content).name}")]
        if style_clip is not None:
            clips.append(from_motion(style_clip, f"style: {Path(args.style).name}"))
        tag = f" (style {args.style_label})" if args.style_label is not None else ""
        clips.append(from_motion(out, f"output: {path.name}{tag}"))
        result["html"] = web.export_html(clips, args.html)["path"]
        print(f"page: {result['html']} ({' | '.join(c.name for c in clips)})")
    return result


if __name__ == "__main__":
    exit_on_sigterm()
    main()
