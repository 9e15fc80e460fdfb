"""Skeleton-aware networks for learned retargeting (Aberman et al. 2020): skeletal convolution and
pooling built from any skeleton's parents, per-skeleton autoencoders to a shared latent."""
from motion3d.models.retarget.layers import SkeletalConv, SkeletalPool, SkeletalUnpool
from motion3d.models.retarget.network import (
    DOMAINS, DomainAutoencoder, JointLayout, RetargetNet, SkeletonDecoder, SkeletonDiscriminator, SkeletonEncoder,
    StaticEncoder,
)
from motion3d.models.retarget.topology import neighbourhood, pooling_groups, subgraph_parents, tree_distances

__all__ = ["SkeletalConv", "SkeletalPool", "SkeletalUnpool", "JointLayout", "SkeletonEncoder", "SkeletonDecoder",
           "StaticEncoder", "DomainAutoencoder", "RetargetNet", "SkeletonDiscriminator", "DOMAINS", "neighbourhood", "pooling_groups",
           "subgraph_parents", "tree_distances"]
