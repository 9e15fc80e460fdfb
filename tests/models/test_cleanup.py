"""CleanupNet: shapes, identity at initialisation, mask input, the gate, gradients, build round trip."""
from __future__ import annotations

import pytest
import torch

from motion3d.models.config import build
from motion3d.models.motion import CleanupNet
from motion3d.ops.filters import gaussian_smooth


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


def test_robust_input_sees_a_spike_and_not_a_fast_monotonic_motion():
    """With ``robust_input`` the network also reads each channel's residual from its running median:
    zero on any motion monotonic over ``median_size`` frames, the spike where a frame jumps and returns."""
    net = CleanupNet(3, width=8, blocks=1, levels=1, gate=True, robust_input=True, median_size=5)
    assert net.inp.in_channels == 9 and CleanupNet(3, width=8).inp.in_channels == 6
    torch.nn.init.normal_(net.head.weight, std=0.5)
    with torch.no_grad():
        net.inp.weight[:, :6] = 0.0  # read the residual only
    t = torch.linspace(0, 1, 20)
    slow, fast = t[None, :, None].repeat(1, 1, 3), (5 * t ** 2)[None, :, None].repeat(1, 1, 3)
    spiked = slow.clone()
    spiked[0, 9:11, 1] += 3.0  # a two-frame spike on one channel
    c_slow, _ = net.parts(slow)
    c_fast, _ = net.parts(fast)
    c_spike, _ = net.parts(spiked)
    assert torch.allclose(c_slow, c_fast)  # the residual of either is 0
    assert (c_spike - c_slow).abs()[0, 9:11].max() > 1e-3
    other = build(net.config)
    other.load_state_dict(net.state_dict())
    assert torch.allclose(other(spiked), net(spiked))
    with pytest.raises(ValueError, match="odd"):
        CleanupNet(3, robust_input=True, median_size=4)


def test_smooth_sigma_opens_onto_the_low_passed_input_and_passes_closed_channels_exactly():
    """``smooth_sigma``: where the gate opens, the output starts from a Gaussian low-pass of the input
    (zero head: exactly that), where it is closed the input passes bit for bit; unknown channels are
    always filled."""
    torch.manual_seed(0)
    net = CleanupNet(6, width=16, blocks=2, levels=2, smooth_sigma=1.5)
    x = torch.randn(2, 30, 6)
    correction, logits = net.parts(x)
    assert torch.allclose(correction, gaussian_smooth(x, 1.5, dim=1) - x, atol=1e-6)  # zero-initialised head
    on = logits > net.gate_threshold
    assert 0 < int(on.sum()) < on.numel()
    y = net(x)
    assert torch.equal(y[~on], x[~on])
    assert torch.allclose(y[on], gaussian_smooth(x, 1.5, dim=1)[on], atol=1e-6)
    noisy = torch.sin(torch.linspace(0, 3, 30))[None, :, None].repeat(1, 1, 6) + 0.2 * torch.randn(1, 30, 6)
    gate_off = CleanupNet(6, width=16, blocks=2, levels=2, smooth_sigma=1.5, gate=False)
    rough = lambda v: float((v[:, 2:] - 2 * v[:, 1:-1] + v[:, :-2]).abs().mean().detach())  # noqa: E731
    assert rough(gate_off(noisy)) < 0.3 * rough(noisy)  # no gate: low-passed everywhere
    other = build(net.config)
    other.load_state_dict(net.state_dict())
    assert torch.equal(other(x), net(x)) and other.smooth_sigma == 1.5
    with pytest.raises(ValueError, match="smooth_sigma"):
        CleanupNet(6, smooth_sigma=-1.0)
