#!/usr/bin/env python
"""The main job, end to end: load the default dataset, summarise it, train the default model,
sample from it and render the results.

    python tools/demo.py [--out outputs/demo] [--data DIR] [--minutes 10] [--skip-train]

Stages (each prints where its outputs went):
  1. summary   the default motion dataset (Bandai-Namco sets 1 and 2 under MOTION3D_DATA)
  2. render    one real walk and one real run side by side -> OUT/real_clips.mp4 (the longest
               normal-style clip of each when it lasts MIN_SECONDS, else the longest of any style;
               both cut to the shorter, so neither panel stands still)
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

from motion3d.io import FormatError, bvh  # noqa: E402
from motion3d.ops.summary import format_directory, summarize_directory  # noqa: E402
from motion3d.paths import data_root  # noqa: E402
from motion3d.render.skeleton_video import save_video  # noqa: E402
from motion3d.tasks.checkpoint import CheckpointError, load_checkpoint  # noqa: E402

DEFAULT_SETS = ["mocap/bandai-namco-1", "mocap/bandai-namco-2"]
CONFIG = ROOT / "configs" / "motion" / "vae_generate.yaml"
MOTIONS = ("walk", "run")
PREFERRED_STYLE = "normal"
MIN_SECONDS = 4.0  # a clip shown must last this long (the training window is 2 s)


def stage_summary(root: Path) -> list[Path]:
    dirs = [root / d for d in DEFAULT_SETS if (root / d).is_dir()]
    if not dirs:
        sys.exit(f"no dataset found under {root}: set MOTION3D_DATA or see data/README.md")
    for d in dirs:
        print(f"== {d}")
        print(format_directory(summarize_directory(d)))
    return dirs


def choose_clips(durations: dict[Path, float], motions=MOTIONS, style: str = PREFERRED_STYLE,
                 min_seconds: float = MIN_SECONDS) -> list[Path]:
    """One file per motion (names like ``dataset-2_walk_normal_003.bvh``), from ``{path: seconds}``:
    the longest ``style`` clip when it lasts ``min_seconds``, else the longest clip of that motion in
    any style, else (no file of that motion) the longest file. Ties go to the first name."""
    def longest(paths):
        return max(sorted(paths), key=lambda p: durations[p]) if paths else None

    picks = []
    for motion in motions:
        of_motion = [p for p in durations if f"_{motion}_" in p.name]
        styled = longest([p for p in of_motion if f"_{motion}_{style}_" in p.name])
        if styled is not None and durations[styled] >= min_seconds:
            picks.append(styled)
        else:
            picks.append(longest(of_motion) or longest(list(durations)))
    return picks


def clip_durations(files: list[Path]) -> dict[Path, float]:
    """``{path: seconds}`` from the BVH headers; files whose header cannot be read are left out
    (the summary above lists them)."""
    out = {}
    for f in files:
        try:
            _, frames, fps = bvh.read_header(f)
        except FormatError:
            continue
        out[f] = max(frames - 1, 0) / fps
    return out


def fmt_seconds(seconds: float) -> str:
    """``"18 s"`` under a minute, else minutes to one decimal (``"10.0 min"``)."""
    return f"{seconds:.0f} s" if seconds < 59.5 else f"{seconds / 60:.1f} min"


def stage_render(dirs: list[Path], out: Path) -> Path:
    files = sorted(p for d in dirs for p in d.rglob("*.bvh"))
    wanted = [f for f in files if any(f"_{m}_" in f.name for m in MOTIONS)]
    durations = clip_durations(wanted or files)
    if not durations:
        sys.exit(f"no readable BVH clip under {', '.join(map(str, dirs))}")
    picks = choose_clips(durations)
    clips = [bvh.load(f) for f in picks]
    # both panels move all the way: cut every clip to the shortest one
    shortest = min(m.duration for m in clips)
    clips = [m[: int(round(shortest * m.fps)) + 1] for m in clips]
    path = out / "real_clips.mp4"
    info = save_video(clips, path, panel_size=(400, 400))
    shown = ", ".join(f"{f.name} ({durations[f]:.1f} s)" for f in picks)
    print(f"rendered {shown}, {shortest:.1f} s of each: {info['frames']} frames at {info['fps']:g} fps -> {path}")
    return path


def run(cmd: list[str]) -> None:
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def trained_seconds(ckpt: Path) -> float | None:
    """Seconds spent in training by the run that wrote ``ckpt`` (Lightning's Timer, the clock
    ``--trainer.max_time`` stops on), or None when the checkpoint does not record it."""
    try:
        timer = load_checkpoint(ckpt).get("callbacks", {}).get("Timer", {})
    except CheckpointError:
        return None
    value = timer.get("time_elapsed", {}).get("train") if isinstance(timer, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def stage_train_and_sample(out: Path, minutes: float) -> None:
    if not CONFIG.exists() or not (ROOT / "tools" / "sample.py").exists():
        print(f"training stage not available yet ({CONFIG.relative_to(ROOT)} or tools/sample.py missing): stopping here")
        return
    run_dir = out / "vae"
    secs = max(1, int(round(minutes * 60)))
    max_time = f"{secs // 86400:02d}:{secs % 86400 // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    t0 = time.perf_counter()
    run([sys.executable, "tools/train.py", "fit", "--config", str(CONFIG),
         "--trainer.default_root_dir", str(run_dir), "--trainer.max_time", max_time])
    wall = time.perf_counter() - t0
    # this run's checkpoint: the newest (an earlier demo into the same folder left version_0, ...)
    ckpts = sorted(run_dir.rglob("last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not ckpts:
        sys.exit(f"training left no checkpoint under {run_dir}")
    trained = trained_seconds(ckpts[-1])
    if trained is None:
        print(f"trained for {fmt_seconds(wall)} (wall time with start-up) -> {run_dir}")
    else:
        print(f"trained for {fmt_seconds(trained)} ({fmt_seconds(wall)} with start-up and data loading) -> {run_dir}")
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
