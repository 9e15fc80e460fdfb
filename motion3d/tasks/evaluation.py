"""Registry of evaluation procedures, keyed by the task name each checkpoint carries.

A task stores ``checkpoint["motion3d"] = {"task": NAME, ...}`` (plain values) in
``on_save_checkpoint``; ``tools/evaluate.py --ckpt X`` reads NAME and calls what was registered:

    @register("classify", add_arguments=my_args)
    def evaluate_classify(checkpoint: dict, args: argparse.Namespace) -> dict: ...

``add_arguments(parser)`` adds the task's own command-line options; the function returns a dict of
metrics (plain values) and prints its report.
"""
from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

META_KEY = "motion3d"


@dataclass
class Evaluator:
    name: str
    run: Callable[[dict, argparse.Namespace], dict]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None


_REGISTRY: dict[str, Evaluator] = {}

# modules that register evaluators when imported (tasks add themselves here)
KNOWN_TASK_MODULES = {"classify": "motion3d.tasks.classify"}


def register(name: str, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None):
    """Decorator: register ``fn(checkpoint, args) -> metrics`` as the evaluator of task ``name``."""
    def deco(fn):
        _REGISTRY[name] = Evaluator(name, fn, add_arguments)
        return fn
    return deco


def get(name: str) -> Evaluator:
    if name not in _REGISTRY and name in KNOWN_TASK_MODULES:
        importlib.import_module(KNOWN_TASK_MODULES[name])
    if name not in _REGISTRY:
        raise KeyError(f"no evaluator registered for task {name!r} (known: {sorted(set(_REGISTRY) | set(KNOWN_TASK_MODULES))})")
    return _REGISTRY[name]


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint on CPU with ``weights_only=True`` (plain containers and tensors only)."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)


def task_name(checkpoint: dict, path: str | Path = "<checkpoint>") -> str:
    meta = checkpoint.get(META_KEY)
    if not isinstance(meta, dict) or "task" not in meta:
        raise KeyError(f"{path}: checkpoint has no '{META_KEY}.task' entry: not written by a motion3d task")
    return meta["task"]


__all__ = ["Evaluator", "register", "get", "load_checkpoint", "task_name", "META_KEY", "KNOWN_TASK_MODULES"]
