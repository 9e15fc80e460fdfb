"""Sampling clips from a motion checkpoint (used by ``tools/sample.py``).

Any checkpoint whose network has a ``sample(n, length, labels, generator, temperature, constraints)``
method generates (see :class:`motion3d.models.motion.blocks.MotionNet`): a VAE decodes latent
samples with the requested labels, a predictor rolls out freely from the mean frame. The features
are denormalised and decoded to Motions (``representation.decode``), written as BVH on the
checkpoint's skeleton, and rendered to one MP4.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Mapping

import torch

from motion3d.io import bvh
from motion3d.motion import Motion
from motion3d.outputs import OutputError, atomic_output, check_output
from motion3d.render.skeleton_video import save_video
from motion3d.retarget import retarget
from motion3d.skeleton import Skeleton
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import MotionContext, random_labels

__all__ = ["parse_labels", "sample_features", "sample_checkpoint", "write_samples"]


def parse_labels(text: str | None, ctx: MotionContext) -> dict[str, str]:
    """``"content=walk,style=angry"`` -> ``{"content": "walk", "style": "angry"}``, checked
    against the checkpoint's label names (an error lists the known ones)."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        kind, eq, name = part.partition("=")
        kind, name = kind.strip(), name.strip()
        if not eq or kind not in ("content", "style"):
            raise ValueError(f"--label entries are content=NAME or style=NAME, got {part!r}")
        if name not in ctx.label_names[kind]:
            raise ValueError(f"unknown {kind} label {name!r}; the checkpoint knows: {ctx.label_names[kind]}")
        out[kind] = name
    return out


@torch.no_grad()
def sample_features(net, ctx: MotionContext, n: int, length: int, labels: Mapping[str, str] | None = None,
                    seed: int = 0, temperature: float = 1.0, constraints: Mapping[str, torch.Tensor] | None = None,
                    task: str = "", options: Mapping | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``n`` normalised clips ``(n, length, D)`` and their label ids, from ``net.sample``. Kinds not
    given in ``labels`` are drawn uniformly from the checkpoint's label names. ``temperature`` scales
    the spread of a stochastic generator's samples (below 1: more typical, less varied clips);
    ``constraints`` go to the network (e.g. ``{"seed": first frames}``). ``task`` names the
    checkpoint's task in the error raised when the network does not generate. ``options``: keyword
    arguments of this network's ``sample`` (a diffusion model's ``steps``, ``guidance``); one it
    does not take is an error naming the network."""
    if not callable(getattr(net, "sample", None)):
        raise ValueError(f"{type(net).__name__} ({task or 'this'} checkpoint) does not generate motion: it has no "
                         "sample() method; use a checkpoint of a generator or predictor")
    g = torch.Generator().manual_seed(int(seed))
    ids = random_labels(ctx, n, g)
    for kind, name in (labels or {}).items():
        if not getattr(net, f"num_{kind}", 0):
            raise ValueError(f"this {type(net).__name__} is not conditioned on {kind} labels; drop {kind}= from --label")
        ids[kind] = torch.full((n,), ctx.label_names[kind].index(name), dtype=torch.long)
    for kind in ("content", "style"):
        if not getattr(net, f"num_{kind}", 0):  # an unconditional network: no label to report
            ids[kind] = torch.full((n,), -1, dtype=torch.long)
    device = next(net.parameters()).device
    dev_ids = {k: v.to(device) for k, v in ids.items()}
    dev_constraints = {k: v.to(device) for k, v in (constraints or {}).items()}
    options = {k: v for k, v in (options or {}).items() if v is not None}
    unknown = sorted(set(options) - set(inspect.signature(net.sample).parameters))
    if unknown:
        raise ValueError(f"{type(net).__name__} ({task or 'this'} checkpoint) has no sampling option(s) "
                         f"{unknown}; they apply to diffusion checkpoints")
    x = net.sample(n, length, dev_ids, generator=g, temperature=temperature, constraints=dev_constraints or None,
                   **options)
    return x.float().cpu(), ids


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def write_samples(motions: list[Motion], out: str | Path, video: bool = True, force: bool = False) -> dict:
    """Write ``motions`` as BVH files (named by their ``name``) and, with ``video``, one MP4 of
    them side by side. Returns ``{"bvh": [paths], "video": path | None}``.

    Every file this would write is checked first: when one exists (and ``force`` is false) nothing
    is written and :class:`motion3d.outputs.OutputError` names it. Each file is written under a
    temporary name and renamed when complete (:func:`motion3d.outputs.atomic_output`)."""
    out = Path(out)
    names = [out / f"{m.name}.bvh" for m in motions]
    movie = out / "samples.mp4" if video and motions else None
    for path in names + ([movie] if movie is not None else []):
        check_output(path, force=force)
    if len({p.name for p in names}) < len(names):
        raise OutputError(out, "two samples have the same name; give each motion its own name")
    out.mkdir(parents=True, exist_ok=True)
    for m, path in zip(motions, names):
        with atomic_output(path) as tmp:
            bvh.save(m, tmp)
    if movie is not None:
        save_video(motions, movie, panel_size=(240, 240))
    return {"bvh": [str(p) for p in names], "video": None if movie is None else str(movie)}


def sample_checkpoint(ckpt: str | Path, out: str | Path, n: int = 8, length: int | None = None,
                      labels: str | None = None, seed: int = 0, device: str = "cpu", video: bool = True,
                      temperature: float = 1.0, force: bool = False, options: Mapping | None = None,
                      retarget_to: Skeleton | None = None) -> dict:
    """Sample ``n`` clips from a checkpoint into ``out`` (BVH + MP4; existing files only with
    ``force``, see :func:`write_samples`); see the module docstring. ``options``: the network's
    sampling options (:func:`sample_features`); ``retarget_to``: write the clips on this skeleton
    instead, through the analytic retargeter (:func:`motion3d.retarget.retarget`).
    ``result["motions"]`` are the clips written (Motions), ``result["sampled"]`` the same clips on the
    checkpoint's skeleton (the clips before ``retarget_to``; the same objects without it).
    ``result["deterministic"]`` says whether the network's samples ignore the seed (a predictor
    rolling out from the mean frame gives the same clip for the same labels)."""
    net, ctx, meta = load_motion_checkpoint(ckpt, device=device)
    wanted = parse_labels(labels, ctx)
    length = int(length or ctx.window or 60)
    x, ids = sample_features(net, ctx, n, length, wanted, seed, temperature, task=meta["task"], options=options)
    feats = ctx.normalizer.denormalize(x.double())
    sampled = ctx.representation.decode(feats, fps=ctx.fps)
    motions = [retarget(m, retarget_to) for m in sampled] if retarget_to is not None else sampled
    for i, (s, m) in enumerate(zip(sampled, motions)):
        tags = [ctx.label_names[k][int(ids[k][i])] for k in ("content", "style") if int(ids[k][i]) >= 0]
        s.name = m.name = _slug("_".join([f"sample{i:02d}"] + tags))
    result = write_samples(motions, out, video, force)
    result["motions"], result["sampled"] = motions, sampled
    result["deterministic"] = bool(getattr(net, "deterministic", False))
    result["labels"] = [{k: (ctx.label_names[k][int(ids[k][i])] if int(ids[k][i]) >= 0 else None)
                         for k in ("content", "style")} for i in range(n)]
    return result
