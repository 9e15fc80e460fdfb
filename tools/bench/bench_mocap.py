#!/usr/bin/env python
"""Benchmark: BVH loading and forward kinematics, each against baselines measured in the same run.

    python tools/bench/bench_mocap.py [--data DIR] [--repeat 3] [--baseline-files 40]

BVH load (frames/s over all BVH files under DATA/mocap):
  * motion3d.io.bvh.load (hierarchy, MOTION block, Euler -> quaternion, Motion),
  * numpy floor: read the file and ``np.fromstring(motion_block, sep=" ")``: parsing the numbers
    and nothing else,
  * bvhio ``readAsBvh`` and fairmotion ``bvh.load`` (when installed: ``pip install --no-deps
    fairmotion``), on an evenly spaced subset of the files (they are slow), with motion3d and the
    floor re-measured on the same subset for the ratios.
FK (frames/s), 64 clips x 64 frames on the 31-joint CMU skeleton, float32:
  * motion3d.geometry.kinematics.forward_kinematics from quaternions (conversion included), eager
    and ``compiled=True`` (torch.compile; the one-off compilation is reported, not timed),
  * smplx.lbs.batch_rigid_transform on rotation matrices of the same batch and joint count.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_time  # noqa: E402
from motion3d.geometry.kinematics import forward_kinematics  # noqa: E402
from motion3d.geometry.rotations import quat_to_matrix  # noqa: E402
from motion3d.io import bvh  # noqa: E402
from motion3d.paths import data_root  # noqa: E402

_MOTION = re.compile(rb"Frame\s*Time\s*:?[^\n]*\n", re.I)


def load_ours(files):
    return sum(bvh.load(f).num_frames for f in files)


def load_numpy_floor(files):
    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in files:
            data = Path(f).read_bytes()
            start = _MOTION.search(data, data.index(b"MOTION")).end()
            n += np.fromstring(data[start:], sep=" ").size
    return n


def load_bvhio(files):
    import bvhio

    return sum(len(bvhio.readAsBvh(str(f)).Root.Keyframes) for f in files)


def load_fairmotion(files):
    from fairmotion.data import bvh as fbvh

    return sum(fbvh.load(str(f)).num_frames() for f in files)


def bench_load(files, subset, repeat):
    frames = sum(bvh.read_header(f)[1] for f in files)
    sub_frames = sum(bvh.read_header(f)[1] for f in subset)
    print(f"BVH load: {len(files)} files, {frames} frames (baselines on {len(subset)} files, {sub_frames} frames)")
    t_ours = best_time(lambda: load_ours(files), repeat)
    t_floor = best_time(lambda: load_numpy_floor(files), repeat)
    print(f"  motion3d.io.bvh.load        {frames / t_ours:10.0f} frames/s")
    print(f"  numpy floor (np.fromstring) {frames / t_floor:10.0f} frames/s")
    print(f"  ratio motion3d / numpy floor time: {t_ours / t_floor:.2f}x (target <= 1.25x)")
    t_ours_sub = best_time(lambda: load_ours(subset), repeat)
    for name, fn in (("bvhio readAsBvh", load_bvhio), ("fairmotion bvh.load", load_fairmotion)):
        try:
            fn(subset[:1])
        except ImportError:
            print(f"  {name:27s} not installed, skipped")
            continue
        t = best_time(lambda: fn(subset), 1)
        print(f"  {name:27s} {sub_frames / t:10.0f} frames/s; motion3d is {t / t_ours_sub:.1f}x faster "
              f"(target >= 5x vs bvhio)")


def bench_fk(skeleton_file, repeat):
    m = bvh.load(skeleton_file)
    sk = m.skeleton
    B, T, J = 64, 64, sk.num_joints
    g = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(B, T, J, 4, generator=g), dim=-1)
    offsets = torch.tensor(sk.offsets, dtype=torch.float32)
    root = torch.randn(B, T, 3, generator=g)
    parents = sk.parents
    with torch.no_grad():
        t_ours = best_time(lambda: forward_kinematics(q, offsets, parents, root), repeat * 5)
        t0 = time.perf_counter()
        forward_kinematics(q, offsets, parents, root, compiled=True)
        t_compile = time.perf_counter() - t0
        t_comp = best_time(lambda: forward_kinematics(q, offsets, parents, root, compiled=True), repeat * 5)
        print(f"FK: {B} clips x {T} frames x {J} joints, float32, {torch.get_num_threads()} threads")
        print(f"  motion3d forward_kinematics, eager            {B * T / t_ours:10.0f} frames/s")
        print(f"  motion3d forward_kinematics, compiled=True    {B * T / t_comp:10.0f} frames/s"
              f"  (first call, compilation included: {t_compile:.1f} s)")
        try:
            from smplx.lbs import batch_rigid_transform
        except ImportError:
            print("  smplx not installed, no baseline")
            return
        rot = quat_to_matrix(q).reshape(B * T, J, 3, 3)
        joints = torch.tensor(sk.rest_positions(), dtype=torch.float32).expand(B * T, J, 3).clone()
        par = torch.tensor(parents)
        t_smplx = best_time(lambda: batch_rigid_transform(rot, joints, par), repeat * 5)
        print(f"  smplx batch_rigid_transform (matrices in)     {B * T / t_smplx:10.0f} frames/s")
        print("  ratio vs smplx (quaternion conversion included in motion3d's time):")
        print(f"    eager    {t_smplx / t_ours:5.1f}x")
        print(f"    compiled {t_smplx / t_comp:5.1f}x (target >= 5x)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="dataset root (default: MOTION3D_DATA or ../shared/data)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-files", type=int, default=30, help="files in the subset for the slow baselines")
    ap.add_argument("--skip-load", action="store_true")
    args = ap.parse_args(argv)
    root = args.data or data_root()
    files = sorted((root / "mocap").rglob("*.bvh"))
    if not files:
        sys.exit(f"no BVH files under {root / 'mocap'}: set --data or MOTION3D_DATA")
    step = max(1, len(files) // args.baseline_files)
    subset = files[::step][: args.baseline_files]
    if not args.skip_load:
        bench_load(files, subset, args.repeat)
    cmu = root / "mocap" / "cmu" / "01_01.bvh"
    bench_fk(cmu if cmu.exists() else files[0], args.repeat)


if __name__ == "__main__":
    main()
