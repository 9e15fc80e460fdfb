"""Evaluation of ``generate`` checkpoints as in ACTOR: recognition accuracy of generated clips by a
motion classifier trained by the project (``configs/motion/classifier.yaml``), FID of its features
against real clips, diversity, multimodality, foot skate and joint speed, each beside the same numbers
for the real clips and for reference rows (same-label training clips, a predictor's free rollouts)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from motion3d.evaluate.data import DATA_OPTIONS, evaluation_windows, relabel, stack_windows
from motion3d.evaluate.registry import Option, register
from motion3d.metrics.fid import diversity, fid, multimodality, precision_recall, recognition_accuracy
from motion3d.metrics.motion import foot_skate, joint_speed
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import MotionContext
from motion3d.tasks.generate import TASK_NAME

__all__ = ["evaluate_generation", "generation_report", "generation_metrics", "classifier_outputs",
           "same_label_indices", "OPTIONS", "GENERATION_OPTIONS"]


@torch.no_grad()
def classifier_outputs(classifier, x: torch.Tensor, batch_size: int = 256) -> tuple[torch.Tensor, dict]:
    """``(features (N, F), {"content": logits, "style": logits})`` of clips ``x (N, T, D)``."""
    feats, logits = [], {}
    for i in range(0, x.shape[0], batch_size):
        chunk = x[i:i + batch_size]
        f = classifier.features(chunk)
        feats.append(f.float().cpu())
        for k, v in classifier(chunk).items():
            logits.setdefault(k, []).append(v.float().cpu())
    return torch.cat(feats), {k: torch.cat(v) for k, v in logits.items()}


#: k of the improved precision/recall manifolds (Kynkaanniemi et al. 2019); groups of <= k clips get NaN
PR_NEIGHBOURS = 3


@torch.no_grad()
def generation_metrics(ctx: MotionContext, clips: torch.Tensor, labels: dict[str, torch.Tensor], classifier=None,
                       classifier_ctx: MotionContext | None = None, real_features: torch.Tensor | None = None,
                       seed: int = 0) -> dict[str, float]:
    """ACTOR's metrics of normalised clips ``(N, T, D)`` (generated or real) with their labels.

    ``accuracy_content`` / ``accuracy_style`` (the classifier recognises the conditioning label),
    ``fid`` (against ``real_features``), ``diversity``, ``multimodality`` (per content label), and
    ``foot_skate`` and ``joint_speed`` (body heights per second: :func:`motion3d.metrics.motion.joint_speed`
    relative to the trajectory joint, lower than real for over-smoothed motion) computed on decoded joint
    positions.
    """
    out: dict[str, float] = {}
    pos = ctx.decode_positions(clips.float())
    out["foot_skate"] = float(foot_skate(pos, ctx.feet, ctx.skeleton.height(), ctx.fps).mean()) if ctx.feet else float("nan")
    # the body's joints relative to the trajectory joint (the pelvis), not to joint 0: Bandai-Namco's
    # joint 0 is a static reference above the pelvis, relative to which the travel would count as speed
    r = ctx.root_joint
    above = set(ctx.skeleton.chain(r)[:-1])
    body = [j for j in range(ctx.skeleton.num_joints) if j not in above]
    out["joint_speed"] = (float(joint_speed(pos[..., body, :], ctx.skeleton.height(), ctx.fps,
                                            root=body.index(r)).mean()) if pos.shape[-3] > 1 else float("nan"))
    if classifier is None:
        return out
    x = clips
    if classifier_ctx is not None and classifier_ctx is not ctx:
        x = ctx.renormalize(clips, classifier_ctx)
    device = next(classifier.parameters()).device
    feats, logits = classifier_outputs(classifier, x.to(device))
    for kind, lg in logits.items():
        if kind in labels:
            out[f"accuracy_{kind}"] = recognition_accuracy(lg, labels[kind])
    if real_features is not None:
        out["fid"] = fid(feats.numpy(), np.asarray(real_features))
        real = torch.as_tensor(np.asarray(real_features))
        if min(len(real), len(feats)) > PR_NEIGHBOURS:
            out["precision"], out["recall"] = precision_recall(real, feats, k=PR_NEIGHBOURS)
        else:  # a per-style group of a few clips: the k-NN manifolds are undefined
            out["precision"] = out["recall"] = float("nan")
    out["diversity"] = diversity(feats.numpy(), seed=seed)
    key = "content" if "content" in labels and (labels["content"] >= 0).any() else "style"
    try:
        out["multimodality"] = multimodality(feats.numpy(), labels[key].numpy(), seed=seed)
    except (ValueError, KeyError):
        out["multimodality"] = float("nan")
    out["_features"] = feats  # type: ignore[assignment]
    return out


#: the options of every generation table (``generate`` and ``diffuse`` checkpoints)
GENERATION_OPTIONS = (
    *DATA_OPTIONS,
    Option("--classifier", help="a 'recognize' checkpoint (default: the one named in the config)"),
    Option("--runs", type=int, default=5, help="repetitions with different seeds (ACTOR: 20)"),
    Option("--length", type=int, help="frames per generated clip (default: the training window)"),
    Option("--rollouts", help="a 'predict' checkpoint: add rows for its free rollouts, seeded with the "
                              "first frame of a training window with the same labels, and with each "
                              "evaluated window's own first frame"),
    Option("--compare", help="another generator's checkpoint (e.g. the VAE): a row of its samples with the same "
                             "labels"),
)
OPTIONS = GENERATION_OPTIONS + (
    Option("--temperature", type=float, default=1.0, help="spread of the latent samples (1: as fitted)"),
)


def _mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of the 95% interval over runs."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    if not v.size:
        return float("nan"), float("nan")
    half = 1.96 * v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0
    return float(v.mean()), float(half)


def same_label_indices(pool: dict[str, torch.Tensor], wanted: dict[str, torch.Tensor], count: int, pool_size: int,
                       generator: torch.Generator) -> torch.Tensor:
    """For each of ``count`` wanted label pairs (``wanted[kind]: (count,)``), the index of a random
    window of a pool of ``pool_size`` (labels ``pool[kind]: (pool_size,)``) with the same content and
    style, else the same content, else the same style, else any window -> ``(count,)`` long.
    Unknown labels (-1) match nothing; kinds missing from either side are ignored."""
    if pool_size <= 0:
        raise ValueError("no pool windows to draw from")
    kinds = [k for k in ("content", "style") if k in pool and k in wanted]
    same = {k: (wanted[k].view(-1, 1) == pool[k].view(1, -1)) & (wanted[k].view(-1, 1) >= 0) for k in kinds}
    levels = ([same["content"] & same["style"]] if len(kinds) == 2 else []) + [same[k] for k in kinds]
    score = torch.rand(count, pool_size, generator=generator)
    pick = torch.randint(pool_size, (count,), generator=generator)  # "any window"
    chosen = torch.zeros(count, dtype=torch.bool)
    for mask in levels:
        ok = mask.any(1) & ~chosen
        pick[ok] = torch.where(mask[ok], score[ok], torch.full_like(score[ok], -1.0)).argmax(1)
        chosen |= ok
    return pick


def _training_windows(meta: dict, ctx: MotionContext, args, length: int) -> dict | None:
    """The checkpoint's training windows (``--content`` kept) in its normalisation, or ``None`` (with
    the reason printed) when its training data cannot be read here."""
    ns = SimpleNamespace(**{**vars(args), "data": None, "split": "train", "limit": 0})
    try:
        batches, _ = evaluation_windows(meta, ctx, ns, length)
        pool = stack_windows(batches)
    except (OSError, KeyError, ValueError) as e:
        print(f"no training windows for the train-clip and rollout rows ({e})")
        return None
    return pool or None


@register(TASK_NAME, options=OPTIONS)
def evaluate_generation(checkpoint: dict, args) -> dict:
    """The generation table of a ``generate`` checkpoint (:func:`generation_report`)."""
    return generation_report(checkpoint, args, TASK_NAME, {"temperature": args.temperature})


def generation_report(checkpoint: dict, args, task: str, sample_options: dict) -> dict:
    """Generate one clip per real window of the split, with that window's labels, from a ``task``
    checkpoint's ``net.sample(..., **sample_options)``; print the real and generated metrics (mean
    and 95% interval over ``--runs`` seeds), precision/recall (Kynkaanniemi et al. 2019) on the
    classifier's features beside FID.

    Reference rows: ``train clips``, windows of the training split drawn with the same labels (what
    a model that reproduced its training data exactly would score: with a split by file, the held-out
    clips are other performances, so even these are far from the held-out set in FID); with
    ``--rollouts``, a predictor's free rollouts seeded with the first frame of such a training
    window (a generator that, like the VAE, has seen only the training split), and seeded with each
    evaluated window's own first frame (which shows it the held-out clip's pose and position).
    """
    net, ctx, meta = load_motion_checkpoint(checkpoint, task, args.device)
    length = args.length or int(ctx.window or 60)
    batches, source = evaluation_windows(meta, ctx, args, length)
    real = stack_windows(batches)
    if not real:
        raise ValueError(f"no windows of {length} frames in {source}")
    labels = {k: real[k] for k in ("content", "style") if k in real}
    clf_path = args.classifier or meta.get("hparams", {}).get("classifier")
    classifier = clf_ctx = None
    if clf_path:
        classifier, clf_ctx, _ = load_motion_checkpoint(clf_path, "recognize", args.device)
        why = clf_ctx.describe_difference(ctx.to_meta(), labels=False)
        if why is not None:
            raise ValueError(f"the classifier {clf_path} was trained on other data than the generator: {why}")
        labels = {k: relabel(v, ctx.label_names.get(k, []), clf_ctx.label_names.get(k, [])) for k, v in labels.items()}
    real_m = generation_metrics(ctx, real["x"], labels, classifier, clf_ctx)
    real_feats = real_m.pop("_features", None)
    if real_feats is not None and real_feats.shape[0] >= 4:
        half = real_feats.shape[0] // 2
        perm = torch.randperm(real_feats.shape[0], generator=torch.Generator().manual_seed(0))
        real_m["fid"] = fid(real_feats[perm[:half]].numpy(), real_feats[perm[half:]].numpy())
    gen_labels = {k: real[k] for k in ("content", "style") if k in real}
    real_np = None if real_feats is None else real_feats.numpy()
    n = real["x"].shape[0]

    def samples_of(model, model_ctx: MotionContext, options: dict):
        def clips(g: torch.Generator) -> torch.Tensor:
            out = []
            for i in range(0, n, args.batch_size):
                lab = {k: relabel(v[i:i + args.batch_size], ctx.label_names.get(k, []),
                                  model_ctx.label_names.get(k, [])).to(args.device) for k, v in gen_labels.items()}
                x = model.sample(min(args.batch_size, n - i), length, lab, generator=g, **options).cpu()
                out.append(x if model_ctx is ctx else model_ctx.renormalize(x, ctx))
            return torch.cat(out)
        return clips

    def metrics_over_runs(make_clips, runs: int) -> dict[str, tuple[float, float]]:
        return _over_runs(make_clips, ctx, labels, classifier, clf_ctx, real_np, runs)

    rows = {"generated": ("generated", metrics_over_runs(samples_of(net, ctx, sample_options), args.runs))}
    if getattr(args, "compare", None):
        other, other_ctx, other_meta = load_motion_checkpoint(args.compare, device=args.device)
        why = other_ctx.describe_difference(ctx.to_meta(), labels=False)
        if why is not None:
            raise ValueError(f"the generator {args.compare} was trained on other data: {why}")
        if not callable(getattr(other, "sample", None)):
            raise ValueError(f"{args.compare}: a '{other_meta.get('task')}' checkpoint does not generate motion")
        rows["compare"] = (f"{type(other).__name__} (--compare)",
                           metrics_over_runs(samples_of(other, other_ctx, {}), args.runs))
    pool = _training_windows(meta, ctx, args, length)

    def train_indices(g: torch.Generator) -> torch.Tensor:
        return same_label_indices(pool, gen_labels, n, pool["x"].shape[0], g)

    if pool is not None:
        rows["train_clips"] = ("train clips", metrics_over_runs(lambda g: pool["x"][train_indices(g)], args.runs))
    if args.rollouts:
        pred_net, pred_ctx, _ = load_motion_checkpoint(args.rollouts, "predict", args.device)
        why = pred_ctx.describe_difference(ctx.to_meta(), labels=False)
        if why is not None:
            raise ValueError(f"the predictor {args.rollouts} was trained on other data: {why}")

        def rollouts_from(first: torch.Tensor) -> torch.Tensor:
            """Free rollouts ``(N, length, D)`` from first frames ``first (N, 1, D)`` (this checkpoint's
            normalisation)."""
            out = []
            for i in range(0, first.shape[0], args.batch_size):
                seed = first[i:i + args.batch_size].to(args.device)
                seed = ctx.renormalize(seed, pred_ctx)
                with torch.no_grad():
                    x = torch.cat([seed, pred_net.predict(seed, length - 1)], dim=1)
                out.append(pred_ctx.renormalize(x.cpu(), ctx))
            return torch.cat(out)

        name = type(pred_net).__name__
        if pool is not None:
            rows["rollouts"] = (f"{name}, train seeds", metrics_over_runs(
                lambda g: rollouts_from(pool["x"][train_indices(g), :1]), args.runs))
        rows["rollouts_eval_seeds"] = (f"{name}, eval seeds", metrics_over_runs(
            lambda g: rollouts_from(real["x"][:, :1]), 1))

    options = "   ".join(f"{k}: {v}" for k, v in sample_options.items() if v is not None)
    print(f"checkpoint task: {task}   model: {type(net).__name__}   data: {source}   clips: {n} "
          f"x {length} frames   runs: {args.runs}   {options}   classifier: {clf_path or '- (pass --classifier)'}")
    keys = [k for k in ("accuracy_content", "accuracy_style", "fid", "precision", "recall", "diversity",
                        "multimodality", "foot_skate", "joint_speed")
            if k in rows["generated"][1] or k in real_m]
    print("".ljust(32) + "".join(f"{k:>22}" for k in keys))
    print("real".ljust(32) + "".join(f"{real_m.get(k, float('nan')):>22.4f}" for k in keys))
    for title, row in rows.values():
        print(title.ljust(32) + "".join(f"{row[k][0]:>13.4f} ± {row[k][1]:<6.4f}" if k in row else f"{'-':>22}"
                                        for k in keys))
    if pool is not None:
        print("real: the evaluated windows (FID between two random halves); train clips: training windows with "
              "the same labels")
    if args.rollouts:
        print("rollouts: free-running predictions from the first frame of a training window with the same labels "
              "(train seeds) or of the evaluated window itself (eval seeds: sees the held-out clip's pose)")
    if not classifier:
        print("recognition accuracy, FID, diversity and multimodality need a classifier: --classifier CKPT "
              "(train one with configs/motion/classifier.yaml)")
    return {"task": task, "source": source, "clips": n, "length": length, "classifier": clf_path,
            "real": real_m,
            **{key: {k: {"mean": m, "ci95": c} for k, (m, c) in row.items()} for key, (_, row) in rows.items()}}


def _over_runs(make_clips, ctx, labels, classifier, clf_ctx, real_features, runs: int) -> dict[str, tuple[float, float]]:
    """Metrics of ``make_clips(generator)`` for seeds ``0..runs-1``: ``{metric: (mean, 95% half-width)}``."""
    values: dict[str, list[float]] = {}
    for run in range(max(1, runs)):
        m = generation_metrics(ctx, make_clips(torch.Generator().manual_seed(run)), labels, classifier, clf_ctx,
                               real_features, seed=run)
        m.pop("_features", None)
        for k, v in m.items():
            values.setdefault(k, []).append(v)
    return {k: _mean_ci(v) for k, v in values.items()}
