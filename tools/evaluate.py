"""Evaluate a checkpoint of any motion3d task: the task stored in the checkpoint picks the procedure.

    python tools/evaluate.py --ckpt runs/x/checkpoints/best.ckpt [--data DIR] [task options]
    python tools/evaluate.py --ckpt X --help        # the task's own options

Classification checkpoints print OA, mAcc and a per-class table and write confusion.png.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.tasks import evaluation  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--ckpt", required=True, help="checkpoint written by tools/train.py")
    known, _ = pre.parse_known_args(argv)
    checkpoint = evaluation.load_checkpoint(known.ckpt)
    name = evaluation.task_name(checkpoint, known.ckpt)
    ev = evaluation.get(name)
    parser = argparse.ArgumentParser(description=f"Evaluate a '{name}' checkpoint", parents=[pre])
    if ev.add_arguments is not None:
        ev.add_arguments(parser)
    args = parser.parse_args(argv)
    return ev.run(checkpoint, args)


if __name__ == "__main__":
    main()
