#!/usr/bin/env python
"""Evaluate retargeting on real clips: naive copy vs analytic vs learned (with --ckpt).

    python tools/evaluate_retarget.py [--data DIR] [--bandai 10] [--max-frames 600] [--ckpt X]

(a) ground truth by construction: every clip on its own skeleton with changed proportions (legs
x1.2, arms x0.8, spine x1.1, head x0.9, hips path x leg ratio), plus an A-pose rest, plus random
local axes: squared position error / height^2 (Aberman et al. 2020). (b) across topologies
(Bandai -> CMU 01, CMU -> Bandai, CMU 131 <-> 01 names): end-effector error (per limb length),
foot skate (body heights per second, the source's beside), floor penetration below the scaled
source floor; "analytic+feet" adds --feet-on-floor and --cleanup-feet. Bone lengths of every
output are asserted equal to the target's.

--ckpt X (a 'retarget' checkpoint) adds the learned column on the rows "[learned domains]": the
same measures on the clips and skeleton pairs the network can take (source and target each with
the joint names and hierarchy of one of its two domains), with naive and analytic on the same
pairs beside it. The other rows have no learned value: their skeletons (CMU 01 names, A-pose or
re-framed rests) are not the checkpoint's domains.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from motion3d.io import bvh
from motion3d.paths import data_root
from motion3d.retarget import naive_copy, retarget
from motion3d.retarget.evaluate import bone_length_error, end_effector_error, gt_error, skate_and_penetration
from motion3d.retarget.variants import a_pose_frames, random_frames, reframe, scale_limbs
from motion3d.tasks.retarget_clips import GT_FACTORS as FACTORS, LearnedRetargeter, compare_methods


def _clips(root: Path, n_bandai: int, max_frames: int):
    files = sorted((root / "mocap" / "bandai-namco-1" / "data").glob("*.bvh"))
    contents, bandai = set(), []
    for f in files:  # one clip per content first (walk, run, kick, ...), then the rest
        c = f.stem.split("_")[1]
        if c not in contents and len(bandai) < n_bandai:
            contents.add(c)
            bandai.append(f)
    bandai += [f for f in files if f not in bandai][: max(0, n_bandai - len(bandai))]
    cmu = [root / "mocap" / "cmu" / n for n in ("01_01.bvh", "131_01.bvh", "131_02.bvh", "131_03.bvh", "example.bvh")]
    load = lambda p: bvh.load(p)[:max_frames]  # noqa: E731
    return [load(p) for p in bandai], [load(p) for p in cmu]


def _learned_rows(learned, clips, add) -> None:
    """Rows "[learned domains]": :func:`compare_methods` on the clips of the checkpoint's domains."""
    for m in clips:
        if any(c.skeleton.same_topology(m.skeleton) for c in learned.contexts.values()):
            for row, values in compare_methods(learned, m).items():
                add(f"{row} [learned domains]", **values)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="dataset root (default: the shared data)")
    ap.add_argument("--bandai", type=int, default=10, help="number of Bandai-Namco clips")
    ap.add_argument("--max-frames", type=int, default=600, help="frames per clip (from the start)")
    ap.add_argument("--ckpt", help="a 'retarget' checkpoint: adds the learned column")
    args = ap.parse_args(argv)
    learned = None
    if args.ckpt:
        learned = LearnedRetargeter.load(args.ckpt)
    root = Path(args.data) if args.data else data_root()
    bandai, cmu = _clips(root, args.bandai, args.max_frames)
    rows: dict[str, dict[str, list[float]]] = {}
    cols = ("source", "naive", "analytic", "analytic+feet", "learned")

    def add(row, **values):
        r = rows.setdefault(row, {c: [] for c in cols})
        for c, v in values.items():
            r[c].append(v)

    # (a) ground truth by construction
    for m in bandai + cmu:
        truth = scale_limbs(m, FACTORS)
        variants = {"GT proportions": truth,
                    "GT proportions + A-pose rest": reframe(truth, a_pose_frames(truth.skeleton)),
                    "GT proportions + other local axes": reframe(truth, random_frames(m.num_joints, 7))}
        for row, v in variants.items():
            add(f"{row} (err/h^2)", naive=gt_error(naive_copy(m, v.skeleton), truth),
                analytic=gt_error(retarget(m, v.skeleton), truth))
    # (b) across topologies
    cmu01, c131, ban_sk = cmu[0].skeleton, cmu[1].skeleton, bandai[0].skeleton
    pairs = [("Bandai -> CMU", m, cmu01) for m in bandai] + [("CMU -> Bandai", m, ban_sk) for m in cmu]
    pairs += [("CMU 131 -> CMU 01 names", m, cmu01) for m in cmu[1:4]]
    pairs += [("CMU 01 -> CMU 131 names", m, c131) for m in (cmu[0], cmu[4])]
    worst_bone = 0.0
    for task, m, tgt in pairs:
        nv, an = naive_copy(m, tgt), retarget(m, tgt)
        fx = retarget(m, tgt, feet_on_floor=True, cleanup_feet=True)
        worst_bone = max(worst_bone, bone_length_error(an), bone_length_error(nv), bone_length_error(fx))
        add(f"{task}: end effectors (per limb length)", naive=end_effector_error(m, nv),
            analytic=end_effector_error(m, an), **{"analytic+feet": end_effector_error(m, fx)})
        sn, sa, sf = skate_and_penetration(m, nv), skate_and_penetration(m, an), skate_and_penetration(m, fx)
        add(f"{task}: foot skate (heights/s)", source=sa["skate_src"], naive=sn["skate"], analytic=sa["skate"],
            **{"analytic+feet": sf["skate"]})
        add(f"{task}: floor penetration (x height)", naive=sn["penetration"], analytic=sa["penetration"],
            **{"analytic+feet": sf["penetration"]})
    if learned is not None:  # asserts the learned outputs' bone lengths itself
        _learned_rows(learned, bandai + cmu, add)
    assert worst_bone < 1e-6, f"bone lengths differ from the target's by {worst_bone:.3g} x height"

    print(f"clips: {len(bandai)} Bandai-Namco ({', '.join(m.name for m in bandai)}), "
          f"{len(cmu)} CMU; up to {args.max_frames} frames each")
    w = max(len(r) for r in rows)
    head = "".join(f"  {c:>13}" for c in cols)
    print(f"{'measure (mean over clips)':<{w}}{head}  analytic/naive")
    for row, r in rows.items():
        mean = {c: (float(np.mean(v)) if v else None) for c, v in r.items()}
        cells = "".join(f"  {mean[c]:13.3g}" if mean[c] is not None else f"  {'-':>13}" for c in cols)
        n, a = mean["naive"], mean["analytic"]
        ratio = f"{a / n:.3g}" if n else "-"
        print(f"{row:<{w}}{cells}  {ratio}")
    print(f"bone lengths of every output equal the target's (largest deviation {worst_bone:.2g} x height)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
