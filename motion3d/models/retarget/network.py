"""Skeleton-aware retargeting networks (Aberman et al. 2020): one autoencoder per skeleton domain
to a shared latent of a fixed primal-skeleton size, and the two-domain :class:`RetargetNet`.

Feature frames ``(B, T, D)`` (normalised, e.g. ``rot6d``) are split by joint from the channel
names (``"rot6d:Hips:0"``, ``"contact:LeftToe"``; names without a joint, the root trajectory, go to
the graph's root joint) into ``(B, J * C0, T)`` with ``C0`` the most channels any joint has
(zero-padded). The encoder alternates skeletal convolution (temporal stride 2) and skeletal
pooling, then mixes the pooled joints into ``primal_joints`` latent joints; the decoder mirrors it
(upsampling, unpooling, skeletal convolution) and is conditioned on the skeleton's bone offsets
through the static branch, so proportions inform the output (root height and speed).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from motion3d.models.motion.blocks import MLP, MotionNet
from motion3d.models.retarget.layers import SkeletalConv, SkeletalPool, SkeletalUnpool
from motion3d.models.retarget.topology import subgraph_parents
from motion3d.skeleton import Skeleton

__all__ = ["JointLayout", "SkeletonEncoder", "SkeletonDecoder", "StaticEncoder", "DomainAutoencoder",
           "RetargetNet", "SkeletonDiscriminator", "DOMAINS"]

DOMAINS = ("a", "b")


class JointLayout(nn.Module):
    """Feature channels grouped by joint, from the channel names.

    Attributes: ``joints`` (skeleton indices of the graph joints, sorted), ``parents`` ``(J,)`` of
    the graph, ``channels`` (C0, slots per joint), ``dim`` (D)."""

    def __init__(self, skeleton: Skeleton, feature_names: Sequence[str]):
        super().__init__()
        named = {n.split(":")[1] for n in feature_names if n.count(":") >= 1}
        unknown = sorted(named - set(skeleton.names))
        if unknown:
            raise ValueError(f"feature channels name joints that the skeleton lacks: {unknown}")
        self.joints = sorted(skeleton.index(n) for n in named)
        if not self.joints:
            raise ValueError("no feature channel names a joint (expected names like 'rot6d:Hips:0')")
        self.parents = subgraph_parents(skeleton.parents, self.joints)
        where = {j: i for i, j in enumerate(self.joints)}
        owner = [where[skeleton.index(n.split(":")[1])] if ":" in n else 0 for n in feature_names]
        J, D = len(self.joints), len(feature_names)
        counts = np.bincount(owner, minlength=J)
        self.channels, self.dim = int(counts.max()), D
        slot = np.zeros(D, dtype=np.int64)  # flat slot j * C0 + k of every channel
        seen = np.zeros(J, dtype=np.int64)
        for d, j in enumerate(owner):
            slot[d] = j * self.channels + seen[j]
            seen[j] += 1
        source = np.full(J * self.channels, D, dtype=np.int64)  # D: the zero padding column
        source[slot] = np.arange(D)
        self.register_buffer("slot", torch.as_tensor(slot), persistent=False)
        self.register_buffer("source", torch.as_tensor(source), persistent=False)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``(B, T, D)`` -> joint-major ``(B, J * C0, T)``."""
        if x.shape[-1] != self.dim:
            raise ValueError(f"expected features (B, T, {self.dim}), got {tuple(x.shape)}")
        padded = torch.cat([x, x.new_zeros(x.shape[:-1] + (1,))], dim=-1)
        return padded[..., self.source].transpose(1, 2)

    def merge(self, y: torch.Tensor) -> torch.Tensor:
        """Joint-major ``(B, J * C0, T)`` -> features ``(B, T, D)``."""
        return y.transpose(1, 2)[..., self.slot]


class SkeletonEncoder(nn.Module):
    """``(B, J * C0, T)`` -> latent ``(B, P * C, T / 2^L)`` (``L = len(channels)`` levels).

    Args:
        parents: the graph; ``in_channels``: C0; ``channels``: per-joint width after each level.
        primal_joints: P, latent joints (shared by every domain); ``kernel``, ``distance``: of the
            skeletal convolutions.
    """

    def __init__(self, parents: Sequence[int], in_channels: int, channels: Sequence[int], primal_joints: int,
                 kernel: int = 5, distance: int = 2):
        super().__init__()
        self.convs, self.pools = nn.ModuleList(), nn.ModuleList()
        self.level_parents = [np.asarray(parents)]
        c = int(in_channels)
        for width in channels:
            self.convs.append(SkeletalConv(self.level_parents[-1], c, width, kernel, 2, distance))
            pool = SkeletalPool(self.level_parents[-1])
            self.pools.append(pool)
            self.level_parents.append(pool.pooled_parents)
            c = int(width)
        self.out_channels = c
        self.to_primal = nn.Conv1d(len(self.level_parents[-1]) * c, int(primal_joints) * c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, pool in zip(self.convs, self.pools):
            x = pool(F.leaky_relu(conv(x), 0.2))
        return self.to_primal(x)


class SkeletonDecoder(nn.Module):
    """Latent ``(B, P * C, T')`` + static code ``(B, S)`` -> ``(B, J * C0, T' * 2^L)``; mirrors a
    :class:`SkeletonEncoder` (its ``level_parents``, pools and widths)."""

    def __init__(self, encoder: SkeletonEncoder, out_channels: int, primal_joints: int, static_dim: int,
                 kernel: int = 5, distance: int = 2):
        super().__init__()
        widths = [conv.in_channels for conv in encoder.convs]  # C0, c1, ..., c_{L-1}
        c = encoder.out_channels
        widths[0] = int(out_channels)
        self.from_primal = nn.Conv1d(int(primal_joints) * c + int(static_dim),
                                     len(encoder.level_parents[-1]) * c, 1)
        self.unpools, self.convs = nn.ModuleList(), nn.ModuleList()
        for level in reversed(range(len(encoder.convs))):
            self.unpools.append(SkeletalUnpool(encoder.pools[level]))
            self.convs.append(SkeletalConv(encoder.level_parents[level], c, widths[level], kernel, 1, distance))
            c = widths[level]

    def forward(self, z: torch.Tensor, static: torch.Tensor) -> torch.Tensor:
        x = self.from_primal(torch.cat([z, static.unsqueeze(-1).expand(-1, -1, z.shape[-1])], dim=1))
        last = len(self.convs) - 1
        for i, (unpool, conv) in enumerate(zip(self.unpools, self.convs)):
            x = conv(unpool(F.interpolate(x, scale_factor=2, mode="linear", align_corners=False)))
            if i < last:
                x = F.leaky_relu(x, 0.2)
        return x


class StaticEncoder(MLP):
    """Bone offsets of the graph joints ``(B, J, 3)`` (in units of the domain's rest height) ->
    static code ``(B, S)``."""

    def __init__(self, num_joints: int, static_dim: int, hidden: int = 64):
        super().__init__(3 * int(num_joints), hidden, int(static_dim), layers=2)

    def forward(self, offsets: torch.Tensor) -> torch.Tensor:
        return super().forward(offsets.flatten(-2))


class DomainAutoencoder(nn.Module):
    """Encoder, decoder and static branch of one skeleton.

    ``offsets`` (buffer ``(J, 3)``): the rest offsets of the graph joints divided by the rest height
    (``scale``); other proportions are given to :meth:`decode` in the same units."""

    def __init__(self, skeleton: Skeleton, feature_names: Sequence[str], channels: Sequence[int],
                 primal_joints: int, static_dim: int, kernel: int, distance: int):
        super().__init__()
        self.skeleton = skeleton
        self.layout = JointLayout(skeleton, feature_names)
        self.scale = float(skeleton.height())
        offsets = torch.as_tensor(skeleton.offsets[self.layout.joints] / self.scale, dtype=torch.float32)
        self.register_buffer("offsets", offsets, persistent=False)
        C0 = self.layout.channels
        self.encoder = SkeletonEncoder(self.layout.parents, C0, channels, primal_joints, kernel, distance)
        self.decoder = SkeletonDecoder(self.encoder, C0, primal_joints, static_dim, kernel, distance)
        self.static = StaticEncoder(self.layout.num_joints, static_dim)
        self.factor = 2 ** len(channels)

    def skeleton_offsets(self, skeleton: Skeleton) -> torch.Tensor:
        """``(J, 3)`` graph offsets of another skeleton with this topology, in this domain's units."""
        if not skeleton.same_topology(self.skeleton):
            raise ValueError(f"skeleton differs from the domain's: {self.skeleton.describe_difference(skeleton)}")
        return torch.as_tensor(skeleton.offsets[self.layout.joints] / self.scale, dtype=torch.float32,
                               device=self.offsets.device)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``(B, T, D)`` (T a multiple of ``factor``) -> latent ``(B, P * C, T / factor)``."""
        if x.shape[1] % self.factor:
            raise ValueError(f"window length {x.shape[1]} must be a multiple of {self.factor}")
        return self.encoder(self.layout.split(x))

    def decode(self, z: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        """Latent ``(B, P * C, T')`` and offsets ``(B, J, 3)`` or ``(J, 3)`` (default: the rest
        skeleton's) -> features ``(B, T' * factor, D)``."""
        off = self.offsets if offsets is None else offsets.to(z.dtype)
        if off.dim() == 2:
            off = off.expand(z.shape[0], -1, -1)
        return self.layout.merge(self.decoder(z, self.static(off)))


class RetargetNet(MotionNet):
    """Two skeleton domains ``"a"`` and ``"b"`` sharing a latent space.

    Args:
        skeleton_a, skeleton_b: :meth:`Skeleton.to_dict` of each domain's skeleton.
        features_a, features_b: the channel names of each domain's representation.
        channels: per-joint widths of the encoder levels (each halves the frames).
        primal_joints: P, latent joints; ``static_dim``: width of the static (offsets) code.
        kernel, distance: temporal kernel and neighbourhood radius (bones) of skeletal convolutions.

    ``encode(domain, x)``: ``(B, T, D_domain) -> (B, P * C, T / 2^L)``; ``decode(domain, z,
    offsets)``: back; ``retarget(src, dst, x)``: both. T must be a multiple of ``2^L``.
    """

    def __init__(self, skeleton_a: Mapping[str, Any], features_a: Sequence[str], skeleton_b: Mapping[str, Any],
                 features_b: Sequence[str], channels: Sequence[int] = (32, 64), primal_joints: int = 8,
                 static_dim: int = 16, kernel: int = 5, distance: int = 2):
        super().__init__()
        if not channels:
            raise ValueError("channels must list at least one encoder level")
        self.input_dim, self.num_content, self.num_style = len(features_a), 0, 0
        self.domains = nn.ModuleDict({
            k: DomainAutoencoder(Skeleton.from_dict(dict(sk)), list(names), list(channels), primal_joints, static_dim,
                                 kernel, distance)
            for k, sk, names in (("a", skeleton_a, features_a), ("b", skeleton_b, features_b))})

    @property
    def factor(self) -> int:
        """Window lengths must be multiples of this."""
        return self.domains["a"].factor

    def domain(self, key: str) -> DomainAutoencoder:
        if key not in self.domains:
            raise KeyError(f"unknown domain {key!r}; domains: {list(self.domains)}")
        return self.domains[key]

    def encode(self, key: str, x: torch.Tensor) -> torch.Tensor:
        return self.domain(key).encode(x)

    def decode(self, key: str, z: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        return self.domain(key).decode(z, offsets)

    def retarget(self, source: str, target: str, x: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        """Features ``(B, T, D_source)`` -> ``(B, T, D_target)``."""
        return self.decode(target, self.encode(source, x), offsets)


class SkeletonDiscriminator(nn.Module):
    """Realism score per window of one domain's features: ``(B, T, D) -> (B,)``; skeletal
    convolutions (stride 2) with pooling on the domain's graph, then a mean over frames.

    Args: ``layout``: the domain's :class:`JointLayout`; ``channels``: widths per level."""

    def __init__(self, layout: JointLayout, channels: Sequence[int] = (16, 32), kernel: int = 5, distance: int = 2):
        super().__init__()
        self.layout = layout
        self.body = SkeletonEncoder(layout.parents, layout.channels, channels, 1, kernel, distance)
        self.head = nn.Linear(self.body.out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(self.layout.split(x)).mean(-1)  # (B, C): the one primal joint, averaged over time
        return self.head(F.leaky_relu(h, 0.2)).squeeze(-1)
