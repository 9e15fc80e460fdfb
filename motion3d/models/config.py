"""Networks that remember how they were built.

A :class:`Configurable` module records its constructor arguments, in plain values, as
``self.config = {"class_path": "pkg.mod.Class", "init_args": {...}}``; :func:`build` rebuilds the
module from that dict alone. Checkpoints store the dict, so they load with
``torch.load(weights_only=True)`` and need no config file beside them.
"""
from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any, Mapping

from torch import nn

__all__ = ["Configurable", "build", "plain"]


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
        if init is None:
            return
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


def build(config: Mapping[str, Any]) -> nn.Module:
    """Instantiate ``{"class_path": "pkg.mod.Class", "init_args": {...}}`` (as in ``module.config``)."""
    module, _, name = str(config["class_path"]).rpartition(".")
    if not module:
        raise ValueError(f"class_path must be 'package.module.Class', got {config['class_path']!r}")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import {config['class_path']!r}: {err}") from None
    return cls(**dict(config.get("init_args", {})))
