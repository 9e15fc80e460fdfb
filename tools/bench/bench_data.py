#!/usr/bin/env python
"""Benchmark: MocapDataModule over all of DATA/mocap, uncached first pass vs cached epochs.

    python tools/bench/bench_data.py [--data DIR] [--cache-dir DIR] [--window 60] [--stride 10]
                                     [--batch-size 64] [--num-workers 0] [--epochs 3]

1. uncached: ``setup()`` with an empty cache (parse every file, resample, encode, write the cache)
   plus one epoch over every window (train, val and test loaders);
2. cached: a new module's ``setup()`` (hashes + cache read, no parsing) plus one epoch, repeated
   ``--epochs`` times (best and mean printed).
Prints the windows count, the rejected files, the times and the ratio uncached / cached.
Issue 3's target: a cached epoch under 5 s without the model.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from motion3d.data.mocap import MocapDataModule  # noqa: E402
from motion3d.paths import data_root  # noqa: E402


def epoch(dm: MocapDataModule) -> tuple[int, int]:
    """Iterate every window once; ``(windows, batches)``."""
    n = b = 0
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        for batch in loader:
            n += batch["x"].shape[0]
            b += 1
    return n, b


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="dataset root (default: motion3d.paths.data_root())")
    ap.add_argument("--cache-dir", type=Path, default=None, help="cache folder (default: a new temporary one)")
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--stride", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--num-workers", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=3, help="cached epochs to time")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    mocap = (args.data or data_root()) / "mocap"
    roots = sorted(str(d) for d in mocap.iterdir() if d.is_dir())
    tmp = None
    if args.cache_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="motion3d-bench-")
        args.cache_dir = Path(tmp.name)
    kw = dict(roots=roots, window=args.window, stride=args.stride, batch_size=args.batch_size,
              num_workers=args.num_workers, cache_dir=str(args.cache_dir))

    t0 = time.perf_counter()
    dm = MocapDataModule(**kw)
    dm.setup()
    t_setup = time.perf_counter() - t0
    n, b = epoch(dm)
    t_first = time.perf_counter() - t0
    print(f"roots: {', '.join(roots)}")
    print(dm.summary())
    for p, reason in dm.rejected:
        print(f"  rejected {p}: {reason}")
    print(f"cache hit on the first pass: {dm.cache_hit} (use an empty --cache-dir for a true first pass)")
    print(f"uncached: setup {t_setup:.2f} s + epoch {t_first - t_setup:.2f} s = {t_first:.2f} s "
          f"({n} windows, {b} batches)")

    setups, epochs = [], []
    for _ in range(max(1, args.epochs)):
        t0 = time.perf_counter()
        dm2 = MocapDataModule(**kw)
        dm2.setup()
        t1 = time.perf_counter()
        n2, _ = epoch(dm2)
        t2 = time.perf_counter()
        assert dm2.cache_hit and n2 == n, "the second setup should hit the cache and give the same windows"
        setups.append(t1 - t0)
        epochs.append(t2 - t1)
    best = min(s + e for s, e in zip(setups, epochs))
    print(f"cached:   setup {min(setups):.3f} s (best) + epoch {min(epochs):.3f} s (best), "
          f"{sum(epochs) / len(epochs):.3f} s (mean of {len(epochs)}); "
          f"{n / min(epochs):,.0f} windows/s")
    print(f"ratio uncached / cached (setup + epoch): {t_first / best:.0f}x")
    print(f"target: cached epoch < 5 s: {'met' if max(epochs) < 5 else 'NOT met'} (worst {max(epochs):.3f} s)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
