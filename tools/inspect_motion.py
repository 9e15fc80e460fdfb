#!/usr/bin/env python
"""Inspect motion files: skeleton tree with channel layout, fps, frames, duration, height and units
estimate, up axis. A directory argument summarises the dataset below it (files, skeleton groups,
total duration, fps histogram).

    python tools/inspect_motion.py FILE_OR_DIR... [--no-tree]

A file that cannot be read is reported on stderr (file, line, problem) and the other arguments are
still inspected; the exit status is 1 when any argument failed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motion3d.io import FormatError
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
        except Exception as e:  # noqa: BLE001 - one bad argument must not hide the others
            print(_describe_error(path, e), file=sys.stderr)
            status = 1
    return status


def _describe_error(path: Path, e: Exception) -> str:
    """One line naming the file and what is wrong with it."""
    if isinstance(e, FormatError) and e.path == str(path):
        return str(e)  # already "file:line: problem"
    if isinstance(e, (OSError, ValueError, ImportError)):
        return f"{path}: {e}"
    return f"{path}: {type(e).__name__}: {e}"


if __name__ == "__main__":
    sys.exit(main())
