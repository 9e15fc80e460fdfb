#!/usr/bin/env python
"""Inspect motion files: skeleton tree with channel layout, fps, frames, duration, height and units
estimate, up axis. A directory argument summarises the dataset below it (files, skeleton groups,
total duration, fps histogram).

    python tools/inspect_motion.py FILE_OR_DIR... [--no-tree]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motion3d.io.registry import load_motion
from motion3d.ops.summary import format_directory, format_motion, summarize_directory


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="motion files (.bvh, .amc, .npz) or directories")
    ap.add_argument("--no-tree", action="store_true", help="leave out the skeleton tree")
    args = ap.parse_args(argv)
    status = 0
    for i, p in enumerate(args.paths):
        path = Path(p)
        if i:
            print()
        try:
            if path.is_dir():
                print(format_directory(summarize_directory(path)))
            else:
                print(format_motion(load_motion(path), path, tree=not args.no_tree))
        except (OSError, ValueError, ImportError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
