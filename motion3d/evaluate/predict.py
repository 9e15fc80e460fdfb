"""Evaluation of ``predict`` checkpoints: global and root-relative MPJPE and local-rotation angle
error at 80/160/320/400/1000 ms, printed beside the zero-velocity and constant-velocity baselines on
the same windows (the checkpoint's test split, or every clip of ``--data``).

Root-relative, the two baselines are the same by construction (the constant-velocity baseline
extrapolates the root only; every joint relative to the root stays as in the last observed frame,
as with zero velocity): that table prints them as one row, with a note saying why."""
from __future__ import annotations

from typing import Sequence

import torch

from motion3d.evaluate.data import DATA_OPTIONS, evaluation_windows, length_unit
from motion3d.evaluate.registry import Option, register
from motion3d.metrics.motion import DEFAULT_HORIZONS_MS, errors_at_horizons, horizon_frames
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import labels_of
from motion3d.tasks.predict import TASK_NAME, prediction_errors

__all__ = ["evaluate_prediction", "format_table", "merge_baseline_rows", "OPTIONS"]

#: the row standing for both baselines where they agree (root-relative errors)
BOTH_BASELINES = "zero- = constant velocity"
BOTH_BASELINES_NOTE = ("  (root-relative, the constant-velocity baseline equals the zero-velocity one: it moves the "
                       "root only, and the joints' positions relative to the root stay as last observed)")


OPTIONS = (
    *DATA_OPTIONS,
    Option("--observe", type=int, help="observed frames (default: as trained)"),
    Option("--horizon", type=int, help="predicted frames (default: as trained)"),
    Option("--horizons-ms", type=float, nargs="+", default=list(DEFAULT_HORIZONS_MS)),
)


def format_table(rows: dict[str, dict[float, float]], horizons: Sequence[float], title: str, unit: str) -> str:
    head = f"{title} ({unit})".ljust(34) + "".join(f"{int(ms):>9d}ms" for ms in horizons)
    lines = [head]
    for name, vals in rows.items():
        lines.append(name.ljust(34) + "".join(f"{vals[ms]:>11.2f}" if ms in vals else f"{'-':>11}" for ms in horizons))
    return "\n".join(lines)


def merge_baseline_rows(rows: dict[str, dict[float, float]]) -> tuple[dict[str, dict[float, float]], bool]:
    """``(rows, merged)``: the zero- and constant-velocity rows as one row when their values agree
    (to 1e-6 relative), else ``rows`` unchanged."""
    zero, const = rows.get("zero-velocity"), rows.get("constant velocity")
    if zero is None or const is None or zero.keys() != const.keys():
        return rows, False
    if not all(abs(zero[k] - const[k]) <= 1e-6 * max(1.0, abs(zero[k])) for k in zero):
        return rows, False
    out = {k: v for k, v in rows.items() if k not in ("zero-velocity", "constant velocity")}
    out[BOTH_BASELINES] = zero
    return out, True


@register(TASK_NAME, options=OPTIONS)
def evaluate_prediction(checkpoint: dict, args) -> dict:
    """Print global / root-relative MPJPE and angle error at each horizon for the model and both
    baselines, on the checkpoint's test split (or every clip under ``--data``)."""
    net, ctx, meta = load_motion_checkpoint(checkpoint, TASK_NAME, args.device)
    hp = meta.get("hparams", {})
    observe = args.observe or int(hp.get("observe", 30))
    horizon = args.horizon or int(hp.get("horizon", 30))
    horizons = [ms for ms, k in zip(args.horizons_ms, horizon_frames(ctx.fps, args.horizons_ms)) if k <= horizon]
    # prediction needs no labels: a plain folder of clips is evaluated even where they cannot be read
    batches, source = evaluation_windows(meta, ctx, args, observe + horizon, need_labels=False)
    sums: dict[str, dict[str, torch.Tensor]] = {}
    count = 0
    for batch in batches:
        x = batch["x"].to(args.device)
        with torch.no_grad():
            pred = net.predict(x[:, :observe], horizon, {k: v.to(args.device) for k, v in labels_of(batch).items()})
            errs = prediction_errors(ctx, x, pred, observe)
        for name, d in errs.items():
            for kind, e in d.items():
                sums.setdefault(name, {}).setdefault(kind, torch.zeros(horizon, dtype=torch.float64))
                sums[name][kind] += e.double().sum(0).cpu()
        count += x.shape[0]
    if not count:
        raise ValueError(f"no windows of {observe + horizon} frames in {source}")
    scale, unit = length_unit(ctx.skeleton)
    label = {"model": type(net).__name__, "zero_velocity": "zero-velocity", "constant_velocity": "constant velocity"}
    result: dict = {"task": TASK_NAME, "source": source, "windows": count, "observe": observe, "horizon": horizon,
                    "fps": ctx.fps, "unit": unit}
    print(f"checkpoint task: {TASK_NAME}   model: {type(net).__name__}   data: {source}   windows: {count}   "
          f"observe {observe} -> predict {horizon} frames at {ctx.fps:g} fps")
    for kind, title, factor, unit_k in (("global", "MPJPE global", scale, unit),
                                        ("root", "MPJPE root-relative", scale, unit),
                                        ("angle", "angle error", 180.0 / torch.pi, "deg")):
        rows = {}
        for name in ("model", "zero_velocity", "constant_velocity"):
            if kind not in sums.get(name, {}):
                continue
            per_frame = sums[name][kind] / count * factor
            rows[label[name]] = errors_at_horizons(per_frame.unsqueeze(0), ctx.fps, horizons)
            result.setdefault(kind, {})[name] = {str(int(ms)): v for ms, v in rows[label[name]].items()}
        if rows:
            merged = False
            if kind == "root":
                rows, merged = merge_baseline_rows(rows)
            print(format_table(rows, horizons, title, unit_k))
            if merged:
                print(BOTH_BASELINES_NOTE)
    return result
