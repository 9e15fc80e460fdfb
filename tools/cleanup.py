"""Clean up a motion-capture clip: a 'cleanup' checkpoint, or a classical filter; BVH out.

    python tools/cleanup.py RAW.bvh --ckpt CLEANUP.ckpt -o clean.bvh [--report]
    python tools/cleanup.py RAW.bvh --filter butterworth|savgol|median -o smooth.bvh
    python tools/cleanup.py GAPS.npz --ckpt X -o clean.bvh [--skeleton REF.bvh]   # NaN = missing
    python tools/cleanup.py RAW.bvh --ckpt X --missing 10:20,40 -o clean.bvh      # frames 10..19 and 40 lost

An .npz input holds ``rotations (T, J, 4)`` quaternions (xyzw, local) and ``root_positions (T, 3)``,
NaN where data is missing, and ``fps``; its skeleton is --skeleton's BVH, else the checkpoint's.
Other inputs are any motion file motion3d reads. Clips of any length (at least the model's window) are
cleaned window by window with cross-fades. A clip on another skeleton than the checkpoint's is
retargeted onto it and the result back (said on the terminal). --report prints the frames repaired,
the largest correction and the foot skate before and after. The input is never overwritten; an
existing output needs --force; outputs are written atomically.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.evaluate.data import length_unit  # noqa: E402
from motion3d.io import FormatError, bvh  # noqa: E402
from motion3d.io.registry import load_motion  # noqa: E402
from motion3d.motion import Motion  # noqa: E402
from motion3d.ops.filters import FILTERS  # noqa: E402
from motion3d.outputs import OutputError, atomic_output, check_output, exit_on_sigterm  # noqa: E402
from motion3d.retarget import retarget  # noqa: E402
from motion3d.skeleton import Skeleton  # noqa: E402
from motion3d.tasks.checkpoint import CheckpointError  # noqa: E402
from motion3d.tasks.cleanup_clips import Cleaner, cleanup_report, fill_motion, filter_clip, missing_from_nan  # noqa: E402
from motion3d.tasks.context import SKELETON_TOLERANCE, ContextMismatch  # noqa: E402

NPZ_ARRAYS = ("rotations", "root_positions")


def parse_missing(text: str, frames: int) -> np.ndarray:
    """``"10:20,40"`` -> ``(frames,)`` bool, True on frames 10..19 and 40."""
    out = np.zeros(frames, dtype=bool)
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            if ":" in part:
                a, b = (int(v) for v in part.split(":"))
            else:
                a = int(part)
                b = a + 1
        except ValueError:
            raise ValueError(f"--missing takes frames and START:END spans separated by commas, got {part!r}") from None
        if not 0 <= a < b <= frames:
            raise ValueError(f"--missing {part}: outside the clip's {frames} frames")
        out[a:b] = True
    return out


def load_npz(path: str, skeleton: Skeleton | None) -> tuple[Motion, np.ndarray]:
    """``(motion with gaps filled by nothing yet, missing (T, J + 1))`` from a cleanup npz."""
    if skeleton is None:
        raise FormatError(path, "an .npz clip needs a skeleton: pass --skeleton REF.bvh or --ckpt")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise FormatError(path, f"not a readable .npz: {e}") from None
    with data:
        lacking = [k for k in NPZ_ARRAYS if k not in data.files]
        if lacking:
            raise FormatError(path, f"missing array(s) {lacking}; a clip to clean holds rotations (T, J, 4), "
                                    f"root_positions (T, 3) and fps (found: {sorted(data.files)})")
        rot = np.asarray(data["rotations"], dtype=np.float64)
        root = np.asarray(data["root_positions"], dtype=np.float64)
        fps = float(data["fps"]) if "fps" in data.files else None
    J = skeleton.num_joints
    if rot.ndim != 3 or rot.shape[1:] != (J, 4) or root.shape != (rot.shape[0], 3):
        raise FormatError(path, f"rotations must be (T, {J}, 4) for the {J}-joint skeleton and root_positions "
                                f"(T, 3); got {rot.shape} and {root.shape}")
    if fps is None or not fps > 0:
        raise FormatError(path, "the .npz has no positive 'fps'")
    missing = missing_from_nan(rot, root)
    rot = np.where(missing[:, :J, None], np.array([0.0, 0.0, 0.0, 1.0]), rot)
    return Motion(skeleton, rot, np.nan_to_num(root), fps, name=Path(path).stem), missing


def _resample_missing(missing: np.ndarray, frames: int) -> np.ndarray:
    """``missing (T, K)`` at another frame count (nearest frame)."""
    idx = np.minimum(np.round(np.arange(frames) * (missing.shape[0] - 1) / max(frames - 1, 1)).astype(int),
                     missing.shape[0] - 1)
    return missing[idx]


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("clip", help="the clip to clean (BVH, any motion format motion3d reads, or a cleanup .npz)")
    p.add_argument("-o", "--out", required=True, help="output BVH")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--ckpt", help="a 'cleanup' checkpoint (configs/motion/cleanup.yaml)")
    how.add_argument("--filter", choices=list(FILTERS), help="a classical filter instead of a model")
    p.add_argument("--missing", help="frames lost in capture: START:END spans and frames, comma-separated")
    p.add_argument("--skeleton", help="a BVH whose skeleton an .npz clip is on (default: the checkpoint's)")
    p.add_argument("--report", action="store_true", help="print what the clean-up changed")
    p.add_argument("--device", default="cpu")
    p.add_argument("--force", action="store_true", help="replace an existing output (never an input)")
    args = p.parse_args(argv)
    try:
        check_output(args.out, inputs=(args.clip, args.ckpt, args.skeleton), force=args.force)
    except OutputError as e:
        p.error(str(e))
    try:
        cleaner = Cleaner.load(args.ckpt, args.device) if args.ckpt else None
        if args.clip.lower().endswith(".npz") and not _is_amass(args.clip):
            sk = (bvh.load(args.skeleton).skeleton if args.skeleton else
                  cleaner.ctx.skeleton if cleaner is not None else None)
            clip, missing = load_npz(args.clip, sk)
        else:
            clip = load_motion(args.clip)
            missing = np.zeros((clip.num_frames, clip.num_joints + 1), dtype=bool)
        if args.missing:
            missing |= parse_missing(args.missing, clip.num_frames)[:, None]
        if cleaner is None:
            out = filter_clip(clip, args.filter, missing)
            what = f"{args.filter} filter"
        else:
            out = _clean_with_model(cleaner, clip, missing, args.clip)
            what = f"model {args.ckpt}"
    except (CheckpointError, ContextMismatch, FormatError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    out.name = f"{Path(args.clip).stem}_clean"
    with atomic_output(args.out) as tmp:
        bvh.save(out, tmp)
    print(f"wrote {args.out} ({out.num_frames} frames at {out.fps:g} fps; {what})")
    result = {"bvh": str(args.out), "frames": out.num_frames}
    if args.report:
        before = fill_motion(clip, missing)
        rep = cleanup_report(before, out, missing)
        scale, unit = length_unit(clip.skeleton)
        print(f"frames repaired: {rep['repaired_frames']} of {rep['frames']} ({rep['gap_frames']} with missing data)")
        print(f"largest correction: {rep['largest'] * scale:.1f} {unit} ({rep['joint']}, frame {rep['frame']})")
        print(f"foot skate: {rep['skate_before']:.3f} -> {rep['skate_after']:.3f} body heights/s")
        result["report"] = rep
    return result


def _is_amass(path: str) -> bool:
    try:
        with np.load(path, allow_pickle=False) as data:
            return "poses" in data.files and "trans" in data.files
    except (OSError, ValueError):
        return False


def _clean_with_model(cleaner: Cleaner, clip: Motion, missing: np.ndarray, path: str) -> Motion:
    """``clip`` cleaned by the checkpoint: conformed (resampled, retargeted) onto its skeleton and back."""
    ctx = cleaner.ctx
    moved = ctx.skeleton.describe_difference(clip.skeleton, atol=SKELETON_TOLERANCE) is not None
    filled = fill_motion(clip, missing)
    if moved:
        print(f"{path} is on another skeleton ({clip.skeleton.num_joints} joints) than the checkpoint's "
              f"({ctx.skeleton.num_joints}): retargeting it onto the checkpoint's skeleton, and the result back")
        try:
            m = ctx.conform(filled, path, "input", allow_retarget=True)
        except (ValueError, KeyError) as e:
            raise ContextMismatch(f"{path}: cannot map the clip's skeleton onto the checkpoint's: {e}") from None
        frame_gaps = missing.any(1, keepdims=True)  # joints do not map one to one: whole frames
        miss = np.repeat(_resample_missing(frame_gaps, m.num_frames), ctx.skeleton.num_joints + 1, axis=1)
    else:
        m = ctx.conform(filled, path, "input")
        miss = _resample_missing(missing, m.num_frames)
    if m.num_frames < cleaner.window:
        raise ValueError(f"{path}: the clip has {m.num_frames} frames at {ctx.fps:g} fps, shorter than the model's "
                         f"window of {cleaner.window} frames")
    out = cleaner.clean(m, miss if miss.any() else None)
    if moved:
        out = retarget(out, clip.skeleton)
    out = out.resample(clip.fps)
    if out.num_frames != clip.num_frames:  # a rate change there and back can round off the last frames
        out = out[np.minimum(np.arange(clip.num_frames), out.num_frames - 1)]
    return out


if __name__ == "__main__":
    exit_on_sigterm()
    main()
