"""Edit a clip with a motion diffusion checkpoint ('diffuse'): fill a gap, extend it, follow another
clip's root path, or follow a few of another clip's joints; BVH on the clip's skeleton.

    python tools/edit_motion.py CLIP.bvh --ckpt DIFF.ckpt --fill 30:60 -o filled.bvh [--video filled.mp4]
        [--html filled.html]
    python tools/edit_motion.py CLIP.bvh --ckpt DIFF.ckpt --extend 60 -o longer.bvh
    python tools/edit_motion.py CLIP.bvh --ckpt DIFF.ckpt --root-from OTHER.bvh -o along.bvh
    python tools/edit_motion.py CLIP.bvh --ckpt DIFF.ckpt --joints-from OTHER.bvh --joints head,hands,feet -o tracked.bvh

Frame numbers are the clip's. A clip on another skeleton than the checkpoint's is retargeted onto
it first and back afterwards (analytic retargeting, said on the terminal). Known frames and channels
(the frames around a gap, the prefix of an extension, the root path) are kept exactly; joint
positions are followed through forward kinematics (reconstruction guidance). --root-from and
--joints-from generate a motion of OTHER's length, placed where OTHER starts (CLIP gives the
skeleton); --root-from then holds the feet the result calls planted still (--plant-steps). --mean-of K
makes each generated window the mean of K samples. --video renders the input and the result side by
side; --html writes them (with OTHER between them for --root-from / --joints-from) as one
self-contained page that plays offline in a browser. Outputs are checked before any work and written atomically; --force replaces them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.io import FormatError, bvh  # noqa: E402
from motion3d.io.registry import load_motion  # noqa: E402
from motion3d.motion import Motion  # noqa: E402
from motion3d.outputs import OutputError, atomic_output, exit_on_sigterm  # noqa: E402
from motion3d.render.html_page import html_writer  # noqa: E402
from motion3d.render.clip import from_motion  # noqa: E402
from motion3d.render.encode import check_clip_outputs  # noqa: E402
from motion3d.render.skeleton_video import save_video  # noqa: E402
from motion3d.retarget import retarget  # noqa: E402
from motion3d.tasks.checkpoint import CheckpointError  # noqa: E402
from motion3d.tasks.context import SKELETON_TOLERANCE  # noqa: E402
from motion3d.tasks.diffuse import PLANT_STEPS  # noqa: E402
from motion3d.tasks.edit_clips import MotionEditor  # noqa: E402


def _span(text: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--fill takes START:END frame numbers, got {text!r}") from None
    return a, b


def _onto(editor: MotionEditor, clip: Motion, path: str) -> tuple[Motion, bool]:
    """``clip`` on the checkpoint's skeleton and fps, and whether it had to be retargeted."""
    moved = editor.ctx.skeleton.describe_difference(clip.skeleton, atol=SKELETON_TOLERANCE) is not None
    if moved:
        print(f"{path} is on another skeleton ({clip.skeleton.num_joints} joints) than the checkpoint's "
              f"({editor.ctx.skeleton.num_joints}): retargeting it onto the checkpoint's skeleton, and the result back")
    return editor.ctx.conform(clip, path, "input", allow_retarget=True), moved


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("clip", help="the clip to edit (BVH, or any motion format motion3d reads)")
    p.add_argument("--ckpt", required=True, help="a 'diffuse' checkpoint (configs/motion/diffusion.yaml)")
    edit = p.add_mutually_exclusive_group(required=True)
    edit.add_argument("--fill", type=_span, metavar="START:END", help="regenerate frames START..END-1")
    edit.add_argument("--extend", type=int, metavar="N", help="add N generated frames after the clip")
    edit.add_argument("--root-from", metavar="OTHER", help="a new motion along OTHER's root path")
    edit.add_argument("--joints-from", metavar="OTHER", help="a new motion whose --joints follow OTHER's")
    p.add_argument("--joints", default="head,hands,feet",
                   help="with --joints-from: joint names or the groups head, hands, feet, hips (comma-separated)")
    p.add_argument("-o", "--out", required=True, help="output BVH")
    p.add_argument("--video", help="also render the input and the result side by side (.mp4 or .gif)")
    p.add_argument("--html", metavar="OUT.html",
                   help="also write the input and the result (and OTHER) as one offline HTML page")
    p.add_argument("--label", help="content=NAME,style=NAME for the generated part (default: unconditional)")
    p.add_argument("--steps", type=int, help="denoising steps (default: the checkpoint's)")
    p.add_argument("--guidance", type=float, help="classifier-free guidance weight (default: the checkpoint's)")
    p.add_argument("--mean-of", type=int, default=1, metavar="K",
                   help="each generated window the mean of K samples: the likeliest answer rather than one of many "
                        "(in-betweening, trackers; smoother than a single sample)")
    p.add_argument("--plant-steps", type=int, metavar="N",
                   help="refinement steps that hold still the feet the result calls planted (default: "
                        f"{PLANT_STEPS} with --root-from, else 0; not with --joints-from)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--force", action="store_true", help="replace existing outputs (never an input)")
    args = p.parse_args(argv)
    other = args.root_from or args.joints_from
    inputs = (args.clip, args.ckpt, other)
    try:
        check_clip_outputs(args.out, args.video, inputs=inputs, force=args.force)
        web = html_writer(args.html, inputs, args.force) if args.html else None
    except OutputError as e:
        p.error(str(e))
    try:
        editor = MotionEditor.load(args.ckpt, args.device)
        labels = {}
        for part in filter(None, (s.strip() for s in (args.label or "").split(","))):
            kind, _, name = part.partition("=")
            if kind not in ("content", "style") or name not in editor.ctx.label_names.get(kind, []):
                raise ValueError(f"--label {part!r}: known content labels {editor.ctx.label_names['content']}, "
                                 f"style labels {editor.ctx.label_names['style']}")
            labels[kind] = name
        if args.mean_of < 1:
            raise ValueError(f"--mean-of takes a positive number of samples, got {args.mean_of}")
        plant = (PLANT_STEPS if args.root_from else 0) if args.plant_steps is None else args.plant_steps
        if plant < 0 or (plant and args.joints_from):
            raise ValueError("--plant-steps takes a number of steps >= 0, and does not combine with --joints-from")
        options = {"steps": args.steps, "guidance": args.guidance, "seed": args.seed, "labels": labels or None,
                   "samples": args.mean_of, "plant": plant}
        clip = load_motion(args.clip)
        other_clip = None
        m, moved = _onto(editor, clip, args.clip)
        scale = editor.ctx.fps / clip.fps  # the clip's frame numbers -> the checkpoint's
        if args.fill:
            a, b = args.fill
            if not 0 < a < b <= clip.num_frames:
                raise ValueError(f"--fill {a}:{b}: the gap must lie inside the clip's {clip.num_frames} frames, "
                                 "after its first frame")
            out = editor.fill(m, max(1, round(a * scale)), min(m.num_frames, max(round(b * scale), round(a * scale) + 1)),
                              **options)
        elif args.extend is not None:
            out = editor.extend(m, max(1, round(args.extend * scale)), **options)
        else:
            other_clip = load_motion(other)
            o, moved_other = _onto(editor, other_clip, other)
            moved = moved or moved_other
            out = (editor.root_from(o, **options) if args.root_from else
                   editor.joints_from(o, [j.strip() for j in args.joints.split(",") if j.strip()], **options))
        if moved:
            out = retarget(out, clip.skeleton)
        out = out.resample(clip.fps)
        want = {"fill": clip.num_frames, "extend": clip.num_frames + (args.extend or 0)}.get(
            "fill" if args.fill else "extend" if args.extend is not None else "", out.num_frames)
        if out.num_frames != want:  # a rate change there and back can round off the last frames
            out = out[np.minimum(np.arange(want), out.num_frames - 1)]
    except (CheckpointError, FormatError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    out.name = f"{Path(args.clip).stem}_edited"
    with atomic_output(args.out) as tmp:
        bvh.save(out, tmp)
    print(f"wrote {args.out} ({out.num_frames} frames at {out.fps:g} fps)")
    result = {"bvh": str(args.out), "frames": out.num_frames, "video": None, "html": None}
    if args.video:
        result["video"] = save_video([clip, out], args.video, panel_size=(320, 320))["path"]
        print(f"video: {result['video']} (input | result)")
    if web is not None:
        clips = [from_motion(clip, f"input: {Path(args.clip).name}")]
        if other_clip is not None:
            how = "root path from" if args.root_from else "joints from"
            clips.append(from_motion(other_clip, f"{how}: {Path(other).name}"))
        clips.append(from_motion(out, f"result: {Path(args.out).name}"))
        result["html"] = web.export_html(clips, args.html)["path"]
        print(f"page: {result['html']} ({' | '.join(c.name for c in clips)})")
    return result


if __name__ == "__main__":
    exit_on_sigterm()
    main()
