"""Evaluation of ``diffuse`` checkpoints (motion diffusion), three tables on the split's windows:

1. generation: the ACTOR-style table of :func:`motion3d.evaluate.generate.generation_report`
   (recognition, FID, precision/recall, diversity, multimodality, foot skate, joint speed), with
   the real clips and, with ``--compare VAE.ckpt``, another generator beside it;
2. in-betweening, the LaFAN1 protocol (Harvey et al. 2020): 10 context frames, a gap of 15/30/45
   frames, one target frame; L2P (global positions in each window's canonical frame, normalised by
   training-window statistics; joints that never move are left out), L2Q (global quaternions) and
   NPSS, for the model (its gap's root path reconnected to the target exactly,
   :func:`motion3d.tasks.edit_clips.reconnect_root`; it generates a window of the length it was
   trained on, the frames after the target unknown and then dropped), the interpolation baseline (root and every
   translation lerped, local rotations slerped) and zero-velocity;
3. prediction: MPJPE (global, root-relative) at 80-1000 ms for the model given the first
   ``--observe`` frames, mean over ``--best-of`` samples and the best of them, beside zero- and
   constant-velocity.
4. root path: the root trajectory channels of each real window given (every frame), the body
   generated with the window's labels: root error (cm, global position of the root joint against
   the given window's, both decoded from the origin) and the foot skate of the samples beside the
   real windows' (and their ratio), as drawn and with the feet planted (``--plant-steps``
   refinement steps of :func:`motion3d.tasks.diffuse.plant_feet` on the same samples, as
   ``tools/edit_motion.py --root-from`` does);
5. sparse joints (``--joints``, default head, hands, feet: the groups of
   :data:`motion3d.tasks.edit_clips.TRACKER_JOINTS`, resolved on the checkpoint's skeleton as
   ``tools/edit_motion.py --joints-from`` does): the global positions of those joints of each real
   window given, the rest generated without labels by reconstruction guidance through forward
   kinematics (:func:`motion3d.tasks.diffuse.position_guide`, ``--guide-scale``/``--guide-iters``
   as the edit tool's defaults); constraint error (cm) on the given joints, and MPJPE (cm) of the
   OTHER joints against the real window, global and root-relative, beside the nearest-neighbour-pose
   baseline (:func:`motion3d.metrics.motion.nearest_pose`): for each frame, the training-split pose
   whose given joints, relative to its root joint, are nearest to the given joints relative to the
   REAL window's root joint; the chosen pose is placed at that real root position (translation only,
   no rotation: every window is decoded facing the same way at its first frame). The baseline is thus
   given the true root position, which the diffusion model is not; the root-relative column compares
   body poses alone.

In-betweening and sparse joints also report the mean of ``--mean-of`` samples (default
:data:`MEAN_OF`; :meth:`MotionDiffusion.sample` ``samples``) beside one sample: one answer for
metrics that score one answer (L2P, MPJPE), the estimate of the posterior mean.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from motion3d.evaluate.data import evaluation_windows, length_unit, stack_windows
from motion3d.evaluate.generate import GENERATION_OPTIONS, generation_report
from motion3d.evaluate.predict import BOTH_BASELINES_NOTE, format_table, merge_baseline_rows
from motion3d.evaluate.registry import Option, register
from motion3d.geometry.rotations import np_matrix_to_quat, slerp
from motion3d.metrics.inbetween import (LAFAN1_N_PAST, align_quat_signs, canonical_frame, l2p, l2q, npss,
                                        position_statistics, to_canonical)
from motion3d.metrics.motion import (DEFAULT_HORIZONS_MS, errors_at_horizons, foot_acceleration, foot_skate,
                                    horizon_frames, masked_position_error, mpjpe, nearest_pose)
from motion3d.models.motion.diffusion import SAMPLERS, prefix_constraint
from motion3d.motion import Motion
from motion3d.ops.facing import facing_directions
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import MotionContext, labels_of
from motion3d.tasks.diffuse import (PLANT_STEPS, TASK_NAME, known_frame_positions, known_frames, plant_feet,
                                    position_guide, root_channels)
from motion3d.tasks.edit_clips import GUIDE_ITERS, GUIDE_REFINE, MotionEditor, guide_scale_for, reconnect_root
from motion3d.tasks.predict import prediction_errors

__all__ = ["evaluate_diffusion", "inbetween_table", "prediction_table", "root_path_table", "sparse_joints_table",
           "OPTIONS"]

#: ``--mean-of``: samples averaged into one estimate (:meth:`MotionDiffusion.sample` ``samples``)
MEAN_OF = 4

OPTIONS = GENERATION_OPTIONS + (
    Option("--steps", type=int, help="denoising steps (default: the checkpoint's)"),
    Option("--guidance", type=float, help="classifier-free guidance weight (default: the checkpoint's)"),
    Option("--sampler", choices=list(SAMPLERS), help="DDIM (deterministic) or DDPM ancestral steps (default: the "
                                                       "checkpoint's)"),
    Option("--gaps", type=int, nargs="*", default=[15, 30, 45], help="in-betweening gaps in frames (none: skip)"),
    Option("--observe", type=int, default=30, help="prediction: observed frames"),
    Option("--horizon", type=int, default=30, help="prediction: predicted frames (0: skip)"),
    Option("--best-of", type=int, default=1, help="prediction: samples per window (mean and best reported)"),
    Option("--skip-generation", action="store_true", help="only the in-betweening, prediction, root-path and "
                                                              "sparse-joint tables"),
    Option("--skip-root-path", action="store_true", help="no root-path table"),
    Option("--joints", nargs="*", default=["head", "hands", "feet"],
           help="sparse joints given: joint names or the groups head, hands, feet, hips (none: skip the table)"),
    Option("--guide-scale", type=float,
           help="sparse joints: reconstruction guidance step (default: tools/edit_motion.py's for the checkpoint, "
                "guide_scale_for)"),
    Option("--guide-iters", type=int, default=GUIDE_ITERS, help="sparse joints: guidance steps per denoising step"),
    Option("--guide-refine", type=int, default=GUIDE_REFINE,
           help="sparse joints: Adam steps on the finished sample towards the given joints (0: none)"),
    Option("--mean-of", type=int, default=MEAN_OF,
           help="in-betweening and sparse joints: also the mean of this many samples as the estimate, a row beside "
                "one sample's (0 or 1: none)"),
    Option("--plant-steps", type=int, default=PLANT_STEPS,
           help="root path: also a row with the samples' feet planted by this many refinement steps (plant_feet; 0: "
                "none)"),
    Option("--nn-poses", type=int, default=50000,
           help="sparse joints: most training poses searched by the nearest-neighbour baseline, evenly spaced "
                "(0: all)"),
)


@register(TASK_NAME, options=OPTIONS)
def evaluate_diffusion(checkpoint: dict, args) -> dict:
    """The three tables of the module docstring for a ``diffuse`` checkpoint."""
    options = {"steps": args.steps, "guidance": args.guidance, "sampler": args.sampler}
    result: dict = {"task": TASK_NAME}
    if not args.skip_generation:
        result["generation"] = generation_report(checkpoint, args, TASK_NAME, options)
    net, ctx, meta = load_motion_checkpoint(checkpoint, TASK_NAME, args.device)
    if args.gaps:
        result["inbetween"] = inbetween_table(net, ctx, meta, args, options)
    if args.horizon:
        result["prediction"] = prediction_table(net, ctx, meta, args, options)
    if not args.skip_root_path:
        result["root_path"] = root_path_table(net, ctx, meta, args, options)
    if args.joints:
        result["sparse_joints"] = sparse_joints_table(net, ctx, meta, args, options)
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
        # the model generates its own window (the frames after the target unknown, then dropped): the
        # length it was trained on, whatever the gap, as the edit tool does
        n_gen = max(L, MotionEditor(net, ctx).window)
        pad = lambda a: torch.cat([a, a.new_zeros(a.shape[0], n_gen - L, a.shape[2])], 1)  # noqa: E731
        truth = [ctx.decode(w) for w in x]
        counts = _sample_counts(args)
        gens = {k: torch.Generator().manual_seed(0) for k in counts}  # each estimate draws as if alone
        gen: dict[int, list] = {k: [] for k in counts}
        for i in range(0, x.shape[0], args.batch_size):
            sl = slice(i, i + args.batch_size)
            lab = {kk: v[sl].to(args.device) for kk, v in labels_of(real).items()}
            c = {"mask": pad(mask[sl]), "values": pad(x[sl]), **_frame_positions(net, ctx, pad(x[sl]), pad(mask[sl]))}
            c = {kk: v.to(args.device) for kk, v in c.items()}
            for k in counts:
                y = net.sample(x[sl].shape[0], n_gen, lab, generator=gens[k], samples=k, constraints=c,
                               **{kk: v for kk, v in options.items() if v is not None}).cpu()[:, :L]
                gen[k] += [reconnect_root(ctx, y[j], x[sl][j], mask[sl][j]) for j in range(y.shape[0])]
        methods = {_estimate_name(k): [ctx.decode(w) for w in gen[k]] for k in counts}
        methods.update({"interpolation": [_interpolated(m, n_past - 1, L - 1) for m in truth],
                        "zero-velocity": [m[np.minimum(np.arange(L), n_past - 1)] for m in truth]})
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


def _sample_counts(args) -> list[int]:
    """The estimates a table reports: one sample, and the mean of ``--mean-of`` samples when > 1."""
    k = int(getattr(args, "mean_of", 0) or 0)
    return [1, k] if k > 1 else [1]


def _estimate_name(samples: int) -> str:
    """The printed name of the estimate from ``samples`` samples."""
    return "diffusion (ours)" if samples == 1 else f"diffusion, mean of {samples}"


def _row_key(samples: int) -> str:
    """The result key of the estimate from ``samples`` samples."""
    return "diffusion" if samples == 1 else f"diffusion_mean_of_{samples}"


def _frame_positions(net, ctx: MotionContext, x: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"positions", "position_mask"}`` of the known whole frames of windows ``x`` (``mask``;
    :func:`motion3d.tasks.diffuse.known_frame_positions`) when ``net`` takes joint positions
    (``condition_joints``); else ``{}``."""
    if not getattr(net, "condition_joints", 0):
        return {}
    positions, known = known_frame_positions(ctx, x, mask)
    return {"positions": positions, "position_mask": known}


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
        c = prefix_constraint(xb[:, :O], O + H)
        c = {kk: v.to(args.device) for kk, v in {**c, **_frame_positions(net, ctx, c["values"], c["mask"])}.items()}
        for _ in range(k):
            y = net.sample(xb.shape[0], O + H, lab, generator=g, constraints=c,
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
        merged = False
        if kind == "root":  # root-relative, the two baselines are one row (issue 17 item 13)
            table, merged = merge_baseline_rows(table)
        print(format_table(table, horizons, label, unit))
        if merged:
            print(BOTH_BASELINES_NOTE)
    return result


# ---------------------------------------------------------------------------------------------
# root path and sparse joints
# ---------------------------------------------------------------------------------------------
def _centimetres(ctx: MotionContext) -> tuple[float, str]:
    """``(factor, "cm")`` turning the data's lengths into centimetres, or ``(1, "units")``."""
    scale, unit = length_unit(ctx.skeleton)
    return (scale / 10.0, "cm") if unit == "mm" else (1.0, "units")


def _windows(meta: dict, ctx: MotionContext, args, what: str) -> tuple[dict, str, int]:
    length = args.length or int(ctx.window or 60)
    batches, source = evaluation_windows(meta, ctx, args, length)
    real = stack_windows(batches)
    if not real:
        raise ValueError(f"{what}: no windows of {length} frames in {source}")
    return real, source, length


def root_path_table(net, ctx: MotionContext, meta: dict, args, options: dict) -> dict:
    """Root path (module docstring, 4.): ``{"root_error": cm, "foot_skate": {"generated", "real",
    "ratio"}, "windows": N, "unit"}`` for the samples as drawn, and the same under ``"planted"`` for
    the same samples with their feet planted (``--plant-steps`` refinement steps of
    :func:`motion3d.tasks.diffuse.plant_feet`; absent with 0)."""
    real, source, L = _windows(meta, ctx, args, "root path")
    x = real["x"]
    mask = known_frames(torch.ones(x.shape[0], L, dtype=torch.bool), root_channels(ctx))  # (N, L, D)
    plant = int(getattr(args, "plant_steps", 0) or 0)
    cm, unit = _centimetres(ctx)
    p_real = ctx.decode_positions(x.float())  # (N, L, J, 3)
    h, r = ctx.skeleton.height(), ctx.root_joint
    skate_real = float(foot_skate(p_real, ctx.feet, h, ctx.fps).mean()) if ctx.feet else float("nan")
    pops = lambda p: (float(torch.quantile(foot_acceleration(p, ctx.feet, h, ctx.fps).flatten().double(), 0.99))  # noqa: E731
                      if ctx.feet and L > 2 else float("nan"))
    g = torch.Generator().manual_seed(0)
    drawn, planted = [], []
    for i in range(0, x.shape[0], args.batch_size):
        sl = slice(i, i + args.batch_size)
        lab = {k: v[sl].to(args.device) for k, v in labels_of(real).items()}
        m = mask[sl].to(args.device)
        y = net.sample(x[sl].shape[0], L, lab, generator=g, constraints={"mask": m, "values": x[sl].to(args.device)},
                       **{k: v for k, v in options.items() if v is not None})
        drawn.append(y.cpu())
        if plant > 0:
            planted.append(plant_feet(ctx, y, m, plant).cpu())
    rows = {}
    for name, gen in (("drawn", drawn), ("planted", planted)):
        if not gen:
            continue
        p_gen = ctx.decode_positions(torch.cat(gen).float())
        skate = float(foot_skate(p_gen, ctx.feet, h, ctx.fps).mean()) if ctx.feet else float("nan")
        rows[name] = {"root_error": float((p_gen[:, :, r] - p_real[:, :, r]).norm(dim=-1).mean()) * cm,
                      "foot_skate": {"generated": skate, "real": skate_real,
                                     "ratio": skate / skate_real if skate_real > 0 else float("nan")},
                      "foot_acceleration_p99": pops(p_gen)}
    print(f"root path: the root trajectory of each window given (every frame), the body generated with its "
          f"labels; {x.shape[0]} windows of {source}")
    print(f"{'':<38}{'root error':>12}{'foot skate':>12}{'x real':>8}{'foot acc. p99':>15}")
    title = {"drawn": "diffusion (ours)", "planted": f"diffusion, feet planted ({plant} steps)"}
    for name, row in rows.items():
        print(f"{title[name]:<38}{row['root_error']:>9.2f} {unit:<2}{row['foot_skate']['generated']:>12.3f}"
              f"{row['foot_skate']['ratio']:>8.2f}{row['foot_acceleration_p99']:>15.1f}")
    real_pops = pops(p_real)
    print(f"{'real clips':<38}{'':>12}{skate_real:>12.3f}{1.0:>8.2f}{real_pops:>15.1f}")
    print("       (root error: global root-joint position vs the given window's; foot skate in body heights/s; foot "
          "acc. p99: 99th percentile of the feet's acceleration, body heights/s^2, high where a foot jumps; feet planted: "
          "the samples refined so that the feet their contact channels call planted stay still)")
    out = {**rows["drawn"], "unit": unit, "windows": int(x.shape[0]), "real_foot_acceleration_p99": real_pops}
    if "planted" in rows:
        out["planted"] = {**rows["planted"], "steps": plant}
    return out


def _training_poses(meta: dict, ctx: MotionContext, args, length: int, most: int) -> torch.Tensor:
    """Root-relative poses ``(N, J, 3)`` of the training split's windows (each window decoded from
    the origin), at most ``most`` of them evenly spaced (0: all)."""
    ns = SimpleNamespace(**{**vars(args), "data": None, "split": "train", "limit": 0, "content": None})
    train = stack_windows(evaluation_windows(meta, ctx, ns, length)[0])
    if not train:
        raise ValueError("sparse joints: the nearest-neighbour baseline needs the checkpoint's training windows, "
                         "and none could be read")
    pos = torch.cat([ctx.decode_positions(train["x"][i:i + 256].float()) for i in range(0, train["x"].shape[0], 256)])
    poses = pos.flatten(0, 1)  # (N * T, J, 3)
    if most and poses.shape[0] > most:
        poses = poses[torch.linspace(0, poses.shape[0] - 1, most).round().long()]
    return poses - poses[:, ctx.root_joint:ctx.root_joint + 1]


def sparse_joints_table(net, ctx: MotionContext, meta: dict, args, options: dict) -> dict:
    """Sparse joints (module docstring, 5.): ``{"joints": names, "diffusion": row, "nearest_pose":
    row}`` with rows ``{"constraint", "mpjpe_other", "mpjpe_other_root_relative"}`` in ``unit``."""
    joints = MotionEditor(net, ctx).joint_indices(list(args.joints))
    names = [ctx.skeleton.names[j] for j in joints]
    real, source, L = _windows(meta, ctx, args, "sparse joints")
    x = real["x"]
    p_real = ctx.decode_positions(x.float())  # (N, L, J, 3) from the origin, as the guide decodes
    targets = p_real[:, :, joints]  # (N, L, K, 3)
    steps = options.get("steps")
    scale = guide_scale_for(net) if args.guide_scale is None else float(args.guide_scale)
    counts = _sample_counts(args)
    gens = {k: torch.Generator().manual_seed(0) for k in counts}  # each estimate draws as if alone
    gen: dict[int, list] = {k: [] for k in counts}
    for i in range(0, x.shape[0], args.batch_size):
        sl = slice(i, i + args.batch_size)
        c = {"guide": position_guide(ctx, joints, targets[sl]), "guide_scale": scale,
             "guide_iters": int(args.guide_iters), "guide_refine": int(args.guide_refine)}
        if getattr(net, "condition_joints", 0):  # the model also sees the given joints
            known = torch.zeros(x[sl].shape[0], L, ctx.skeleton.num_joints, dtype=torch.bool)
            known[:, :, joints] = True
            c.update(positions=(p_real[sl] / float(ctx.skeleton.height())).to(args.device),
                     position_mask=known.to(args.device))
        for k in counts:
            gen[k].append(net.sample(x[sl].shape[0], L, None, generator=gens[k], steps=steps, constraints=c,
                                     samples=k).cpu())
    generated = {k: ctx.decode_positions(torch.cat(v).float()) for k, v in gen.items()}
    r = ctx.root_joint
    train = _training_poses(meta, ctx, args, L, int(args.nn_poses))
    root = p_real[:, :, r:r + 1]  # (N, L, 1, 3) the real root: the baseline's alignment
    p_nn = nearest_pose(train, targets - root, joints).to(p_real.dtype) + root
    other = [j for j in range(ctx.skeleton.num_joints) if j not in joints]
    cm, unit = _centimetres(ctx)
    given = torch.ones(targets.shape[:-1], dtype=torch.bool)

    def row(p: torch.Tensor) -> dict[str, float]:
        return {"constraint": float(masked_position_error(p[:, :, joints], targets, given, cm)),
                "mpjpe_other": float(mpjpe(p[:, :, other], p_real[:, :, other])) * cm,
                "mpjpe_other_root_relative": float(mpjpe(p[:, :, other] - p[:, :, r:r + 1],
                                                         p_real[:, :, other] - root)) * cm}

    rows = {_row_key(k): row(p) for k, p in generated.items()}
    rows["nearest_pose"] = row(p_nn)
    print(f"sparse joints: {', '.join(names)} given (global positions, every frame), the rest generated by "
          f"reconstruction guidance through FK (scale {scale:g}, {args.guide_iters} per step, {args.guide_refine} refinement steps, no labels); "
          f"{x.shape[0]} windows of {source}")
    print(f"{'method':<36}{'given joints':>14}{'other joints':>14}{'other, root-rel.':>18}   ({unit})")
    title = {**{_row_key(k): _estimate_name(k) for k in generated},
             "nearest_pose": "nearest training pose"}
    for name, v in rows.items():
        print(f"{title[name]:<36}{v['constraint']:>14.2f}{v['mpjpe_other']:>14.2f}"
              f"{v['mpjpe_other_root_relative']:>18.2f}")
    base = max(rows["nearest_pose"]["mpjpe_other"], 1e-12)
    ratios = ", ".join(f"{title[n]} {v['mpjpe_other'] / base:.2f}x" for n, v in rows.items() if n != "nearest_pose")
    print(f"       (nearest pose: among {train.shape[0]} training poses, matched on the given joints relative to "
          f"the root and placed at the REAL root position, which the model is not given; "
          f"other-joint MPJPE / baseline: {ratios})")
    return {"joints": names, "unit": unit, "windows": int(x.shape[0]), "training_poses": int(train.shape[0]), **rows}
