"""CleanupNet: shapes, identity at initialisation, mask input, the gate, gradients, build round trip."""
from __future__ import annotations

import pytest
import torch

from motion3d.models.config import build
from motion3d.models.motion import CleanupNet


def test_shapes_passthrough_gradients_and_rebuild():
    net = CleanupNet(10, width=16, blocks=3, levels=2, gate=False)
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


def test_gate_passes_clean_channels_exactly_and_always_fills_unknown_ones():
    torch.manual_seed(0)
    net = CleanupNet(10, width=16, blocks=2, levels=2)  # gated by default
    x = torch.randn(2, 25, 10)
    assert torch.equal(net(x), x)  # zero correction at initialisation
    torch.nn.init.normal_(net.head.weight, std=0.1)
    correction, logits = net.parts(x)
    assert correction.shape == logits.shape == x.shape
    y = net(x)
    on = logits > 0
    assert 0 < int(on.sum()) < on.numel()  # a random gate opens some channels, not all
    assert torch.equal(y[~on], x[~on])  # closed gate: the input, bit for bit
    assert torch.allclose(y[on], (x + correction)[on])
    known = torch.ones_like(x, dtype=torch.bool)
    known[:, 5:9, 2] = False
    y2 = net(x, known)
    c2, l2 = net.parts(x, known)
    assert torch.allclose(y2[:, 5:9, 2], (x + c2)[:, 5:9, 2])  # unknown: filled whatever the gate says
    # straight-through: the same forward value, gradients reach the gate
    z = net.compose(x, correction, logits, straight_through=True)
    assert torch.allclose(z, y)
    z.square().mean().backward()
    assert net.gate.weight.grad is not None and float(net.gate.weight.grad.abs().sum()) > 0
    other = build(net.config)
    other.load_state_dict(net.state_dict())
    assert torch.equal(other(x), net(x))
