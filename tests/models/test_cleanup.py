"""CleanupNet: shapes, identity at initialisation, mask input, gradients, build round trip."""
from __future__ import annotations

import pytest
import torch

from motion3d.models.config import build
from motion3d.models.motion import CleanupNet


def test_shapes_passthrough_gradients_and_rebuild():
    net = CleanupNet(10, width=16, blocks=3, levels=2)
    x = torch.randn(2, 25, 10)
    assert torch.equal(net(x), x)  # zero-initialised head: clean input passes through
    torch.nn.init.normal_(net.head.weight, std=0.1)
    known = torch.ones_like(x, dtype=torch.bool)
    y = net(x, known)
    assert y.shape == (2, 25, 10) and not torch.equal(y, x)
    assert not torch.equal(net(x, ~known), y)  # the mask is an input
    y.square().mean().backward()
    assert all(p.grad is not None for p in net.parameters())
    other = build(net.config)
    other.load_state_dict(net.state_dict())
    assert torch.allclose(other(x), net(x).detach()) and net.receptive_field == 1 + 2 * (1 + 2 + 1)
    with pytest.raises(ValueError, match="expects"):
        net(torch.randn(2, 5, 9))
    with pytest.raises(ValueError, match="odd"):
        CleanupNet(10, kernel=4)
