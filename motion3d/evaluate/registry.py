"""The registry of evaluation procedures, keyed by the task name each checkpoint carries.

A task stores ``checkpoint["motion3d"] = {"task": NAME, ...}``; ``tools/evaluate.py --ckpt X`` reads
NAME and runs the procedure registered for it::

    @register("classify", options=[Option("--vote", type=int, default=1, help="...")])
    def evaluate_classify(checkpoint: dict, args) -> dict: ...

``options`` describe the procedure's command-line options as data (the tool builds its parser from
them; the library has no argparse); ``args`` is any object with those options as attributes
(``argparse.Namespace``, ``types.SimpleNamespace``). The procedure prints its report and returns its
metrics as plain values. Every procedure module is imported by :mod:`motion3d.evaluate`, so
importing that package registers them all: the one way to register.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

__all__ = ["Option", "Evaluator", "register", "get", "names"]


@dataclass(frozen=True)
class Option:
    """A command-line option: ``flags`` and the keyword arguments of ``add_argument``."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __init__(self, *flags: str, **kwargs: Any):
        object.__setattr__(self, "flags", tuple(flags))
        object.__setattr__(self, "kwargs", dict(kwargs))

    @property
    def dest(self) -> str:
        """The attribute name the option's value is stored under (``--batch-size`` -> ``batch_size``)."""
        if "dest" in self.kwargs:
            return self.kwargs["dest"]
        long = [f for f in self.flags if f.startswith("--")] or list(self.flags)
        return long[0].lstrip("-").replace("-", "_")


@dataclass
class Evaluator:
    name: str
    run: Callable[[dict, Any], dict]
    options: tuple[Option, ...] = ()
    title: str = ""

    def defaults(self) -> dict[str, Any]:
        """``{dest: default}`` of the options (for calling :attr:`run` from code)."""
        out = {}
        for o in self.options:
            if o.kwargs.get("action") == "store_true":
                out[o.dest] = o.kwargs.get("default", False)
            else:
                out[o.dest] = o.kwargs.get("default")
        return out


_REGISTRY: dict[str, Evaluator] = {}


def register(name: str, options: Sequence[Option] = (), title: str = ""):
    """Decorator: register ``fn(checkpoint, args) -> metrics`` as the evaluator of task ``name``."""
    def deco(fn):
        if name in _REGISTRY:
            raise ValueError(f"an evaluator for task {name!r} is registered twice")
        _REGISTRY[name] = Evaluator(name, fn, tuple(options), title or name)
        return fn
    return deco


def get(name: str) -> Evaluator:
    """The evaluator of task ``name`` (a clear error listing the known tasks)."""
    if name not in _REGISTRY:
        raise KeyError(f"no evaluator registered for task {name!r} (known: {names()})")
    return _REGISTRY[name]


def names() -> list[str]:
    return sorted(_REGISTRY)
