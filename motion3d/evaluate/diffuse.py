"""Evaluation of ``diffuse`` checkpoints (motion diffusion), three tables on the split's windows:

1. generation: the ACTOR-style table of :func:`motion3d.evaluate.generate.generation_report`
   (recognition, FID, precision/recall, diversity, multimodality, foot skate, joint speed), with
   the real clips and, with ``--compare VAE.ckpt``, another generator beside it;
2. in-betweening, the LaFAN1 protocol (Harvey et al. 2020): 10 context frames, a gap of 15/30/45
   frames, one target frame; L2P (global positions in each window's canonical frame, normalised by
   training-window statistics; joints that never move are left out), L2Q (global quaternions) and
   NPSS, for the model (its gap's root path reconnected to the target exactly,
   :func:`motion3d.tasks.edit_clips.reconnect_root`), the interpolation baseline (root and every
   translation lerped, local rotations slerped) and zero-velocity;
3. prediction: MPJPE (global, root-relative) at 80-1000 ms for the model given the first
   ``--observe`` frames, mean over ``--best-of`` samples and the best of them, beside zero- and
   constant-velocity.
Root-path and sparse-joint tables are not here yet (``tools/edit_motion.py`` performs both edits).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from motion3d.evaluate.data import evaluation_windows, length_unit, stack_windows
from motion3d.evaluate.generate import GENERATION_OPTIONS, generation_report
from motion3d.evaluate.predict import format_table
from motion3d.evaluate.registry import Option, register
from motion3d.geometry.rotations import np_matrix_to_quat, slerp
from motion3d.metrics.inbetween import (LAFAN1_N_PAST, align_quat_signs, canonical_frame, l2p, l2q, npss,
                                        position_statistics, to_canonical)
from motion3d.metrics.motion import DEFAULT_HORIZONS_MS, errors_at_horizons, horizon_frames
from motion3d.motion import Motion
from motion3d.ops.facing import facing_directions
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import MotionContext, labels_of
from motion3d.tasks.diffuse import TASK_NAME
from motion3d.tasks.edit_clips import reconnect_root
from motion3d.tasks.predict import prediction_errors

__all__ = ["evaluate_diffusion", "inbetween_table", "OPTIONS"]

OPTIONS = GENERATION_OPTIONS + (
    Option("--steps", type=int, help="denoising steps (default: the checkpoint's)"),
    Option("--guidance", type=float, help="classifier-free guidance weight (default: the checkpoint's)"),
    Option("--gaps", type=int, nargs="*", default=[15, 30, 45], help="in-betweening gaps in frames (none: skip)"),
    Option("--observe", type=int, default=30, help="prediction: observed frames"),
    Option("--horizon", type=int, default=30, help="prediction: predicted frames (0: skip)"),
    Option("--best-of", type=int, default=1, help="prediction: samples per window (mean and best reported)"),
    Option("--skip-generation", action="store_true", help="only the in-betweening and prediction tables"),
)


@register(TASK_NAME, options=OPTIONS)
def evaluate_diffusion(checkpoint: dict, args) -> dict:
    """The three tables of the module docstring for a ``diffuse`` checkpoint."""
    options = {"steps": args.steps, "guidance": args.guidance}
    result: dict = {"task": TASK_NAME}
    if not args.skip_generation:
        result["generation"] = generation_report(checkpoint, args, TASK_NAME, options)
    net, ctx, meta = load_motion_checkpoint(checkpoint, TASK_NAME, args.device)
    if args.gaps:
        result["inbetween"] = inbetween_table(net, ctx, meta, args, options)
    if args.horizon:
        result["prediction"] = prediction_table(net, ctx, meta, args, options)
    return result


# ---------------------------------------------------------------------------------------------
# in-betweening
# ---------------------------------------------------------------------------------------------
def _globals(motions: list[Motion]) -> tuple[torch.Tensor, torch.Tensor]:
    """Global positions ``(B, T, J, 3)`` and quaternions ``(B, T, J, 4)`` xyzw of the motions."""
    pos, rot = zip(*(m.forward_kinematics()[::-1] for m in motions))
    return torch.from_numpy(np.stack(pos)), torch.from_numpy(np_matrix_to_quat(np.stack(rot)))


def _interpolated(m: Motion, last: int, target: int) -> Motion:
    """``m`` with frames ``last + 1 .. target - 1`` replaced by the interpolation baseline: root
    position and every joint translation lerped, local rotations slerped."""
    w = torch.arange(1, target - last, dtype=torch.float64) / (target - last)  # (G,)
    rot = torch.from_numpy(m.rotations)
    gap_rot = slerp(rot[last][None], rot[target][None], w[:, None, None]).numpy()
    lerp = lambda a: a[last][None] + w.numpy()[:, None, None] * (a[target] - a[last])[None]  # noqa: E731
    rotations = m.rotations.copy()
    rotations[last + 1:target] = gap_rot
    root = m.root_positions.copy()
    root[last + 1:target] = lerp(m.root_positions[:, None])[:, 0]
    tr = None if m.translations is None else m.translations.copy()
    if tr is not None:
        tr[last + 1:target] = lerp(m.translations)
    return m.replace(rotations=rotations, root_positions=root, translations=tr)


def _canonical(ctx: MotionContext, pos: torch.Tensor, quat: torch.Tensor, last: int, frame=None):
    """Positions and quaternions of windows in their LaFAN1 canonical frame: the pelvis' mean floor
    position at the origin, its facing at the last context frame along +X (``frame``: that transform,
    computed from these windows when not given)."""
    if frame is None:
        sk, rep = ctx.skeleton, ctx.representation
        forward = facing_directions(pos[:, last].numpy(), sk, getattr(rep, "facing", None))  # (B, 3)
        frame = canonical_frame(pos[:, :, ctx.root_joint], torch.from_numpy(np.asarray(forward)))
    p, q = to_canonical(*frame, positions=pos, rotations=quat)
    return p, q, frame


def inbetween_table(net, ctx: MotionContext, meta: dict, args, options: dict) -> dict:
    """The LaFAN1 in-betweening table (module docstring) for ``args.gaps``; returns ``{gap: {method:
    {"l2p", "l2q", "npss"}}}``."""
    out: dict = {}
    n_past = LAFAN1_N_PAST
    print(f"in-betweening (LaFAN1 protocol): {n_past} context frames, a target frame after the gap; "
          f"{args.split} windows of the checkpoint's data")
    print(f"{'gap':>5}  {'method':<26}{'L2P':>10}{'L2Q':>10}{'NPSS':>10}")
    for gap in args.gaps:
        L = n_past + gap + 1
        if L > getattr(net, "max_len", L):
            print(f"{gap:>5}  skipped: {L} frames exceed the model's max_len")
            continue
        batches, source = evaluation_windows(meta, ctx, args, L)
        real = stack_windows(batches)
        if not real:
            print(f"{gap:>5}  no windows of {L} frames in {source}")
            continue
        train = stack_windows(evaluation_windows(meta, ctx, SimpleNamespace(**{**vars(args), "data": None,
                                                                                "split": "train", "limit": 0}), L)[0])
        x = real["x"]
        mask = torch.zeros_like(x, dtype=torch.bool)
        mask[:, :n_past] = True
        mask[:, -1] = True
        gen = []
        g = torch.Generator().manual_seed(0)
        for i in range(0, x.shape[0], args.batch_size):
            sl = slice(i, i + args.batch_size)
            lab = {k: v[sl].to(args.device) for k, v in labels_of(real).items()}
            y = net.sample(x[sl].shape[0], L, lab, generator=g,
                           constraints={"mask": mask[sl].to(args.device), "values": x[sl].to(args.device)},
                           **{k: v for k, v in options.items() if v is not None}).cpu()
            gen += [reconnect_root(ctx, y[j], x[sl][j], mask[sl][j]) for j in range(y.shape[0])]
        truth = [ctx.decode(w) for w in x]
        methods = {"diffusion (ours)": [ctx.decode(w) for w in gen],
                   "interpolation": [_interpolated(m, n_past - 1, L - 1) for m in truth],
                   "zero-velocity": [m[np.minimum(np.arange(L), n_past - 1)] for m in truth]}
        t_pos, t_quat = _globals(truth)
        t_pos, t_quat, frame = _canonical(ctx, t_pos, t_quat, n_past - 1)
        tr_pos, _, _ = _canonical(ctx, *_globals([ctx.decode(w) for w in train["x"]]), n_past - 1)
        moving = tr_pos.flatten(0, 1).std(0).amin(-1) > 1e-6 * ctx.skeleton.height()  # (J,)
        mean, std = position_statistics(tr_pos[:, :, moving])
        gap_frames = slice(n_past, L - 1)
        out[gap] = {}
        for name, motions in methods.items():
            p, q = _globals(motions)
            p, q, _ = _canonical(ctx, p, q, n_past - 1, frame)
            ref = t_quat[:, n_past - 1]
            qa, qb = align_quat_signs(q[:, gap_frames], t_quat[:, gap_frames], ref)
            row = {"l2p": l2p(p[:, gap_frames][:, :, moving], t_pos[:, gap_frames][:, :, moving], mean, std),
                   "l2q": l2q(q[:, gap_frames], t_quat[:, gap_frames], ref),
                   "npss": npss(qa.flatten(2), qb.flatten(2))}
            out[gap][name] = row
            print(f"{gap:>5}  {name:<26}{row['l2p']:>10.3f}{row['l2q']:>10.3f}{row['npss']:>10.4f}")
        print(f"       ({x.shape[0]} windows; L2P statistics from {train['x'].shape[0]} training windows, "
              f"{int(moving.sum())} of {ctx.skeleton.num_joints} joints move)")
    return out


# ---------------------------------------------------------------------------------------------
# prediction
# ---------------------------------------------------------------------------------------------
def prediction_table(net, ctx: MotionContext, meta: dict, args, options: dict) -> dict:
    """MPJPE at the horizons for the model given ``args.observe`` frames (mean and best of
    ``args.best_of`` samples), beside zero- and constant-velocity."""
    O, H = int(args.observe), int(args.horizon)
    batches, source = evaluation_windows(meta, ctx, args, O + H)
    real = stack_windows(batches)
    if not real:
        print(f"prediction: no windows of {O + H} frames in {source}")
        return {}
    x = real["x"]
    k = max(1, int(args.best_of))
    errs: dict[str, list[torch.Tensor]] = {}
    g = torch.Generator().manual_seed(0)
    for i in range(0, x.shape[0], args.batch_size):
        xb = x[i:i + args.batch_size]
        lab = {kk: v[i:i + args.batch_size].to(args.device) for kk, v in labels_of(real).items()}
        draws = []
        for _ in range(k):
            y = net.sample(xb.shape[0], O + H, lab, generator=g, constraints={"seed": xb[:, :O].to(args.device)},
                           **{kk: v for kk, v in options.items() if v is not None}).cpu()
            e = prediction_errors(ctx, xb, y[:, O:], O)
            draws.append(e)
        stack = {kind: torch.stack([d["model"][kind] for d in draws]) for kind in ("global", "root")}  # (k, B, H)
        best = stack["global"].mean(-1).argmin(0)  # (B,) the draw with the lowest mean global error
        rows = {"mean": {kind: s.mean(0) for kind, s in stack.items()},
                "best": {kind: s[best, torch.arange(s.shape[1])] for kind, s in stack.items()},
                "zero_velocity": {kind: draws[0]["zero_velocity"][kind] for kind in ("global", "root")},
                "constant_velocity": {kind: draws[0]["constant_velocity"][kind] for kind in ("global", "root")}}
        for name, d in rows.items():
            for kind, e in d.items():
                errs.setdefault(f"{name}/{kind}", []).append(e)
    scale, unit = length_unit(ctx.skeleton)
    horizons = [ms for ms, f in zip(DEFAULT_HORIZONS_MS, horizon_frames(ctx.fps, DEFAULT_HORIZONS_MS)) if f <= H]
    title = {"mean": f"diffusion, mean of {k}" if k > 1 else "diffusion", "best": f"diffusion, best of {k}",
             "zero_velocity": "zero-velocity", "constant_velocity": "constant velocity"}
    result: dict = {}
    print(f"prediction: observe {O} -> predict {H} frames at {ctx.fps:g} fps, {x.shape[0]} windows of {source}")
    for kind, label in (("global", "MPJPE global"), ("root", "MPJPE root-relative")):
        table = {}
        for name in ("mean", "best", "zero_velocity", "constant_velocity"):
            if name == "best" and k == 1:
                continue
            per_frame = torch.cat(errs[f"{name}/{kind}"]).double().mean(0, keepdim=True) * scale
            table[title[name]] = errors_at_horizons(per_frame, ctx.fps, horizons)
            result.setdefault(kind, {})[name] = {str(int(ms)): v for ms, v in table[title[name]].items()}
        print(format_table(table, horizons, label, unit))
    return result
