#!/usr/bin/env python
"""Download and verify one dataset of data/manifest.yaml, or print how to get it.

    python tools/fetch_data.py NAME [--dest DIR] [--manifest FILE] [--no-progress]
    python tools/fetch_data.py --list

Downloads resume from a `.part` file; a sha256 mismatch stops with exit status 1, keeps the
download as `.bad` and changes nothing else. Registration-only datasets (AMASS) print where to
register and where to put the files. Default destination: $MOTION3D_DATA/<the entry's dest>.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from motion3d.data.fetch import DEFAULT_MANIFEST, FetchError, fetch_dataset, load_manifest  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", nargs="?", help="dataset name in the manifest (see --list)")
    ap.add_argument("--dest", type=Path, default=None, help="target folder (default: $MOTION3D_DATA/<dest>)")
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help=f"manifest (default {DEFAULT_MANIFEST})")
    ap.add_argument("--list", action="store_true", help="list the datasets of the manifest")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    try:
        if args.list or not args.name:
            for name, entry in load_manifest(args.manifest).items():
                access = entry.get("access", "download")
                print(f"{name:20s} {access:12s} {entry.get('title', '')}")
            return 0 if args.list else 2
        result = fetch_dataset(args.name, args.dest, args.manifest, progress=not args.no_progress, log=print)
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(result.message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
