"""Networks that remember how they were built.

A :class:`Configurable` module records its constructor arguments, in plain values, as
``self.config = {"class_path": "pkg.mod.Class", "init_args": {...}}``; :func:`build` rebuilds the
module from that dict alone. Checkpoints store the dict, so they load with
``torch.load(weights_only=True)`` and need no config file beside them.

A checkpoint is data, never code: :func:`build` resolves a ``class_path`` only among the
:class:`Configurable` classes of this package (each registers itself when its module is imported;
``import motion3d.models`` imports them all). Any other path, ``os.system`` for example, is refused
with :class:`UnknownClassPath`, before anything is imported or called.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Mapping

from torch import nn

__all__ = ["Configurable", "build", "plain", "registered", "UnknownClassPath"]

#: ``"pkg.mod.Class"`` -> class, for every Configurable subclass defined so far
_REGISTRY: dict[str, type] = {}


class UnknownClassPath(ValueError):
    """A config names a class that is not one of motion3d's registered classes (or bad arguments)."""


def plain(v: Any) -> Any:
    """Tuples become lists, dict keys strings (YAML- and ``weights_only``-friendly), recursively."""
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    return v


class Configurable(nn.Module):
    """Base class: the most derived class's ``__init__`` arguments land in ``self.config``."""

    config: dict

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:  # an abstract base: its subclasses record their own arguments
            return
        _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls
        sig = inspect.signature(init)

        @functools.wraps(init)
        def wrapped(self, *args, **kw):
            init(self, *args, **kw)
            if type(self) is cls:  # the most derived class records its arguments
                bound = sig.bind(self, *args, **kw)
                bound.apply_defaults()
                init_args = {k: plain(v) for k, v in bound.arguments.items() if k != "self"}
                self.config = {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": init_args}

        cls.__init__ = wrapped


def registered() -> list[str]:
    """The class paths :func:`build` accepts (those imported so far)."""
    return sorted(_REGISTRY)


def build(config: Mapping[str, Any], source: str = "config") -> nn.Module:
    """Instantiate ``{"class_path": "pkg.mod.Class", "init_args": {...}}`` (as in ``module.config``).

    Only registered :class:`Configurable` classes are built; ``init_args`` must be a mapping of
    keyword arguments the class takes. ``source`` names where the config came from (a checkpoint
    path) in the :class:`UnknownClassPath` errors."""
    if not isinstance(config, Mapping) or "class_path" not in config:
        raise UnknownClassPath(f"{source}: a network config is a mapping with 'class_path' and 'init_args', "
                               f"got {type(config).__name__}")
    path = config["class_path"]
    cls = _REGISTRY.get(path) if isinstance(path, str) else None
    if cls is None:
        raise UnknownClassPath(f"{source}: refusing class_path {path!r}: not a registered motion3d network "
                               f"(known: {', '.join(registered()) or 'none imported'})")
    args = config.get("init_args", {}) or {}
    if not isinstance(args, Mapping) or not all(isinstance(k, str) for k in args):
        raise UnknownClassPath(f"{source}: init_args of {path} must be a mapping of argument names")
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(args) - set(params) - {"self"})
        if unknown:
            raise UnknownClassPath(f"{source}: {path} takes no argument(s) {unknown}")
    return cls(**dict(args))
