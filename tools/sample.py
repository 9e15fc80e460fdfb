"""Sample clips from a motion checkpoint: BVH files on the checkpoint's skeleton + one MP4.

    python tools/sample.py --ckpt runs/vae_generate/.../checkpoints/last.ckpt --label content=walk,style=angry --n 8 -o samples/
    python tools/sample.py --ckpt runs/gru_predict/.../best.ckpt -o rollouts/      # free rollouts of a predictor

Without --label, labels are drawn from those seen in training. The checkpoint carries its
skeleton, feature layout and normalisation statistics: nothing else is needed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.tasks.sampling import sample_checkpoint  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", required=True, help="a 'generate' or 'predict' checkpoint")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--n", type=int, default=8, help="clips to sample")
    p.add_argument("--label", help="content=NAME,style=NAME (either optional)")
    p.add_argument("--length", type=int, help="frames per clip (default: the training window)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0,
                   help="spread of a VAE's latent samples (1: as fitted; below 1: more typical clips)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-video", action="store_true", help="write BVH files only")
    args = p.parse_args(argv)
    result = sample_checkpoint(args.ckpt, args.out, args.n, args.length, args.label, args.seed, args.device,
                               video=not args.no_video, temperature=args.temperature)
    for path, lab in zip(result["bvh"], result["labels"]):
        print(f"{path}  {lab}")
    if result["video"]:
        print(f"video: {result['video']}")
    return result


if __name__ == "__main__":
    main()
