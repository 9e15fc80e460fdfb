"""Sample clips from a motion checkpoint: BVH files on the checkpoint's skeleton + one MP4.

    python tools/sample.py --ckpt runs/vae_generate/.../checkpoints/last.ckpt --label content=walk,style=angry --n 8 -o samples/
    python tools/sample.py --ckpt runs/gru_predict/.../best.ckpt -o rollouts/      # free rollouts of a predictor
    python tools/sample.py --ckpt runs/diffusion/.../last.ckpt --label content=walk --steps 50 --guidance 2.5 \
        --retarget-to TARGET.bvh -o samples/                                       # a diffusion model, on another skeleton
    python tools/sample.py --ckpt X --n 4 -o samples/ --html samples.html           # + one offline page of the clips

Without --label, labels are drawn from those seen in training. The checkpoint carries its
skeleton, feature layout and normalisation statistics: nothing else is needed.

--html OUT.html writes one self-contained page (no server, no network) that plays the clips side by
side, each labelled with its file and labels; with --retarget-to, each sample on the checkpoint's
skeleton stands beside its retargeted file.

A folder that already holds samples (sample*.bvh, samples.mp4), or an existing --html page, is
refused before any work unless --force; every file is written under a temporary name and renamed
when complete.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.io import bvh  # noqa: E402
from motion3d.outputs import OutputError, exit_on_sigterm, is_same_file  # noqa: E402
from motion3d.render.html_page import html_writer  # noqa: E402
from motion3d.render.clip import from_motion  # noqa: E402
from motion3d.tasks.checkpoint import CheckpointError  # noqa: E402
from motion3d.tasks.sampling import sample_checkpoint  # noqa: E402


def _check_folder(out: Path, ckpt: str, force: bool, video: bool) -> None:
    """Before any work: ``out`` is not the checkpoint nor a file, and holds no earlier samples
    (``sample*.bvh``, ``samples.mp4``) unless ``force``."""
    if is_same_file(out, ckpt):
        raise OutputError(out, "-o is the checkpoint; refusing to write onto an input")
    if out.exists() and not out.is_dir():
        raise OutputError(out, "-o must be a folder, this is a file")
    if out.is_dir() and not force:
        earlier = sorted(out.glob("sample*.bvh")) + ([out / "samples.mp4"] if video else [])
        earlier = [p for p in earlier if p.exists()]
        if earlier:
            shown = ", ".join(p.name for p in earlier[:4]) + (", ..." if len(earlier) > 4 else "")
            raise OutputError(out, f"the folder holds earlier samples ({shown}); pass --force to replace "
                                   f"them or choose another folder")


def _page_clips(result: dict, retarget_to: str | None) -> list:
    """The page's clips: each sample named by its file and labels; with ``retarget_to`` the sample
    on the checkpoint's skeleton, then its retargeted file."""
    clips = []
    for path, lab, sampled, written in zip(result["bvh"], result["labels"], result["sampled"], result["motions"]):
        tags = "".join(f" {k}={v}" for k, v in lab.items() if v is not None)
        if retarget_to:
            clips.append(from_motion(sampled, f"sampled: {sampled.name}{tags}"))
            clips.append(from_motion(written, f"output: {Path(path).name} (on {Path(retarget_to).stem})"))
        else:
            clips.append(from_motion(written, f"output: {Path(path).name}{tags}"))
    return clips


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", required=True, help="a checkpoint of a generator or a predictor")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--n", type=int, default=8, help="clips to sample")
    p.add_argument("--label", help="content=NAME,style=NAME (either optional)")
    p.add_argument("--length", type=int, help="frames per clip (default: the training window)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0,
                   help="spread of a VAE's latent samples (1: as fitted; below 1: more typical clips)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, help="diffusion: denoising steps (default: the checkpoint's)")
    p.add_argument("--guidance", type=float,
                   help="diffusion: classifier-free guidance weight (0: unconditional, 1: conditional; default: the "
                        "checkpoint's)")
    p.add_argument("--retarget-to", metavar="TARGET.bvh",
                   help="write the clips on this file's skeleton (analytic retargeting) instead of the training one")
    p.add_argument("--no-video", action="store_true", help="write BVH files only")
    p.add_argument("--html", metavar="OUT.html", help="also write the clips as one offline HTML page (side by side)")
    p.add_argument("--force", action="store_true", help="replace earlier samples in the output folder")
    args = p.parse_args(argv)
    out = Path(args.out)
    try:
        _check_folder(out, args.ckpt, args.force, not args.no_video)
        web = html_writer(args.html, (args.ckpt, args.retarget_to), args.force) if args.html else None
        target = bvh.read_header(args.retarget_to)[0] if args.retarget_to else None
        result = sample_checkpoint(args.ckpt, out, args.n, args.length, args.label, args.seed, args.device,
                                   video=not args.no_video, temperature=args.temperature, force=args.force,
                                   options={"steps": args.steps, "guidance": args.guidance}, retarget_to=target)
    except (OutputError, CheckpointError, ValueError, OSError) as e:  # a bad checkpoint, label or output: say which
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    for path, lab in zip(result["bvh"], result["labels"]):
        print(f"{path}  {lab}")
    if result["video"]:
        print(f"video: {result['video']}")
    if web is not None:
        info = web.export_html(_page_clips(result, args.retarget_to), args.html)
        print(f"page: {info['path']} ({info['bytes'] / 1e6:.1f} MB)")
    if result["deterministic"] and args.n > 1:
        print("note: this network is deterministic (free rollouts from the mean frame): clips with the same labels "
              "are identical")
    return result


if __name__ == "__main__":
    exit_on_sigterm()
    main()
