"""Building blocks shared by the point-cloud networks (channels-last: features are ``(..., C)``).

Channels-last shared MLPs (a ``Linear`` applied to every point) are faster on CPU than
``Conv1d``/``Conv2d`` with kernel 1 and read more simply; BatchNorm runs over all leading dims.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from motion3d.models.config import Configurable


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

    ``pool(x, dim)`` is ``self(x).max(dim).values`` with the last layer's Linear, BatchNorm,
    activation and max pooling fused into one autograd function (see :class:`LinearBNActPool`):
    same result, same parameters, same BatchNorm statistics, but neither the last layer's
    ``(..., C_out)`` output nor its gradient is kept or formed densely where the pooled dim is long.
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
        self.num_layers = len(channels)
        self.slope = 0.2 if activation == "leaky_relu" else 0.0
        self.fusable = last_activation and activation in ("relu", "leaky_relu")

    def pool(self, x: torch.Tensor, dim: int, first_linear_done: bool = False) -> torch.Tensor:
        """Max over ``dim`` of the MLP's output: ``(..., K, ..., C_in) -> (..., C_out)`` with K removed.

        ``first_linear_done``: ``x`` is already the first Linear's output ``(..., K, ..., C_1)`` (a
        caller that can compute it more cheaply, e.g. before grouping, see :meth:`first_linear`).
        """
        layers = list(self)
        if first_linear_done:
            if self.num_layers < 2:
                raise ValueError("first_linear_done needs at least two layers (the last one is fused)")
            layers = layers[1:]
        if not self.fusable:
            for layer in layers:
                x = layer(x)
            return x.max(dim=dim).values
        for layer in layers[:-3]:
            x = layer(x)
        lin: nn.Linear = self[-3]
        bn: nn.BatchNorm1d = self[-2]
        if dim < 0:
            dim += x.dim()
        x = x.movedim(dim, -2)                                     # (..., K, C_in)
        lead = x.shape[:-2]
        training = bn.training or bn.running_mean is None
        if training and bn.running_mean is not None:
            bn.num_batches_tracked += 1
        out = LinearBNActPool.apply(x.reshape(-1, *x.shape[-2:]), lin.weight, bn.weight, bn.bias,
                                    bn.running_mean, bn.running_var, training,
                                    bn.momentum if bn.momentum is not None else 0.1, bn.eps, self.slope)
        return out.reshape(*lead, out.shape[-1])

    @property
    def first_linear(self) -> nn.Linear:
        """The first layer's (bias-free) Linear; ``pool(first_linear(x), dim, first_linear_done=True)``
        equals ``pool(x, dim)``."""
        return self[0]


class LinearBNActPool(torch.autograd.Function):
    """``max_K act(BN(x @ W^T))`` for a bias-free Linear, a per-channel BatchNorm and a monotone
    activation (ReLU / LeakyReLU), exact in value and gradient, with three shortcuts:

    * Statistics: ``y = x W^T`` is linear in ``x``, so the batch mean and (biased) variance of
      channel c are ``W_c mu`` and ``W_c S W_c^T`` with ``mu``, ``S`` the mean and covariance of the
      rows of ``x`` (``C_in x C_in``, from centred rows: no cancellation). No pass over ``y``.
    * Pooling: BN is affine per channel (increasing where ``weight / std >= 0``) and the activation
      is increasing, so the max of the activated output is the activation of BN applied to the max
      of ``sign_c * y`` (max for positive scales, min for negative): only ``(P, C)`` pooled values are
      normalised and activated.
    * Backward: the gradient through the statistics is a rank-structured term computed from ``mu``,
      ``S`` and ``W`` (``C x C_in`` and ``C_in x C_in`` products); the gradient through the pooled
      values touches one row of ``x`` per (cloud, channel). When the pooled dim K is longer than
      ``C_in`` that term is a gather / scatter of ``(P, C, C_in)`` values instead of two
      ``(P K) x C x C_in`` matrix products; otherwise it is those products with a one-hot matrix.
      Only the arg-max indices are kept, never ``y`` (ties go to one index, as ``Tensor.max`` does).

    Shapes: x ``(P, K, C_in)``, weight ``(C, C_in)`` -> ``(P, C)``.
    """

    @staticmethod
    def _gathers(K: int, Cin: int) -> bool:
        """Whether the pooled-value gradient is a gather / scatter (long pooled dim) rather than
        dense one-hot products; the forward pass then lays ``y`` out as ``(P, C, K)``."""
        return K > Cin

    @staticmethod
    def forward(ctx, x, weight, bn_weight, bn_bias, running_mean, running_var, training, momentum, eps,
                slope):
        device = x.device.type
        # Under autocast the two big products (y and, in backward, the dense one-hot term) run in
        # the autocast dtype; statistics, normalisation and the rank-structured terms stay in float32.
        amp = torch.is_autocast_enabled(device)
        cdt = torch.get_autocast_dtype(device) if amp else x.dtype
        sdt = torch.promote_types(torch.promote_types(x.dtype, weight.dtype), torch.float32)
        with torch.autocast(device, enabled=False):
            out, saved = LinearBNActPool._forward(x, weight, bn_weight, bn_bias, running_mean, running_var,
                                                  training, momentum, eps, slope, cdt, sdt)
        ctx.save_for_backward(x, weight, *saved)
        ctx.training, ctx.slope, ctx.cdt, ctx.sdt = training, slope, cdt, sdt
        ctx.has_affine = bn_weight is not None
        return out

    @staticmethod
    def _forward(x, weight, bn_weight, bn_bias, running_mean, running_var, training, momentum, eps, slope,
                 cdt, sdt):
        P, K, Cin = x.shape
        m = P * K
        weight = weight.to(sdt)
        if training:
            xf = x.reshape(m, Cin).to(sdt)
            mu = xf.mean(0)
            xc = xf - mu
            cov = (xc.T @ xc) / m                                   # (C_in, C_in)
            ws = weight @ cov                                       # (C, C_in)
            mean = weight @ mu
            var = (ws * weight).sum(1).clamp_min(0.0)
            if running_mean is not None:
                with torch.no_grad():
                    running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype), alpha=momentum)
                    running_var.mul_(1 - momentum).add_((var * (m / max(m - 1, 1))).to(running_var.dtype),
                                                        alpha=momentum)
        else:
            mu = ws = None
            mean, var = running_mean.to(sdt), running_var.to(sdt)
        invstd = torch.rsqrt(var + eps)
        w = bn_weight.to(sdt) if bn_weight is not None else torch.ones_like(invstd)
        b = bn_bias.to(sdt) if bn_bias is not None else torch.zeros_like(invstd)
        scale = w * invstd
        sign = torch.where(scale >= 0, 1.0, -1.0).to(sdt)
        xb, wsigned = x.to(cdt), (weight * sign[:, None]).to(cdt)
        if LinearBNActPool._gathers(K, Cin):                        # (P, C, K): max over a contiguous dim
            sel_s, idx = torch.matmul(wsigned, xb.transpose(1, 2)).max(dim=-1)
        else:                                                       # (P, K, C)
            sel_s, idx = (xb @ wsigned.T).max(dim=1)
        sel = sel_s.to(sdt) * sign                                  # max or min of y per (cloud, channel)
        pre = (sel - mean) * scale + b
        out = torch.where(pre > 0, pre, pre * slope)
        return out, (sel, mean, invstd, w, pre, mu, ws, idx)

    @staticmethod
    def backward(ctx, g):
        x, weight, sel, mean, invstd, w, pre, mu, ws, idx = ctx.saved_tensors
        with torch.autocast(x.device.type, enabled=False):
            g_x, g_w, g_bn_w, g_bn_b = LinearBNActPool._backward(ctx, g.to(ctx.sdt), x, weight.to(ctx.sdt), sel,
                                                                 mean, invstd, w, pre, mu, ws, idx)
        return (g_x.to(x.dtype), g_w.to(weight.dtype), g_bn_w, g_bn_b,
                None, None, None, None, None, None)

    @staticmethod
    def _backward(ctx, g, x, weight, sel, mean, invstd, w, pre, mu, ws, idx):
        P, K, Cin = x.shape
        C = weight.shape[0]
        m = P * K
        gpre = torch.where(pre > 0, g, g * ctx.slope)               # (P, C)
        g_bn_w = (gpre * (sel - mean) * invstd).sum(0) if ctx.has_affine else None
        g_bn_b = gpre.sum(0) if ctx.has_affine else None
        g_sel = gpre * (w * invstd)                                 # dL / d(pooled y)
        xs = x.reshape(m, Cin).to(ctx.sdt)
        if ctx.training:
            g_mean = -g_sel.sum(0)                                  # (C,)
            g_var = (gpre * (sel - mean) * w).sum(0) * (-0.5) * invstd.pow(3)
            # mean_c = W_c mu, var_c = W_c S W_c^T
            g_w = torch.outer(g_mean, mu) + 2.0 * g_var[:, None] * ws
            a = weight.T @ (g_var[:, None] * weight)                # (C_in, C_in), symmetric
            g_x = torch.addmm((g_mean @ weight / m).expand(m, Cin), xs - mu, a, alpha=2.0 / m)
        else:
            g_w = torch.zeros_like(weight)
            g_x = torch.zeros_like(xs)
        if LinearBNActPool._gathers(K, Cin):                        # one row of x per (cloud, channel)
            idx_e = idx.unsqueeze(-1).expand(P, C, Cin)
            g_w += torch.einsum("pc,pci->ci", g_sel, xs.view(P, K, Cin).gather(1, idx_e))
            g_x.view(P, K, Cin).scatter_add_(1, idx_e, g_sel.unsqueeze(-1) * weight)
        else:                                                       # dense: one-hot rows at the arg-max
            gc = g_sel.to(ctx.cdt)
            s = gc.new_zeros(P, K, C).scatter_(1, idx.unsqueeze(1), gc.unsqueeze(1)).view(m, C)
            g_w += (s.T @ x.reshape(m, Cin).to(ctx.cdt)).to(ctx.sdt)
            g_x += (s @ weight.to(ctx.cdt)).to(ctx.sdt)
        return g_x.view(P, K, Cin), g_w, g_bn_w, g_bn_b


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
    (see :func:`motion3d.models.config.build`).

    ``forward_train`` also returns a scalar regularisation loss (zero unless the model defines one,
    e.g. PointNet's feature-transform orthogonality), so the task needs no model-specific code.
    """

    num_classes: int
    in_channels: int

    def forward_train(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self(points), points.new_zeros(())


