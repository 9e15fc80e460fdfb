"""Data for evaluating and sampling motion checkpoints: the checkpoint's own split, or every clip
of a folder, re-expressed in the checkpoint's normalisation and label ids.

Tasks that need no labels (prediction) read a folder's clips whether or not their labels can be
read (a folder of Bandai-Namco clips with their JSON but without the ``cfg/`` label tables);
tasks that need them (generation, stylisation, recognition) leave such clips out, and say so
when none is left.

A checkpoint stores its datamodule's config (``checkpoint["motion3d"]["data"]``); evaluation
rebuilds that :class:`MocapDataModule` with the window it needs. ``--data DIR`` instead reads
every clip under DIR (BVH on the checkpoint's skeleton, Bandai-Namco JSON labels where present).
"""
from __future__ import annotations

from typing import Iterator, Mapping

import torch

from motion3d.data.mocap import MocapDataModule
from motion3d.ops.units import UNITS, estimate_units
from motion3d.skeleton import Skeleton
from motion3d.evaluate.registry import Option
from motion3d.tasks.checkpoint import CheckpointError, build_datamodule
from motion3d.tasks.context import ContextMismatch, MotionContext, layout_difference, skeleton_difference

__all__ = ["DATA_OPTIONS", "evaluation_datamodule", "evaluation_windows", "length_unit", "translate_batch", "relabel",
           "content_ids", "stack_windows"]

#: ``--data``, ``--split``, ``--batch-size``, ``--device``, ``--limit``, ``--content``: the options of
#: every motion evaluator
DATA_OPTIONS = (
    Option("--data", help="a folder of clips on the checkpoint's skeleton (default: the checkpoint's data)"),
    Option("--split", default="test", choices=["train", "val", "test"],
           help="split of the checkpoint's data (ignored with --data, which uses every clip)"),
    Option("--batch-size", type=int, default=64),
    Option("--device", default="cpu"),
    Option("--limit", type=int, default=0, help="evaluate at most this many windows (0: all)"),
    Option("--content", default=None, help="only windows with these content labels, comma-separated (e.g. walk,run)"),
)

def length_unit(skeleton: Skeleton) -> tuple[float, str]:
    """``(factor, "mm")`` turning the data's lengths into millimetres when the unit can be guessed
    from the skeleton height, else ``(1, "units")``."""
    try:
        unit = estimate_units(skeleton)
    except ValueError:
        return 1.0, "units"
    return UNITS[unit] / UNITS["mm"], "mm"


def translate_batch(batch: dict, source: MotionContext, target: MotionContext) -> dict:
    """A batch of ``source``'s normalisation and label ids in ``target``'s (labels matched by name,
    unknown names become -1)."""
    out = dict(batch)
    out["x"] = source.renormalize(batch["x"], target)
    for kind in ("content", "style"):
        if kind in batch:
            out[kind] = relabel(batch[kind], source.label_names.get(kind, []), target.label_names.get(kind, []))
    return out


def relabel(ids: torch.Tensor, names_from: list[str], names_to: list[str]) -> torch.Tensor:
    """Label ids ``(N,)`` of vocabulary ``names_from`` in ``names_to`` (by name; unknown -> -1)."""
    lookup = {n: i for i, n in enumerate(names_to)}
    table = torch.tensor([lookup.get(n, -1) for n in names_from] + [-1], dtype=torch.long)
    ids = ids.long()
    return table[torch.where(ids < 0, torch.full_like(ids, len(names_from)), ids)]


def _folder_datamodule(meta: Mapping, ctx: MotionContext, folder: str, window: int, batch_size: int,
                       need_labels: bool = True):
    rep = ctx.representation.to_dict()
    options = {k: v for k, v in rep.get("options", {}).items() if k != "fps"}
    stride = int(((meta.get("data") or {}).get("init_args") or {}).get("stride", max(1, window // 2)))
    return MocapDataModule(roots=[folder], window=window, stride=stride, fps=ctx.fps, representation=rep["name"],
                           representation_options=options, split=[1.0, 0.0, 0.0], batch_size=batch_size,
                           need_labels=need_labels)


def evaluation_datamodule(meta: Mapping, ctx: MotionContext, data: str | None, window: int, batch_size: int,
                          split: str = "test", need_labels: bool = True):
    """``(datamodule after setup, split name, description)`` for evaluating a checkpoint.
    ``need_labels``: whether the task needs the clips' labels (``False``: clips of ``data``
    whose labels cannot be read are used without them)."""
    if data:
        dm = _folder_datamodule(meta, ctx, data, window, batch_size, need_labels)
        split, source = "train", f"{data} (every clip)"
    else:
        config = meta.get("data")
        if not config:
            raise CheckpointError("the checkpoint has no datamodule config (motion3d.data); pass --data DIR")
        dm = build_datamodule(config, window=window, batch_size=batch_size)
        roots = config.get("init_args", {}).get("roots")
        source = f"{roots} [{split} split]"
    try:
        dm.setup("test")
    except FileNotFoundError as e:  # no clip left: say why, and whether the task needs labels
        task = meta.get("task", "this")
        need = (f"; a '{task}' checkpoint needs the clips' content/style labels" if need_labels else
                f"; a '{task}' checkpoint needs no labels")
        raise ContextMismatch(f"the evaluation data {source}: {e}{need}") from None
    except KeyError as e:  # the checkpoint's feature options name joints these clips do not have
        raise ContextMismatch(f"the evaluation data {source} does not fit the checkpoint's skeleton "
                              f"({ctx.skeleton.num_joints} joints: {', '.join(ctx.skeleton.names[:4])}, ...): "
                              f"{e.args[0] if e.args else e}") from None
    why = skeleton_difference(ctx.skeleton, dm.skeleton)
    if why is not None:
        raise ContextMismatch(f"the evaluation data is on another skeleton than the checkpoint: {why}")
    why = layout_difference(ctx.representation, dm.representation)
    if why is not None:
        raise ContextMismatch(f"the evaluation data has another feature layout than the checkpoint: {why}")
    return dm, split, source


def evaluation_windows(meta: Mapping, ctx: MotionContext, args, window: int, need_labels: bool = True
                       ) -> tuple[Iterator[dict], str]:
    """Batches of ``window``-frame windows in the checkpoint's normalisation and label ids, and a
    description of where they come from. ``args``: ``data``, ``split``, ``batch_size``, ``limit``,
    ``content`` (comma-separated content label names to keep; ``None``: all windows).
    ``need_labels``: see :func:`evaluation_datamodule` (``--content`` needs them either way)."""
    need_labels = need_labels or bool(getattr(args, "content", None))
    dm, split, source = evaluation_datamodule(meta, ctx, getattr(args, "data", None), window,
                                              int(getattr(args, "batch_size", 64)), getattr(args, "split", "test"),
                                              need_labels)
    data_ctx = MotionContext.from_datamodule(dm)
    limit = int(getattr(args, "limit", 0) or 0)
    keep = content_ids(ctx, getattr(args, "content", None))
    if keep is not None:
        source = f"{source} [content: {args.content}]"

    def batches():
        seen = 0
        loader = dm.dataloader(split)  # every window in order, the train split's too
        for batch in loader:
            if limit and seen >= limit:
                return
            batch = translate_batch(batch, data_ctx, ctx)
            if keep is not None:
                if "content" not in batch:
                    raise ValueError(f"--content: the clips of {source} have no content labels")
                sel = torch.isin(batch["content"], keep)
                batch = {k: v[sel] for k, v in batch.items()}
            if limit:
                batch = {k: v[: limit - seen] for k, v in batch.items()}
            if batch["x"].shape[0]:
                seen += batch["x"].shape[0]
                yield batch

    return batches(), source


def content_ids(ctx: MotionContext, names: str | None) -> torch.Tensor | None:
    """Label ids of comma-separated content ``names`` in ``ctx`` (``None`` for ``None``); an unknown
    name is an error listing the known ones."""
    if not names:
        return None
    known = list(ctx.label_names.get("content", []))
    wanted = [n.strip() for n in str(names).split(",") if n.strip()]
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown content label(s) {unknown}; the checkpoint knows {known}")
    return torch.tensor([known.index(n) for n in wanted], dtype=torch.long)


def stack_windows(batches) -> dict[str, torch.Tensor]:
    """Concatenate batches ``{"x", "content", "style", ...}`` along the batch axis."""
    batches = list(batches)
    if not batches:
        return {}
    return {k: torch.cat([b[k] for b in batches]) for k in batches[0]}

