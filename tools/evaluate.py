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

from motion3d import evaluate  # noqa: E402
from motion3d.io import FormatError  # noqa: E402
from motion3d.tasks.checkpoint import CheckpointError, load_checkpoint, task_name  # noqa: E402
from motion3d.tasks.context import ContextMismatch  # noqa: E402


def build_parser(ev: evaluate.Evaluator | None = None, pre: argparse.ArgumentParser | None = None
                 ) -> argparse.ArgumentParser:
    """The command line of evaluator ``ev`` (its options, in a group named after its task)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if ev is None else
                                     f"Evaluate a '{ev.name}' checkpoint",
                                     parents=[pre] if pre is not None else [])
    if ev is not None and ev.options:
        group = parser.add_argument_group(f"{ev.name} options")
        for option in ev.options:
            group.add_argument(*option.flags, **option.kwargs)
    return parser


def general_help() -> str:
    """The help without a checkpoint: usage, the known tasks, how to see a task's options."""
    return (f"usage: evaluate.py --ckpt CHECKPOINT [--data DIR] [task options]\n\n{__doc__.strip()}\n\n"
            f"options:\n  --ckpt CHECKPOINT  checkpoint written by tools/train.py (required); its task picks the "
            f"procedure\n  -h, --help         this help; with --ckpt, the options of the checkpoint's task\n\n"
            f"known tasks: {', '.join(evaluate.names())}\n"
            f"`--ckpt X --help` shows the options of checkpoint X's task.")


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--ckpt", help="checkpoint written by tools/train.py")
    known, _ = pre.parse_known_args(argv)
    if known.ckpt is None:
        if "-h" in argv or "--help" in argv:
            print(general_help())
            raise SystemExit(0)
        print("usage: evaluate.py --ckpt CHECKPOINT [--data DIR] [task options]\n"
              "evaluate.py: error: the following arguments are required: --ckpt (--help lists the known tasks)",
              file=sys.stderr)
        raise SystemExit(2)
    try:
        checkpoint = load_checkpoint(known.ckpt)
        ev = evaluate.get(task_name(checkpoint, known.ckpt))
    except (CheckpointError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    args = build_parser(ev, pre).parse_args(argv)
    try:
        return ev.run(checkpoint, args)
    except (CheckpointError, ContextMismatch, FormatError) as e:
        # a file or checkpoint that does not fit: say which and why, not a traceback
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
