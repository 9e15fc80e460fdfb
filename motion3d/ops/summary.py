"""Human-readable summaries of motion files and datasets (used by ``tools/inspect_motion.py``)."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from motion3d.io.registry import find_motion_files, format_of, load_motion
from motion3d.motion import Motion
from motion3d.ops.axes import detect_up_axis
from motion3d.ops.floor import floor_height
from motion3d.ops.units import estimate_units
from motion3d.skeleton import POSITION_CHANNELS, Skeleton

__all__ = ["channel_layout", "skeleton_tree", "describe_motion", "format_motion", "summarize_directory",
           "format_directory", "nominal_fps", "format_fps", "format_feet"]


def nominal_fps(fps: float) -> float:
    """The whole rate ``n`` when ``1 / fps`` is ``1 / n`` rounded as files write it (Frame Time
    0.016667 or 0.0333333: 60 or 30), else ``fps`` unchanged."""
    n = round(float(fps))
    if n >= 1 and abs(1.0 / fps - 1.0 / n) <= 5e-6 and abs(fps - n) <= 1e-3 * n:
        return float(n)
    return float(fps)


def format_fps(fps: float) -> str:
    """``"fps 60 (frame time 0.016667 s)"`` for a rounded 1/60 frame time, ``"fps 25"`` for an
    exact rate, ``"fps 59.5"`` otherwise."""
    n = nominal_fps(fps)
    if n != fps:
        return f"fps {n:g} (frame time {1.0 / fps:.7g} s)"
    return f"fps {fps:.6g}"


def format_feet(floor: float, height: float, units: str) -> str:
    """Where the lowest foot point of the clip is against y=0 (the floor), e.g. ``"feet: lowest
    0.3 cm above y=0 over the clip"``; far below or above it (a tenth of the body height), says so."""
    unit = "" if units == "unknown" else f" {units}"
    where = "above" if floor >= 0 else "below"
    text = f"feet: lowest {abs(floor):.3g}{unit} {where} y=0 over the clip"
    if height > 0 and floor < -0.1 * height:
        text += " (under the floor; for a BVH whose root has an OFFSET, try motion3d.io.bvh.load(..., root_offset='add'))"
    elif height > 0 and floor > 0.1 * height:
        text += " (floating above the floor)"
    return text


def channel_layout(channels: tuple[str, ...]) -> str:
    """Compact channel layout, e.g. ``"pos XYZ, rot ZXY"`` (file order kept), ``"none"``."""
    parts = []
    for c in channels:
        kind = "pos" if c in POSITION_CHANNELS else "rot"
        if parts and parts[-1][0] == kind:
            parts[-1][1].append(c[0])
        else:
            parts.append((kind, [c[0]]))
    return ", ".join(f"{k} {''.join(a)}" for k, a in parts) or "none"


def skeleton_tree(skeleton: Skeleton) -> str:
    """The joint tree, one indented line per joint with its channel layout."""
    depth = skeleton.depths
    width = max(2 * int(d) + len(n) for d, n in zip(depth, skeleton.names)) + 2
    lines = []
    for j, n in enumerate(skeleton.names):
        label = "  " * int(depth[j]) + n
        end = "  + end site" if j in skeleton.end_sites else ""
        lines.append(f"{label:<{width}}[{channel_layout(skeleton.channels[j])}]{end}")
    return "\n".join(lines)


def describe_motion(motion: Motion) -> dict:
    """Plain facts about a clip: joints, channels, fps, frames, duration (s), height, units, up axis,
    floor (the lowest foot point's height over the clip, :func:`motion3d.ops.floor_height`)."""
    sk = motion.skeleton
    return {
        "name": motion.name,
        "joints": sk.num_joints,
        "channels": sk.num_channels,
        "fps": motion.fps,
        "frames": motion.num_frames,
        "duration": motion.duration,
        "height": sk.height(),
        "units": estimate_units(sk),
        "up_axis": detect_up_axis(motion),
        "floor": floor_height(motion),
    }


def format_motion(motion: Motion, path: str | os.PathLike | None = None, tree: bool = True) -> str:
    """A multi-line report of one clip (the skeleton tree first when ``tree``)."""
    d = describe_motion(motion)
    head = f"{path if path is not None else motion.name}"
    out = [head, "=" * len(head)]
    if tree:
        out += [skeleton_tree(motion.skeleton), ""]
    out += [
        f"joints {d['joints']}, channels {d['channels']}",
        f"{format_fps(d['fps'])}, frames {d['frames']}, duration {d['duration']:.2f} s",
        f"height {d['height']:.4g} (units: {d['units']}), up axis {d['up_axis']}",
        format_feet(d["floor"], d["height"], d["units"]),
    ]
    return "\n".join(out)


def _quick_info(path: Path) -> tuple[Skeleton, int, float]:
    """``(skeleton, frames, fps)``; BVH files by their header only, others fully loaded."""
    if format_of(path) == "bvh":
        from motion3d.io import bvh

        return bvh.read_header(path)
    m = load_motion(path)
    return m.skeleton, m.num_frames, m.fps


def summarize_directory(directory: str | os.PathLike) -> dict:
    """Summary of every motion file under ``directory``: ``files`` (count), ``formats``
    (Counter), ``groups`` (one per skeleton topology: ``names``, ``count``, ``height``, ``units``,
    ``example``), ``total_duration`` (s), ``total_frames``, ``fps`` (Counter of rounded rates)
    and ``errors`` (``[(path, message)]``, files that could not be read)."""
    files = find_motion_files(directory)
    groups: dict[tuple, dict] = {}
    fps_hist: Counter = Counter()
    formats: Counter = Counter()
    errors, total, frames = [], 0.0, 0
    for p in files:
        try:
            sk, n, fps = _quick_info(p)
        except Exception as e:  # reported, not hidden: the summary lists every unreadable file
            errors.append((str(p), f"{type(e).__name__}: {e}"))
            continue
        formats[format_of(p)] += 1
        key = (tuple(sk.names), tuple(sk.parents.tolist()))
        g = groups.setdefault(key, {"names": list(sk.names), "count": 0, "height": sk.height(),
                                    "units": estimate_units(sk), "example": str(p)})
        g["count"] += 1
        fps_hist[round(nominal_fps(fps), 3)] += 1
        total += max(n - 1, 0) / fps
        frames += n
    return {"directory": str(directory), "files": len(files), "formats": formats,
            "groups": list(groups.values()), "total_duration": total, "total_frames": frames,
            "fps": fps_hist, "errors": errors}


def format_directory(summary: dict) -> str:
    """A multi-line report of :func:`summarize_directory`'s result."""
    s = summary
    fmts = ", ".join(f"{k} {v}" for k, v in sorted(s["formats"].items())) or "none"
    out = [
        f"{s['directory']}: {s['files']} motion files ({fmts})",
        f"total duration {s['total_duration']:.1f} s ({s['total_duration'] / 60:.1f} min), {s['total_frames']} frames",
        "fps histogram: " + (", ".join(f"{k:g} fps x {v}" for k, v in sorted(s["fps"].items())) or "none"),
        f"skeleton groups: {len(s['groups'])}",
    ]
    for i, g in enumerate(s["groups"]):
        out.append(
            f"  [{i}] {g['count']} files, {len(g['names'])} joints (root {g['names'][0]!r}), "
            f"height {g['height']:.4g} ({g['units']}), e.g. {Path(g['example']).name}"
        )
    if s["errors"]:
        out.append(f"unreadable files: {len(s['errors'])}")
        out += [f"  {p}: {msg}" for p, msg in s["errors"]]
    return "\n".join(out)
