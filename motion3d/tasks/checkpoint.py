"""What a motion3d checkpoint holds besides the weights, and the one safe way to read it back.

Every task writes ``checkpoint["motion3d"]`` in ``on_save_checkpoint``, in plain values::

    checkpoint["motion3d"] = {"task": "predict" | "generate" | "recognize" | "stylize" | ...,
                              "net": {"class_path", "init_args"},   # rebuilds the network
                              "context": MotionContext.to_meta(),    # skeleton, features, stats, labels, fps, window
                              "data": {"class_path", "init_args"} | None,   # the datamodule's config
                              "hparams": {...}}                      # the task's own arguments

A checkpoint is data, never code:

* :func:`load_checkpoint` reads with ``torch.load(weights_only=True)`` (tensors and plain
  containers only); a file that holds anything else is refused as unsafe or not a checkpoint;
* :func:`build_network` and :func:`build_datamodule` resolve a ``class_path`` only among motion3d's
  own registered networks and datamodules (feature representations resolve by registered name),
  so a crafted ``{"class_path": "os.system", ...}`` is refused before anything is imported or called.
"""
from __future__ import annotations

import inspect
import math
import pickle
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

import motion3d.models  # noqa: F401  (registers every network class for build_network)
from motion3d.data.mocap import MocapDataModule
from motion3d.data.paired import PairedDomainDataModule
from motion3d.data.pointclouds import PointCloudDataModule
from motion3d.models.config import UnknownClassPath, build, plain
from motion3d.tasks.context import ContextMismatch, MotionContext

__all__ = ["META_KEY", "CheckpointError", "load_checkpoint", "task_name", "task_meta", "plain_hparams",
           "build_network", "load_motion_checkpoint", "datamodule_config", "build_datamodule", "DATAMODULES"]

META_KEY = "motion3d"

#: the datamodules a checkpoint's ``data`` config may name
DATAMODULES = {f"{c.__module__}.{c.__qualname__}": c
               for c in (MocapDataModule, PairedDomainDataModule, PointCloudDataModule)}


class CheckpointError(ValueError):
    """A file is not a usable motion3d checkpoint: unreadable, unsafe, of another task, or naming
    classes that are not motion3d's own. The message names the file."""


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint on CPU with ``torch.load(weights_only=True)``: tensors and plain containers
    only. Anything else (a pickled object, a truncated or foreign file) is a :class:`CheckpointError`
    naming the file; the protection is never turned off."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: refused: the file holds Python objects that a motion3d checkpoint never "
                              f"contains (it is not a motion3d checkpoint, or it is unsafe to load): {first[:200]}"
                              ) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{path}: not a motion3d checkpoint (a {type(ckpt).__name__}, not a dict)")
    return ckpt


def task_name(checkpoint: Mapping, path: str | Path = "<checkpoint>") -> str:
    """The task that wrote ``checkpoint`` (``checkpoint["motion3d"]["task"]``)."""
    meta = checkpoint.get(META_KEY)
    if not isinstance(meta, dict) or not isinstance(meta.get("task"), str):
        raise CheckpointError(f"{path}: checkpoint has no '{META_KEY}.task' entry: not written by a motion3d task")
    return meta["task"]


def task_meta(checkpoint: Mapping, task: str, path: str | Path = "<checkpoint>") -> dict:
    """``checkpoint["motion3d"]``, checked to be a ``task`` checkpoint (else :class:`ContextMismatch`)."""
    meta = checkpoint.get(META_KEY)
    if not isinstance(meta, dict) or meta.get("task") != task:
        found = meta.get("task") if isinstance(meta, dict) else None
        raise ContextMismatch(f"{path}: not a '{task}' checkpoint (task: {found!r})")
    return meta


def plain_hparams(hparams: Mapping[str, Any]) -> dict:
    """A task's hyper-parameters in plain values for ``checkpoint["motion3d"]["hparams"]``."""
    return plain({k: v for k, v in dict(hparams).items() if not str(k).startswith("_")})


def build_network(config: Any, path: str | Path = "<checkpoint>") -> nn.Module:
    """The network of a checkpoint's ``{"class_path", "init_args"}`` (registered motion3d classes only)."""
    if not config:
        raise CheckpointError(f"{path}: the checkpoint's network has no config; it cannot be rebuilt")
    try:
        return build(config, source=str(path))
    except UnknownClassPath as e:
        raise CheckpointError(str(e)) from None


def load_state(net: nn.Module, state_dict: Mapping, prefix: str, path: str | Path = "<checkpoint>") -> nn.Module:
    """Load the entries of ``state_dict`` under ``prefix`` (e.g. ``"net."``) into ``net``; a clear
    error naming the file when the weights do not fit the rebuilt network."""
    state = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    try:
        net.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: the weights do not fit the network the checkpoint describes: "
                              f"{str(e).splitlines()[0]}") from None
    return net


def load_motion_checkpoint(checkpoint: str | Path | Mapping, task: str | None = None,
                           device: str | torch.device = "cpu") -> tuple[nn.Module, MotionContext, dict]:
    """``(network in eval mode, context, metadata)`` from a motion task checkpoint (a path, or the
    dict of :func:`load_checkpoint`); ``task`` checks the kind."""
    path = checkpoint if isinstance(checkpoint, (str, Path)) else "<checkpoint>"
    ckpt = load_checkpoint(checkpoint) if isinstance(checkpoint, (str, Path)) else checkpoint
    meta = ckpt.get(META_KEY)
    if not isinstance(meta, dict) or "net" not in meta or "context" not in meta:
        found = meta.get("task") if isinstance(meta, dict) else None
        raise CheckpointError(f"{path}: not a motion task checkpoint (no motion3d.net / motion3d.context entry"
                              + (f"; it is a '{found}' checkpoint)" if found else ")"))
    if task is not None and meta.get("task") != task:
        raise ContextMismatch(f"{path}: expected a '{task}' checkpoint, got task {meta.get('task')!r}")
    net = load_state(build_network(meta["net"], path), ckpt.get("state_dict", {}), "net.", path)
    try:
        ctx = MotionContext.from_meta(meta["context"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: the checkpoint's data context is incomplete or invalid: {e}") from None
    return net.to(device).eval(), ctx, meta


# ---------------------------------------------------------------------------------------------
# the datamodule a checkpoint was trained with
# ---------------------------------------------------------------------------------------------
def datamodule_config(dm) -> dict | None:
    """``{"class_path", "init_args"}`` that rebuilds ``dm`` (plain values), or ``None``: from the
    datamodule's saved hyperparameters, else from the attributes named as its constructor arguments."""
    if dm is None:
        return None
    cls = type(dm)
    hp = dict(getattr(dm, "hparams", {}) or {})
    if hp:
        args = {k: _fspath(v) for k, v in hp.items() if not str(k).startswith("_")}
        args = {k: v for k, v in args.items() if _is_plain(v)}
    else:
        args = {}
        for name, p in inspect.signature(cls.__init__).parameters.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or not hasattr(dm, name):
                continue
            value = _fspath(getattr(dm, name))
            if _is_plain(value):
                args[name] = value
        if not args:
            return None
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": plain(args)}


def _fspath(v: Any) -> Any:
    """Paths as strings (also inside lists)."""
    if hasattr(v, "__fspath__"):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [_fspath(x) for x in v]
    return v


def _is_plain(v: Any) -> bool:
    """Only str, finite numbers, bools, None, and lists / dicts of them (``weights_only`` safe)."""
    if v is None or isinstance(v, (str, int, bool)):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, (list, tuple)):
        return all(_is_plain(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _is_plain(x) for k, x in v.items())
    return False


def build_datamodule(config: Mapping[str, Any], path: str | Path = "<checkpoint>", **overrides):
    """Instantiate a checkpoint's datamodule config (one of :data:`DATAMODULES` only) with some init
    args replaced; unknown classes or arguments are a :class:`CheckpointError` naming the file."""
    name = config.get("class_path") if isinstance(config, Mapping) else None
    cls = DATAMODULES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CheckpointError(f"{path}: refusing datamodule class_path {name!r}: not one of motion3d's "
                              f"datamodules ({', '.join(sorted(DATAMODULES))})")
    args = {**dict(config.get("init_args", {}) or {}), **overrides}
    params = inspect.signature(cls.__init__).parameters
    unknown = sorted(set(args) - set(params) - {"self"})
    if unknown:
        raise CheckpointError(f"{path}: {name} takes no argument(s) {unknown}")
    if not _is_plain(args):
        raise CheckpointError(f"{path}: the datamodule arguments of {name} are not plain values")
    return cls(**args)
