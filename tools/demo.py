#!/usr/bin/env python
"""The main job, end to end: load the default dataset, summarise it, train the default model,
sample from it and render the results.

    python tools/demo.py [--out outputs/demo] [--data DIR] [--minutes 10] [--skip-train]

Stages (each prints where its outputs went):
  1. summary   the default motion dataset (Bandai-Namco sets 1 and 2 under MOTION3D_DATA)
  2. render    one real walk and one real run side by side -> OUT/real_clips.mp4
  3. train     configs/motion/vae_generate.yaml for --minutes of wall time (tools/train.py)
  4. sample    BVH clips + an MP4 from the trained checkpoint (tools/sample.py)
Stages 3-4 run when the motion-synthesis task and its config are installed; otherwise the demo
says so and stops after stage 2.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motion3d.io import bvh  # noqa: E402
from motion3d.ops.summary import format_directory, summarize_directory  # noqa: E402
from motion3d.paths import data_root  # noqa: E402
from motion3d.render.skeleton_video import save_video  # noqa: E402

DEFAULT_SETS = ["mocap/bandai-namco-1", "mocap/bandai-namco-2"]
CONFIG = ROOT / "configs" / "motion" / "vae_generate.yaml"


def stage_summary(root: Path) -> list[Path]:
    dirs = [root / d for d in DEFAULT_SETS if (root / d).is_dir()]
    if not dirs:
        sys.exit(f"no dataset found under {root}: set MOTION3D_DATA or see data/README.md")
    for d in dirs:
        print(f"== {d}")
        print(format_directory(summarize_directory(d)))
    return dirs


def stage_render(dirs: list[Path], out: Path) -> Path:
    files = sorted(p for d in dirs for p in d.rglob("*.bvh"))
    picks = [next((f for f in files if key in f.name), files[0]) for key in ("_walk_normal_", "_run_normal_")]
    clips = [bvh.load(f) for f in picks]
    path = out / "real_clips.mp4"
    info = save_video(clips, path, panel_size=(400, 400))
    print(f"rendered {', '.join(f.name for f in picks)}: {info['frames']} frames at {info['fps']:g} fps -> {path}")
    return path


def run(cmd: list[str]) -> None:
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def stage_train_and_sample(out: Path, minutes: float) -> None:
    if not CONFIG.exists() or not (ROOT / "tools" / "sample.py").exists():
        print(f"training stage not available yet ({CONFIG.relative_to(ROOT)} or tools/sample.py missing): stopping here")
        return
    run_dir = out / "vae"
    t0 = time.time()
    secs = max(1, int(round(minutes * 60)))
    max_time = f"{secs // 86400:02d}:{secs % 86400 // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    run([sys.executable, "tools/train.py", "fit", "--config", str(CONFIG),
         "--trainer.default_root_dir", str(run_dir), "--trainer.max_time", max_time])
    print(f"trained for {(time.time() - t0) / 60:.1f} min -> {run_dir}")
    # this run's checkpoint: the newest (an earlier demo into the same folder left version_0, ...)
    ckpts = sorted(run_dir.rglob("last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not ckpts:
        sys.exit(f"training left no checkpoint under {run_dir}")
    # the demo's own output folder: replace the samples of an earlier demo run
    run([sys.executable, "tools/sample.py", "--ckpt", str(ckpts[-1]), "--n", "4", "-o", str(out / "samples"),
         "--force"])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "outputs" / "demo")
    ap.add_argument("--data", type=Path, default=None, help="dataset root (default: MOTION3D_DATA or ../shared/data)")
    ap.add_argument("--minutes", type=float, default=10.0, help="training wall time")
    ap.add_argument("--skip-train", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    root = args.data or data_root()
    dirs = stage_summary(root)
    stage_render(dirs, args.out)
    if not args.skip_train:
        stage_train_and_sample(args.out, args.minutes)
    print(f"done: outputs in {args.out}")


if __name__ == "__main__":
    main()
