"""Skeleton-aware retargeting networks: skeletal convolution masks, pooling, autoencoder shapes."""
from __future__ import annotations

import pytest
import torch

from motion3d.features import build
from motion3d.io import bvh
from motion3d.models.config import build as build_network
from motion3d.models.retarget import (
    JointLayout, RetargetNet, SkeletalConv, SkeletalPool, SkeletalUnpool, neighbourhood, pooling_groups,
    subgraph_parents, tree_distances,
)


@pytest.fixture(scope="module")
def cmu(cmu_dir):
    return bvh.read_header(cmu_dir / "131_01.bvh")[0]


@pytest.fixture(scope="module")
def bandai(bandai_dir):
    return bvh.read_header(sorted((bandai_dir / "data").glob("*walk_normal*.bvh"))[0])[0]


def test_tree_distances_and_subgraph():
    parents = [-1, 0, 1, 0, 3]  # two chains from the root
    d = tree_distances(parents)
    assert d[2, 4] == 4 and d[1, 3] == 2 and (d.diagonal() == 0).all() and (d == d.T).all()
    assert subgraph_parents(parents, [0, 2, 3, 4]).tolist() == [-1, 0, 0, 2]
    with pytest.raises(ValueError, match="one tree"):
        subgraph_parents(parents, [1, 3])


@pytest.mark.parametrize("distance", [1, 2])
def test_skeletal_conv_output_of_a_joint_ignores_non_neighbours(cmu, distance):
    torch.manual_seed(0)
    J, cin, cout = cmu.num_joints, 2, 3
    conv = SkeletalConv(cmu.parents, cin, cout, kernel=3, distance=distance)
    near = neighbourhood(cmu.parents, distance)
    for j in (0, 4, 12, 20, J - 1):
        x = torch.randn(2, J * cin, 9, requires_grad=True)
        conv(x)[:, j * cout:(j + 1) * cout].square().sum().backward()
        per_joint = x.grad.reshape(2, J, cin, 9).abs().sum((0, 2, 3))  # (J,)
        assert (per_joint[torch.as_tensor(~near[j])] == 0).all(), f"joint {j} sees non-neighbours"
        assert (per_joint[torch.as_tensor(near[j])] > 0).all(), f"joint {j} misses a neighbour"


def test_pooling_shapes_cmu_31_and_bandai_22(cmu, bandai):
    assert cmu.num_joints == 31 and bandai.num_joints == 22
    for sk, pooled in ((cmu, 21), (bandai, 13)):
        pool = SkeletalPool(sk.parents)
        assert pool.num_pooled == pooled and len(pool.pooled_parents) == pooled
        assert sorted(j for g in pool.groups for j in g) == list(range(sk.num_joints))
        x = torch.randn(3, sk.num_joints * 4, 10)
        y = pool(x)
        assert y.shape == (3, pooled * 4, 10)
        back = SkeletalUnpool(pool)(y)
        assert back.shape == x.shape
        const = torch.ones(1, sk.num_joints * 4, 5)
        assert torch.allclose(SkeletalUnpool(pool)(pool(const)), const)
    groups, _ = pooling_groups([-1, 0, 1, 2, 3])  # a chain of 5: root, then pairs
    assert groups == [[0], [1, 2], [3, 4]]


def _net(cmu, bandai, **kw):
    ra, rb = build("rot6d", bandai, fps=30), build("rot6d", cmu, fps=30)
    return RetargetNet(bandai.to_dict(), ra.names, cmu.to_dict(), rb.names, **kw), ra, rb


def test_joint_layout_round_trip(cmu):
    rep = build("rot6d", cmu, fps=30)
    layout = JointLayout(cmu, rep.names)
    x = torch.randn(2, 5, rep.dim)
    y = layout.split(x)
    assert y.shape == (2, layout.num_joints * layout.channels, 5)
    assert torch.equal(layout.merge(y), x)


def test_encoder_decoder_shapes_and_config(cmu, bandai):
    torch.manual_seed(0)
    net, ra, rb = _net(cmu, bandai, channels=[4, 8], primal_joints=6, static_dim=5)
    xa, xb = torch.randn(2, 16, ra.dim), torch.randn(3, 16, rb.dim)
    za, zb = net.encode("a", xa), net.encode("b", xb)
    assert za.shape == (2, 6 * 8, 4) and zb.shape == (3, 6 * 8, 4)  # shared latent size
    assert net.decode("b", za).shape == (2, 16, rb.dim) and net.decode("a", zb).shape == (3, 16, ra.dim)
    off = net.domain("b").offsets * 1.1
    assert net.retarget("a", "b", xa, off).shape == (2, 16, rb.dim)
    assert not torch.allclose(net.decode("b", za, off), net.decode("b", za))  # proportions matter
    with pytest.raises(ValueError, match="multiple of 4"):
        net.encode("a", torch.randn(1, 10, ra.dim))
    with pytest.raises(KeyError, match="unknown domain"):
        net.encode("c", xa)
    again = build_network(net.config)
    again.load_state_dict(net.state_dict())
    assert torch.allclose(again.retarget("a", "b", xa), net.retarget("a", "b", xa))
