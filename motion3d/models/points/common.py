"""Building blocks shared by the point-cloud networks (channels-last: features are ``(..., C)``).

Channels-last shared MLPs (a ``Linear`` applied to every point) are faster on CPU than
``Conv1d``/``Conv2d`` with kernel 1 and read more simply; BatchNorm runs over all leading dims.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from motion3d.models.config import Configurable, build


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
    """Per-point MLP ``(..., C_in) -> (..., C_out)``: Linear (no bias) + BatchNorm + activation per layer.

    ``pool(x, dim)`` is ``self(x).max(dim).values`` computed without materialising the last layer's
    normalised and activated ``(..., C_out)`` tensor (see :class:`BNActMaxPool`): same result,
    same parameters, less memory traffic on the widest layer.
    """

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
        self.slope = 0.2 if activation == "leaky_relu" else 0.0
        self.fusable = last_activation and activation in ("relu", "leaky_relu")

    def pool(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        """Max over ``dim`` of the MLP's output: ``(..., K, ..., C_in) -> (..., C_out)`` with K removed."""
        if not self.fusable:
            return self(x).max(dim=dim).values
        for layer in list(self)[:-3]:
            x = layer(x)
        y = self[-3](x)                                            # last Linear, (..., C_out)
        bn: nn.BatchNorm1d = self[-2]
        if dim < 0:
            dim += y.dim()
        training = bn.training or bn.running_mean is None
        if training and bn.running_mean is not None:
            bn.num_batches_tracked += 1
        return BNActMaxPool.apply(y, bn.weight, bn.bias, bn.running_mean, bn.running_var, training,
                                  bn.momentum if bn.momentum is not None else 0.1, bn.eps, self.slope, dim)


class BNActMaxPool(torch.autograd.Function):
    """``max_dim act(BN(y))`` for a per-channel BatchNorm and a monotone activation (ReLU / LeakyReLU).

    BN is an affine map per channel: increasing where ``weight / std >= 0``, decreasing elsewhere;
    the activation is increasing. So the max over ``dim`` of the activated output is the activation
    of BN applied to the max (or min) of ``y`` itself: only ``(..., C)`` pooled values are normalised.
    The batch statistics still use every element, and the backward pass routes gradients through
    them exactly as BatchNorm does (a dense ``a + b * y`` term) plus the max/min positions.
    Shapes: y ``(B, ..., K, ..., C)`` -> ``(B, ..., C)`` (``dim`` removed).
    """

    @staticmethod
    def forward(ctx, y, weight, bias, running_mean, running_var, training, momentum, eps, slope, dim):
        C = y.shape[-1]
        if training:
            var, mean = torch.var_mean(y.reshape(-1, C), dim=0, unbiased=False)
            if running_mean is not None:
                m = y.numel() // C
                with torch.no_grad():
                    running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
                    running_var.mul_(1 - momentum).add_(var * (m / max(m - 1, 1)), alpha=momentum)
        else:
            mean, var = running_mean, running_var
        invstd = torch.rsqrt(var + eps)
        w = weight if weight is not None else torch.ones_like(invstd)
        b = bias if bias is not None else torch.zeros_like(invstd)
        scale = w * invstd
        sel = torch.where(scale >= 0, y.amax(dim=dim), y.amin(dim=dim))      # (..., C)
        pre = (sel - mean) * scale + b
        out = torch.where(pre > 0, pre, pre * slope)
        ctx.save_for_backward(y, sel, mean, invstd, w, pre)
        ctx.training, ctx.slope, ctx.dim = training, slope, dim
        ctx.has_affine = weight is not None
        return out

    @staticmethod
    def backward(ctx, g):
        y, sel, mean, invstd, w, pre = ctx.saved_tensors
        dim = ctx.dim
        C = y.shape[-1]
        red = tuple(range(g.dim() - 1))                                     # all but channels
        gpre = torch.where(pre > 0, g, g * ctx.slope)
        xhat = (sel - mean) * invstd
        g_weight = (gpre * xhat).sum(red) if ctx.has_affine else None
        g_bias = gpre.sum(red) if ctx.has_affine else None
        g_sel = gpre * (w * invstd)                                         # (..., C)
        if ctx.training:
            m = y.numel() // C
            g_mean = -g_sel.sum(red)                                        # explicit dependence
            g_var = (gpre * (sel - mean) * w).sum(red) * (-0.5) * invstd.pow(3)
            b = 2.0 * g_var / m
            a = g_mean / m - b * mean
            g_y = torch.addcmul(a, y, b)                                    # dense: through the statistics
        else:
            g_y = torch.zeros_like(y)
        g_sel_b = g_sel.unsqueeze(dim)
        g_y.add_((y == sel.unsqueeze(dim)) * g_sel_b)                       # sparse: through max / min
        return g_y, g_weight, g_bias, None, None, None, None, None, None, None


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


class PointClassifier(Configurable):
    """Base class: ``forward(points (B, N, 3 + C)) -> logits (B, num_classes)``.

    Every subclass records its constructor arguments in ``self.config`` (``{"class_path",
    "init_args"}``, plain values only), so a checkpoint can rebuild the network from its config alone
    (see :func:`build_model`).

    ``forward_train`` also returns a scalar regularisation loss (zero unless the model defines one,
    e.g. PointNet's feature-transform orthogonality), so the task needs no model-specific code.
    """

    num_classes: int
    in_channels: int

    def forward_train(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self(points), points.new_zeros(())


build_model = build

