"""Evaluation of ``cleanup`` checkpoints: for each corruption kind and strength, the checkpoint's
windows (val split by default) are corrupted with a fixed seed and repaired by each method; rows:

* ``input``: the corrupted clip as given to every method (gaps: linear interpolation of the
  features, i.e. SLERP-like filling of the rotations, and the root's steps interpolated, then
  shifted to land where the capture has the root after the gap: :func:`motion3d.tasks.cleanup.net_input`);
* ``butterworth`` / ``savgol`` / ``median``: :mod:`motion3d.ops.filters` on the input's rotation
  channels (6D, renormalised on decoding) and on its root trajectory integrated (positions and
  heading, then differentiated again: a non-linear filter such as the median, run on the velocity
  channels themselves, would integrate its bias on a skewed step velocity into a drift of the whole
  body; filtering positions is also what ``tools/cleanup.py --filter`` does);
* ``IK feet`` (foot sliding only): the two-bone IK foot clean-up on contacts read off the input;
* the model (:func:`motion3d.tasks.cleanup.repair`: two passes, root anchored, broadband noise
  low-passed), and, to show what each step does, its first pass alone, its output before the root
  anchor, its output before the low-pass (:func:`motion3d.tasks.cleanup.smooth_broadband`) and
  before the drift that slides the feet is taken off (:func:`motion3d.tasks.cleanup.remove_drift`).

Columns, against the clean window: MPJPE (global positions, decoded from the same start), joint
angle error (local rotations, degrees), jitter (mean joint acceleration, body heights / s^2), bone
length error (body heights; 0 by construction for a rotation representation, printed as a check)
and foot skate (:func:`motion3d.metrics.motion.foot_skate`). A first table passes clean windows
through each filter and the model: a clean-up model must leave clean capture alone.
"""
from __future__ import annotations

import numpy as np
import torch

from motion3d.data.corrupt import KINDS, Corruption, corrupt_features
from motion3d.evaluate.data import DATA_OPTIONS, evaluation_windows, length_unit
from motion3d.evaluate.registry import Option, register
from motion3d.metrics.motion import angle_error_per_frame, foot_skate
from motion3d.ops.filters import FILTERS, smooth
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.cleanup import ANCHOR_CUTOFF_HZ, REFILL_MAX_S, TASK_NAME, apply_net, filter_trajectory, repair
from motion3d.tasks.cleanup_clips import plant_own_feet
from motion3d.tasks.context import MotionContext

__all__ = ["evaluate_cleanup", "filter_features", "filter_trajectory", "clip_metrics", "OPTIONS", "METRICS"]

METRICS = ("mpjpe", "angle", "jitter", "bone", "skate")

OPTIONS = (
    *[o if o.dest != "split" else Option("--split", default="val", choices=["train", "val", "test"],
                                         help="split of the checkpoint's data (default val)") for o in DATA_OPTIONS],
    Option("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS), help="corruption kinds to measure"),
    Option("--strengths", type=float, nargs="+", default=[1.0, 2.0],
           help="multiples of the trained magnitudes (angles, lengths, speeds, gap and swap durations)"),
    Option("--gap-seconds", type=float, nargs="*", default=[0.5],
           help="also gaps of exactly these durations (the issue's 0.5 s row; none: skip)"),
    Option("--anchor-hz", type=float, default=ANCHOR_CUTOFF_HZ,
           help="root path below this frequency follows the input (default inf: all of it where measured; "
                "0: the network's own; see tasks.cleanup)"),
    Option("--gate-threshold", type=float, default=None,
           help="a gated CleanupNet opens where its logit exceeds this (default: the checkpoint's)"),
    Option("--refill-s", type=float, default=REFILL_MAX_S,
           help="joints the gate finds corrupted for at most this long (s) are refilled in a second pass "
                "(tasks.cleanup.repair; 0: one pass)"),
    Option("--seed", type=int, default=0, help="seed of the corruptions"),
)


def _cases(trained: Corruption, kinds, strengths, gap_seconds) -> list[tuple[str, str, Corruption | None]]:
    """``(title, result key, corruption)`` of each table: the clean pass-through, each kind at each
    strength, and gaps of fixed durations."""
    cases: list[tuple[str, str, Corruption | None]] = [("clean input (pass-through)", "clean", None)]
    cases += [(f"{k} x{s:g}", f"{k}@{s:g}", trained.only(k, s)) for k in kinds for s in strengths]
    if "gaps" in kinds:
        for sec in gap_seconds or ():
            c = trained.only("gaps")
            c.kinds["gaps"].update(min_s=float(sec), max_s=float(sec))
            cases.append((f"gaps of {sec:g} s", f"gaps={sec:g}s", c))
    return cases


def filter_features(ctx: MotionContext, x: torch.Tensor, kind: str) -> torch.Tensor:
    """A classical filter on normalised features ``x (B, T, D)`` over time: the 6D rotations (made
    rotations again when decoded) and translations, and the root trajectory through its integral
    (:func:`filter_trajectory`); contacts untouched."""
    f = ctx.normalizer.denormalize(x.double()).numpy()
    rep = ctx.representation
    ch = np.zeros(ctx.dim, bool)
    ch[rep.slice("rotations")] = True
    if "translations" in rep.layout:
        ch[rep.slice("translations")] = True
    f[..., ch] = smooth(f[..., ch], kind, ctx.fps, axis=1)
    f[..., 0:4] = filter_trajectory(f[..., 0:4], kind, ctx.fps)
    return ctx.normalizer.normalize(torch.from_numpy(f)).float()


def clip_metrics(ctx: MotionContext, pred: torch.Tensor, clean: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-window metrics ``{name: (B,)}`` of normalised features ``pred`` against ``clean (B, T, D)``:
    ``mpjpe`` (file units), ``angle`` (radians), ``jitter`` (body heights / s^2), ``bone`` (body
    heights), ``skate`` (body heights / s)."""
    rep, sk = ctx.representation, ctx.skeleton
    h = float(sk.height())
    p = ctx.decode_positions(pred)  # (B, T, J, 3)
    c = ctx.decode_positions(clean)
    qp = rep.decode_kinematics(ctx.normalizer.denormalize(pred.double()))[0]
    qc = rep.decode_kinematics(ctx.normalizer.denormalize(clean.double()))[0]
    body = torch.as_tensor(list(rep.body))
    acc = (p[:, 2:] - 2 * p[:, 1:-1] + p[:, :-2]).norm(dim=-1) * ctx.fps ** 2 / h  # (B, T-2, J)
    # bones below the pelvis (its ancestors' offsets are not bones: Bandai-Namco's Hips moves)
    kids = [j for j in range(1, sk.num_joints) if int(sk.parents[j]) in set(rep.body)]
    par = torch.as_tensor(sk.parents[kids])
    bones = (p[:, :, kids] - p[:, :, par]).norm(dim=-1)  # (B, T, K)
    rest = torch.as_tensor(np.linalg.norm(sk.offsets[kids], axis=-1), dtype=bones.dtype)
    return {"mpjpe": (p - c).norm(dim=-1).mean((1, 2)),
            "angle": angle_error_per_frame(qp[..., body, :], qc[..., body, :]).mean(-1).float(),
            "jitter": acc.mean((1, 2)),
            "bone": ((bones - rest).abs() / h).mean((1, 2)),
            "skate": foot_skate(p, ctx.feet, h, ctx.fps) if ctx.feet else torch.zeros(p.shape[0])}


def _ik_feet(ctx: MotionContext, x: torch.Tensor) -> torch.Tensor:
    """The IK foot clean-up of normalised windows ``x (B, T, D)`` (decoded, planted, encoded)."""
    rep, norm = ctx.representation, ctx.normalizer
    clips = rep.decode(norm.denormalize(x.double()), fps=ctx.fps)
    planted = np.stack([rep.encode(plant_own_feet(m)) for m in clips]).astype(np.float64)
    out = torch.from_numpy(norm.normalize(planted)).float()
    if "contacts" in rep.layout:  # the input's (hidden) contact channels, as the other methods keep them
        out[..., rep.slice("contacts")] = x[..., rep.slice("contacts")]
    return out


def _format(title: str, rows: dict[str, dict[str, float]], unit: str) -> str:
    head = f"{title:<34}" + f"{'MPJPE ' + unit:>12}{'angle deg':>11}{'jitter':>10}{'bone':>9}{'skate':>9}"
    lines = [head]
    for name, v in rows.items():
        lines.append(f"{name:<34}{v['mpjpe']:>12.2f}{v['angle']:>11.2f}{v['jitter']:>10.2f}{v['bone']:>9.4f}"
                     f"{v['skate']:>9.3f}")
    return "\n".join(lines)


@register(TASK_NAME, options=OPTIONS, title="motion clean-up vs classical filters")
def evaluate_cleanup(checkpoint: dict, args) -> dict:
    """Print the clean pass-through (clean windows through each classical filter and the model),
    then, per corruption kind and strength, the metrics of the corrupted input, each classical
    filter (and the IK foot clean-up for foot sliding) and the model."""
    net, ctx, meta = load_motion_checkpoint(checkpoint, TASK_NAME, args.device)
    trained = Corruption.of((meta.get("hparams") or {}).get("corruption"))
    if getattr(args, "gate_threshold", None) is not None:
        if getattr(net, "gate", None) is None:
            raise ValueError(f"--gate-threshold: the checkpoint's {type(net).__name__} has no gate")
        net.gate_threshold = float(args.gate_threshold)
    gated = getattr(net, "gate", None) is not None
    threshold = float(getattr(net, "gate_threshold", 0.0))

    def run(xi: torch.Tensor, ki: torch.Tensor):
        y, logits = apply_net(net, xi.to(args.device), ki.to(args.device))
        return y.float().cpu(), (None if logits is None else logits.float().cpu())

    window = int(ctx.window or 60)
    batches, source = evaluation_windows(meta, ctx, args, window, need_labels=False)
    windows = [b["x"] for b in batches]
    if not windows:
        raise ValueError(f"no windows of {window} frames in {source}")
    scale, unit = length_unit(ctx.skeleton)
    count = sum(int(w.shape[0]) for w in windows)
    print(f"checkpoint task: {TASK_NAME}   model: {type(net).__name__}   data: {source}   windows: {count} "
          f"of {window} frames at {ctx.fps:g} fps")
    print("metrics against the clean windows: MPJPE, joint angle error, jitter (mean joint acceleration, body "
          "heights/s^2), bone length error (body heights), foot skate (body heights/s)")
    result: dict = {"task": TASK_NAME, "source": source, "windows": count, "unit": unit, "tables": {}}
    # the clean windows' own jitter and foot skate: the same reference row under every table
    reference = {m: 0.0 for m in METRICS}
    for x in windows:
        ref = clip_metrics(ctx, x, x)
        for k in ("jitter", "skate"):
            reference[k] += float(ref[k].double().sum())
    reference = {k: reference[k] / count for k in METRICS}
    for title, key, corruption in _cases(trained, args.kinds, args.strengths, getattr(args, "gap_seconds", None)):
        kind = "clean" if corruption is None else next(iter(corruption.kinds))
        sums: dict[str, dict[str, float]] = {}
        g = torch.Generator().manual_seed(int(args.seed))
        for x in windows:
            xc, known = x, None
            if kind != "clean":
                xc, known, _ = corrupt_features(ctx.representation, ctx.normalizer, x, corruption, g)
            with torch.no_grad():
                out = repair(ctx, run, xc, known, args.anchor_hz, args.refill_s, threshold,
                             one_pass=args.refill_s > 0 and gated)
            xi = out["input"]  # what every method is given (the network's input: gaps filled)
            methods = {"input" if kind != "gaps" else "input (linear / SLERP fill)": xi}
            for f in FILTERS:
                methods[f] = filter_features(ctx, xi, f)
            if kind == "foot_slide":
                methods["IK feet"] = _ik_feet(ctx, xi)
            methods[f"model ({type(net).__name__})"] = out["cleaned"]
            if "one_pass" in out:
                methods["model, one pass (no refill)"] = out["one_pass"]
            if args.anchor_hz > 0:
                methods["model, root not anchored"] = out["unanchored"]
            if "unsmoothed" in out:
                methods["model, no broadband low-pass"] = out["unsmoothed"]
            if "drifting" in out:
                methods["model, drift not removed"] = out["drifting"]
            if args.refill_s > 0:  # the second pass without the rotation spikes a Hampel identifier finds
                with torch.no_grad():
                    methods["model, no rotation Hampel"] = repair(ctx, run, xc, known, args.anchor_hz, args.refill_s,
                                                                  threshold, rotation_spike=None)["cleaned"]
            for name, y in methods.items():
                m = clip_metrics(ctx, y, x)
                row = sums.setdefault(name, {k: 0.0 for k in METRICS})
                for k in METRICS:
                    row[k] += float(m[k].double().sum())
        rows = {}
        for name, v in sums.items():
            rows[name] = {k: v[k] / count * (scale if k == "mpjpe" else 180 / np.pi if k == "angle" else 1.0)
                          for k in METRICS}
        rows["(clean reference)"] = dict(reference)
        print()
        print(_format(title, rows, unit))
        result["tables"][key] = rows
        filt = [rows[f]["mpjpe"] for f in FILTERS if f in rows]
        model = next(v for n, v in rows.items() if n.startswith("model"))["mpjpe"]
        if filt and min(filt) > 0:
            best = min(filt)
            print(f"  model / best classical filter MPJPE{' on clean input' if kind == 'clean' else ''}: "
                  f"{model / best:.2f}")
            if kind == "clean" and rows.get("butterworth", {}).get("mpjpe", 0) > 0:
                print(f"  model / Butterworth (default cut-off) MPJPE on clean input: "
                      f"{model / rows['butterworth']['mpjpe']:.2f}")
        if kind == "gaps":
            fill = next(v for n, v in rows.items() if n.startswith("input"))["mpjpe"]
            if fill > 0:
                print(f"  model / linear-SLERP filling MPJPE: {model / fill:.2f}")
    return result
