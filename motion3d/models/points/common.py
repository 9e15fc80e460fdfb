"""Building blocks shared by the point-cloud networks (channels-last: features are ``(..., C)``).

Channels-last shared MLPs (a ``Linear`` applied to every point) are faster on CPU than
``Conv1d``/``Conv2d`` with kernel 1 and read more simply; BatchNorm runs over all leading dims.
"""
from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any, Sequence

import torch
from torch import nn


class PointBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the last dim of ``(..., C)``; statistics over every leading position."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return super().forward(x)
        shape = x.shape
        # reshape back is a view; activations after it must not be in-place (autograd would
        # record an expensive CopySlices), hence ReLU(inplace=False) in SharedMLP
        return super().forward(x.reshape(-1, shape[-1])).reshape(shape)


class SharedMLP(nn.Sequential):
    """Per-point MLP ``(..., C_in) -> (..., C_out)``: Linear (no bias) + BatchNorm + activation per layer."""

    def __init__(self, in_channels: int, channels: Sequence[int], activation: str = "relu",
                 last_activation: bool = True):
        layers: list[nn.Module] = []
        c = in_channels
        for i, h in enumerate(channels):
            layers += [nn.Linear(c, h, bias=False), PointBatchNorm(h)]
            if last_activation or i < len(channels) - 1:
                layers.append(_act(activation))
            c = h
        super().__init__(*layers)
        self.out_channels = c


class ClassifierHead(nn.Sequential):
    """Global feature ``(B, C)`` -> logits ``(B, num_classes)``: [Linear + BN + act + Dropout]* + Linear."""

    def __init__(self, in_channels: int, num_classes: int, hidden: Sequence[int] = (512, 256),
                 dropout: float = 0.5, activation: str = "relu"):
        layers: list[nn.Module] = []
        c = in_channels
        for h in hidden:
            layers += [nn.Linear(c, h, bias=False), nn.BatchNorm1d(h), _act(activation), nn.Dropout(dropout)]
            c = h
        layers.append(nn.Linear(c, num_classes))
        super().__init__(*layers)


def _act(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    if name == "gelu":
        return nn.GELU()
    raise ValueError(f"unknown activation {name!r}")


def max_pool(x: torch.Tensor, dim: int, keepdim: bool = False) -> torch.Tensor:
    """Max over ``dim``; ``max().values`` back-propagates through saved indices (a cheap scatter),
    where ``amax`` builds an equality mask over the whole input (several times slower on CPU)."""
    return x.max(dim=dim, keepdim=keepdim).values


class PointClassifier(nn.Module):
    """Base class: ``forward(points (B, N, 3 + C)) -> logits (B, num_classes)``.

    Every subclass records its constructor arguments in ``self.config`` (``{"class_path",
    "init_args"}``, plain values only), so a checkpoint can rebuild the network from its config alone
    (see :func:`build_model`).

    ``forward_train`` also returns a scalar regularisation loss (zero unless the model defines one,
    e.g. PointNet's feature-transform orthogonality), so the task needs no model-specific code.
    """

    num_classes: int
    in_channels: int

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        sig = inspect.signature(init)

        @functools.wraps(init)
        def wrapped(self, *args, **kw):
            init(self, *args, **kw)
            if type(self) is cls:                     # the most derived class records the config
                bound = sig.bind(self, *args, **kw)
                bound.apply_defaults()
                init_args = {k: _plain(v) for k, v in bound.arguments.items() if k != "self"}
                self.config = {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": init_args}

        cls.__init__ = wrapped

    def forward_train(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self(points), points.new_zeros(())


def _plain(v: Any) -> Any:
    """Tuples become lists (YAML- and ``weights_only``-friendly), recursively."""
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def build_model(config: dict) -> nn.Module:
    """Instantiate ``{"class_path": "pkg.mod.Class", "init_args": {...}}`` (as stored in ``model.config``)."""
    module, _, name = config["class_path"].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    return cls(**config.get("init_args", {}))
