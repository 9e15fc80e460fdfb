#!/usr/bin/env python
"""Benchmark: cleaning a long clip with a ``cleanup`` model, against the classical filters.

    python tools/bench/bench_cleanup.py [--ckpt CLEANUP.ckpt] [--frames 18000] [--threads 2] [--repeat 3]

The issue's target: a 10-minute clip at 30 fps (18,000 frames, 22 joints) cleaned in <= 10 s on
the 2-core CPU. The clip is built from real Bandai-Namco clips: the files of the config's data
(``--include`` narrows them) are read with :func:`motion3d.io.registry.load_motion`, put on the
model's skeleton and frame rate (:meth:`MotionContext.conform`, as ``tools/cleanup.py`` does), and
concatenated (each one's root continuing where the previous ended) and tiled to ``--frames``.

The model: ``--ckpt`` (a ``cleanup`` checkpoint, read with :class:`Cleaner.load`), else an
untrained :class:`CleanupNet` with the network sizes of ``--config`` (default
``configs/motion/cleanup.yaml``, read as bench_diffusion.py reads its configs) on the context of the
config's datamodule (built with :func:`motion3d.tasks.checkpoint.build_datamodule`, so features and
statistics are those of the data); the output says which. Speed does not depend on the weights.
Measured in the same run, wall time of the whole clip, Motion in, Motion out:

* the baseline: ``tools/cleanup.py --filter butterworth`` (:func:`filter_clip`: zero-phase
  Butterworth over the rotations and root, :func:`motion3d.ops.filters.filter_motion`), and the
  other classical filters;
* the model through ``tools/cleanup.py``'s own path (``_clean_with_model``: conform, gap filling,
  encode, windows of the training length overlapping by a third through the network in batches,
  cross-faded, decode, back to the clip's rate), without gaps and with ``--gaps`` of the frames
  missing a few joints (SLERP filling and the gap mask);
* the model's parts: encoding, the network over the cross-faded windows, decoding.

Loading the checkpoint and the clip is not timed.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_time  # noqa: E402
from motion3d.io.registry import load_motion  # noqa: E402
from motion3d.models.motion import CleanupNet  # noqa: E402
from motion3d.motion import Motion  # noqa: E402
from motion3d.ops.filters import FILTERS  # noqa: E402
from motion3d.paths import REPO_ROOT  # noqa: E402
from motion3d.tasks.checkpoint import build_datamodule  # noqa: E402
from motion3d.tasks.cleanup_clips import Cleaner, filter_clip  # noqa: E402
from motion3d.tasks.context import MotionContext  # noqa: E402

#: the issue's target: 10 minutes at 30 fps in 10 s
TARGET_FRAMES, TARGET_SECONDS = 18_000, 10.0


def cleanup_tool():
    """``tools/cleanup.py`` as a module (its ``_clean_with_model`` is the timed model path)."""
    spec = importlib.util.spec_from_file_location("_tool_cleanup", REPO_ROOT / "tools" / "cleanup.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_config(path: str | Path) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


def datamodule(config: dict, source: str, include: str, cache_dir: str | None):
    """The datamodule of ``config`` (read from ``source``) on the files matching ``include``, every
    file in the train split, after setup."""
    overrides = {"include": [include], "split": [1.0, 0.0, 0.0], "need_labels": False}
    if cache_dir:
        overrides["cache_dir"] = cache_dir
    dm = build_datamodule(config["data"], path=source, **overrides)
    dm.setup("fit")
    return dm


def untrained_cleaner(config: dict, source: str, dm) -> Cleaner:
    """A :class:`Cleaner` with the network of ``config`` (random weights) on the datamodule's context."""
    ctx = MotionContext.from_datamodule(dm)
    net_cfg = config["model"]["init_args"]["net"]
    if str(net_cfg.get("class_path", "")).rsplit(".", 1)[-1] != CleanupNet.__name__:
        raise SystemExit(f"{source}: the network is {net_cfg.get('class_path')!r}, not a CleanupNet")
    torch.manual_seed(0)
    net = CleanupNet(ctx.dim, **dict(net_cfg.get("init_args") or {})).eval()
    with torch.no_grad():  # a non-trivial correction head (it starts at zero)
        net.head.weight.normal_(std=0.01)
    return Cleaner(net, ctx)


def long_clip(paths: list[Path], ctx: MotionContext, frames: int) -> Motion:
    """``frames`` frames of the clips at ``paths`` on ``ctx``'s skeleton and fps, one after the other
    (each root continuing horizontally where the previous one ended), tiled."""
    clips = [ctx.conform(load_motion(p), p) for p in paths]
    flat = np.ones(3)  # horizontal components: all but the axis the bones mostly run along (Y for Bandai)
    flat[int(np.argmax(np.abs(ctx.skeleton.offsets).sum(0)))] = 0.0
    rot, root, tr = [], [], []
    total, shift, k = 0, np.zeros(3), 0
    while total < frames:  # a loop over clips (a few hundred frames each), not frames
        m = clips[k % len(clips)]
        r = m.root_positions.copy()
        if k:
            r += shift - r[0] * flat
        rot.append(m.rotations)
        root.append(r)
        tr.append(m.translations)
        shift = r[-1] * flat
        total += m.num_frames
        k += 1
    translations = None
    if all(t is not None for t in tr):
        translations = np.concatenate(tr)[:frames]
    return Motion(ctx.skeleton, np.concatenate(rot)[:frames], np.concatenate(root)[:frames], ctx.fps,
                  translations, name=f"{k}_clips_tiled")


def gap_mask(frames: int, joints: int, fraction: float, seed: int = 0) -> np.ndarray:
    """``(frames, joints + 1)`` bool: about ``fraction`` of the frames, in 1 s spans, missing 3 joints."""
    rng = np.random.default_rng(seed)
    missing = np.zeros((frames, joints + 1), dtype=bool)
    span = 30
    n = int(round(fraction * frames / span))
    for s in rng.choice(max(1, frames - span), size=n, replace=False):
        missing[s:s + span, rng.choice(np.arange(1, joints), size=3, replace=False)] = True
    return missing


def main(argv=None) -> dict:
    """Run the benchmark; returns the timings (seconds), frames/s, ratios and whether the target is met."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", help="a 'cleanup' checkpoint (default: an untrained CleanupNet of --config's sizes)")
    ap.add_argument("--config", default=str(REPO_ROOT / "configs" / "motion" / "cleanup.yaml"),
                    help="the config whose network and data are used (data always; network without --ckpt)")
    ap.add_argument("--frames", type=int, default=TARGET_FRAMES, help="frames of the clip (18000: 10 min at 30 fps)")
    ap.add_argument("--include", default="dataset-1_walk_*_001.bvh", help="which of the config's files to tile")
    ap.add_argument("--cache-dir", help="feature cache of the datamodule (default: motion3d's)")
    ap.add_argument("--gaps", type=float, default=0.1, help="fraction of frames with missing joints in the gap row")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    if args.frames < 1:
        ap.error("--frames must be positive")
    torch.set_num_threads(args.threads)
    config = read_config(args.config)
    dm = datamodule(config, args.config, args.include, args.cache_dir)
    if args.ckpt:
        cleaner = Cleaner.load(args.ckpt, args.device)
        model = f"checkpoint {args.ckpt}"
    else:
        cleaner = untrained_cleaner(config, args.config, dm)
        cleaner.net.to(args.device)
        model = f"UNTRAINED {type(cleaner.net).__name__} of {Path(args.config).name}'s sizes (no --ckpt; same speed)"
    ctx, net = cleaner.ctx, cleaner.net
    clip = long_clip(dm.files("train"), ctx, args.frames)
    if clip.num_frames < cleaner.window:
        ap.error(f"--frames {args.frames} is shorter than the model's window of {cleaner.window}")
    T, J = clip.num_frames, clip.num_joints
    tool = cleanup_tool()
    none = np.zeros((T, J + 1), dtype=bool)
    gaps = gap_mask(T, J, args.gaps)
    sizes = {k: v for k, v in net.config["init_args"].items() if k not in ("num_content", "num_style")}
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.device}; clip of {T} frames "
          f"({T / ctx.fps / 60:.1f} min at {ctx.fps:g} fps), {J} joints, {ctx.dim} features: {clip.name} from {args.include}")
    print(f"model: {model}; {sizes}; windows of {cleaner.window} frames, overlap {cleaner.window // 3}")

    times: dict[str, float] = {}
    base = times["butterworth"] = best_time(lambda: filter_clip(clip, "butterworth", none), args.repeat, warmup=1)
    for f in FILTERS:
        if f != "butterworth":
            times[f] = best_time(lambda: filter_clip(clip, f, none), args.repeat)
    times["model"] = best_time(lambda: tool._clean_with_model(cleaner, clip, none, "bench"), args.repeat, warmup=1)
    times["model_gaps"] = best_time(lambda: tool._clean_with_model(cleaner, clip, gaps, "bench"), args.repeat)
    x = ctx.encode(clip)
    known = torch.ones_like(x, dtype=torch.bool)
    y = cleaner.clean_features(x, known)
    times["encode"] = best_time(lambda: ctx.encode(clip), args.repeat)
    times["network"] = best_time(lambda: cleaner.clean_features(x, known), args.repeat)
    times["decode"] = best_time(lambda: ctx.decode(y, like=clip), args.repeat)

    print(f"{'method (whole clip, Motion in and out)':<48}{'s':>9}{'frames/s':>11}{'x Butterworth':>15}")

    def line(name: str, key: str) -> None:
        print(f"{name:<48}{times[key]:>9.3f}{T / times[key]:>11.0f}{base / times[key]:>15.3f}")

    line("Butterworth filter_motion (baseline)", "butterworth")
    for f in FILTERS:
        if f != "butterworth":
            line(f"{f} filter_motion", f)
    line("model (tools/cleanup.py path, cross-faded)", "model")
    line(f"model, {gaps.any(1).mean():.0%} of frames with gaps", "model_gaps")
    line("  of which: encode features", "encode")
    line("  of which: network over the windows", "network")
    line("  of which: decode", "decode")
    at_target = times["model"] * TARGET_FRAMES / T
    met = at_target <= TARGET_SECONDS
    print(f"  ratio model / Butterworth time: {times['model'] / base:.1f}x slower" if times["model"] >= base else
          f"  ratio model / Butterworth time: {base / times['model']:.1f}x faster")
    where = (f"{times['model']:.2f} s" if T == TARGET_FRAMES else
             f"{at_target:.2f} s at the same rate (measured {times['model']:.3f} s on {T} frames)")
    print(f"  target: {TARGET_FRAMES} frames ({TARGET_FRAMES / 30 / 60:g} min at 30 fps) in <= {TARGET_SECONDS:g} s: "
          f"{where} -> {'MET' if met else 'NOT MET'}")
    return {"frames": T, "joints": J, "model": "checkpoint" if args.ckpt else "untrained", "seconds": times,
            "frames_per_s": {k: T / v for k, v in times.items()}, "ratio_vs_butterworth": times["model"] / base,
            "seconds_at_target": at_target, "target_met": met}


if __name__ == "__main__":
    main()
