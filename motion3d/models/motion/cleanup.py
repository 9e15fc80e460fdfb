"""Motion clean-up network: a residual temporal convolution over motion features that repairs
corrupted capture (jitter, spikes, swapped limbs, gaps, sliding feet), in the spirit of Holden's
2018 denoising network for raw capture, but on joint rotations rather than markers.

Per frame the input is the (corrupted) normalised features ``x (B, T, D)`` and the mask
``known (B, T, D)`` of the channels that were observed (gaps: False; their values are whatever the
caller filled in, e.g. linear interpolation). The network, top to bottom:

1. a 1x1 convolution lifts ``[x, known]`` (``2D`` channels) to ``width``; with ``robust_input``
   also ``x - running_median(x)`` over ``median_size`` frames (``3D`` channels): a Hampel-style
   outlier residual, zero wherever the motion is monotonic over those frames however fast it is,
   the spike's size where a frame leaves its neighbours and comes back (see :class:`CleanupNet`);
2. ``blocks`` residual blocks, each a non-causal dilated convolution (kernel ``kernel``, dilation
   ``2^(i mod levels)``), GroupNorm and GELU, then a 1x1 convolution, added to its input; the
   receptive field is ``1 + (kernel - 1) * sum(dilations)`` frames (127 with the defaults), so a
   spike or a 1 s gap is seen with its context on both sides;
3. two 1x1 convolutions back to ``D`` channels: a ``correction`` (initialised at zero; with
   ``smooth_sigma > 0`` it is taken from a Gaussian low-pass of the input rather than from the input
   itself, see below) and, with
   ``gate=True`` (the default), a ``gate`` logit per frame and channel that says whether the input
   there is corrupted (:meth:`CleanupNet.parts`).

The output (:meth:`CleanupNet.compose`) is ``x + g * correction`` where ``g`` is 1 where the gate's
logit exceeds ``gate_threshold`` or the channel is unknown (missing data is always filled), else 0: what the
network finds clean passes through *exactly*, so clean capture is not blurred by the network's own
error (about 0.75 degrees per joint without the gate), and a spike or a swap is repaired where it
is, not smeared over its neighbours. The clean-up task trains the gate against the channels that
the corruption actually changed (binary cross-entropy) and the correction through a straight-through
gate (the hard 0/1 forward, the sigmoid's gradient backward), so training sees what inference
does. ``gate=False``: the output is ``x + correction`` everywhere (the network of the first
checkpoints). At initialisation the correction is zero and (``smooth_sigma`` 0) the network
passes its input through.

``smooth_sigma`` (frames; 0: off): the correction is ``gaussian_smooth(x) - x + head(h)``, so an
open gate outputs the input low-passed plus what the network adds back, instead of the input plus
a correction that must cancel its noise sample by sample. Why: with jitter on every channel the gate
opens almost everywhere (95 % of the rotation channels above the default threshold, val, seed 0),
and the first networks' output kept most of the input's frame-to-frame noise (mean joint
acceleration 21 body heights/s^2 against 4.5 for clean capture, 64 for the input): a 1x1 head has to
learn the noise's exact negative to remove it, while a low-passed base removes it by construction
and leaves the network the detail the low-pass blurred (the classical complement,
:func:`motion3d.tasks.cleanup.smooth_broadband`, then filters the output after the fact).

Convolutions make the network length-agnostic (any ``T``); tools still cut long clips into
cross-faded windows of the training length (:mod:`motion3d.tasks.cleanup_clips`).
"""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.motion.blocks import Labels, MotionNet
from motion3d.ops.filters import gaussian_smooth, running_median

__all__ = ["CleanupNet"]


class _Block(nn.Module):
    def __init__(self, width: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.conv = nn.Conv1d(width, width, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation)
        self.norm = nn.GroupNorm(8 if width % 8 == 0 else 1, width)
        self.act = nn.GELU()
        self.out = nn.Conv1d(width, width, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``h (B, C, T)`` -> ``(B, C, T)``."""
        return h + self.drop(self.out(self.act(self.norm(self.conv(h)))))


class CleanupNet(MotionNet):
    """Residual dilated temporal convolution that cleans motion features (see the module docstring).

    Args:
        input_dim: D, channels per frame (from the data).
        num_content, num_style: label counts (unused: clean-up is label-free; kept for the
            ``(input_dim, num_content, num_style)`` contract of the motion networks).
        width: channels of the hidden layers.
        blocks: residual blocks.
        levels: dilations cycle through ``1, 2, ..., 2^(levels - 1)``.
        kernel: temporal kernel size (odd).
        dropout: dropout inside the blocks.
        gate: predict where the input is corrupted and correct only there (module docstring).
        gate_threshold: the gate opens where its logit exceeds this (0: probability 1/2; higher:
            fewer false repairs of clean capture, more corruption left). Training composes at 0
            whatever this says; it is the applied network's trade-off, chosen on val.
        robust_input: also give the network each channel's residual from its running median over
            ``median_size`` frames (odd; 5 covers spikes of up to 2 frames). Why: a spike on a fast
            ball joint looks like motion to a frame-by-frame eye; the first gated networks found
            only 3-6 % of the upper-arm spikes (legs 93-99 %), whose natural frame-to-frame change
            reaches 20-30 degrees (p99-p99.9 on the training windows), while the running median of
            an arm swinging through a frame is that frame itself. Measured (seed 0, val): upper-arm
            spikes found 4 -> 18 %, hands 18 -> 39 %, but no MPJPE gain (the root dominates what is
            left) and more false repairs of clean capture; not the config's default.
        median_size: frames of that running median.
        smooth_sigma: the correction starts from a Gaussian low-pass of the input with this standard
            deviation (frames) where the gate opens (module docstring); 0: from the input itself.
    """

    deterministic = True

    def __init__(self, input_dim: int, num_content: int = 0, num_style: int = 0, width: int = 128, blocks: int = 8,
                 levels: int = 5, kernel: int = 3, dropout: float = 0.0, gate: bool = True,
                 gate_threshold: float = 0.0, robust_input: bool = False, median_size: int = 5,
                 smooth_sigma: float = 0.0):
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"kernel must be odd, got {kernel}")
        if blocks < 1 or levels < 1 or width < 1:
            raise ValueError(f"blocks, levels and width must be positive, got {blocks}, {levels}, {width}")
        self.input_dim, self.num_content, self.num_style = int(input_dim), int(num_content), int(num_style)
        if median_size < 1 or median_size % 2 == 0:
            raise ValueError(f"median_size must be odd, got {median_size}")
        self.robust_input, self.median_size = bool(robust_input), int(median_size)
        if not smooth_sigma >= 0:
            raise ValueError(f"smooth_sigma must be >= 0, got {smooth_sigma}")
        self.smooth_sigma = float(smooth_sigma)
        self.inp = nn.Conv1d((3 if self.robust_input else 2) * self.input_dim, width, 1)
        self.blocks = nn.ModuleList(_Block(width, kernel, 2 ** (i % levels), dropout) for i in range(blocks))
        self.head = nn.Conv1d(width, self.input_dim, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.gate = nn.Conv1d(width, self.input_dim, 1) if gate else None
        self.gate_threshold = float(gate_threshold)
        self.receptive_field = 1 + (kernel - 1) * sum(2 ** (i % levels) for i in range(blocks))

    def parts(self, x: torch.Tensor, known: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(correction, gate_logits)``, both ``(B, T, D)`` (logits ``None`` without a gate), for
        ``x (B, T, D)`` given ``known (B, T, D)`` (default: everything known)."""
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(f"CleanupNet expects (B, T, {self.input_dim}) features, got {tuple(x.shape)}")
        k = torch.ones_like(x) if known is None else known.to(x.dtype)
        parts = [x, k]
        if self.robust_input:
            parts.append(x - running_median(x, self.median_size, dim=-2))
        h = self.inp(torch.cat(parts, dim=-1).transpose(1, 2))  # (B, C, T)
        for block in self.blocks:
            h = block(h)
        logits = None if self.gate is None else self.gate(h).transpose(1, 2)
        correction = self.head(h).transpose(1, 2)
        if self.smooth_sigma > 0:
            correction = correction + gaussian_smooth(x, self.smooth_sigma, dim=-2) - x
        return correction, logits

    @staticmethod
    def compose(x: torch.Tensor, correction: torch.Tensor, logits: torch.Tensor | None,
                known: torch.Tensor | None = None, straight_through: bool = False,
                threshold: float = 0.0) -> torch.Tensor:
        """The cleaned ``(B, T, D)``: ``x + g * correction`` with ``g`` 1 where ``logits > threshold``
        or ``known`` is False, else 0 (no gate: 1 everywhere). ``straight_through``: the forward value
        is the same, the gradient reaches the logits through their sigmoid (training)."""
        if logits is None:
            return x + correction
        g = (logits > threshold).to(x.dtype)
        if straight_through:
            soft = torch.sigmoid(logits)
            g = g + soft - soft.detach()
        if known is not None:
            g = torch.where(known.bool(), g, torch.ones_like(g))
        return x + g * correction

    def forward(self, x: torch.Tensor, known: torch.Tensor | None = None, labels: Labels = None) -> torch.Tensor:
        """Clean ``x (B, T, D)`` given ``known (B, T, D)`` (default: everything known) -> ``(B, T, D)``."""
        correction, logits = self.parts(x, known)
        return self.compose(x, correction, logits, known, threshold=self.gate_threshold)
