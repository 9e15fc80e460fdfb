"""Classical clean-up filters: low-pass, Savitzky-Golay, median, gap filling, rotations."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motion3d.geometry.rotations import axis_angle_to_quat
from motion3d.ops.filters import (butterworth, fill_gaps, fill_rotation_gaps, filter_rotations, gaussian_smooth,
                                  median, run_lengths, running_median, savgol)


def test_butterworth_removes_high_frequency_noise_and_keeps_a_slow_sine():
    fps = 30.0
    t = np.arange(300) / fps
    slow = np.sin(2 * np.pi * 0.5 * t)
    noisy = slow + 0.3 * np.sin(2 * np.pi * 12.0 * t)
    out = butterworth(noisy[:, None], fps, cutoff=4.0)[:, 0]
    assert np.abs(out - slow)[10:-10].max() < 0.02  # zero-phase: no delay of the slow part
    assert np.abs(noisy - slow)[10:-10].max() > 0.25
    sg = savgol(noisy, window=11, polyorder=2)
    assert np.abs(sg - slow)[10:-10].std() < np.abs(noisy - slow).std() / 2


def test_median_removes_a_spike():
    x = np.linspace(0.0, 1.0, 50)
    y = x.copy()
    y[20] = 10.0
    out = median(y, size=5)
    assert abs(out[20] - x[20]) < 0.05 and np.abs(out - x).max() < 0.05


def test_gap_filling_is_exact_on_linear_data():
    t = np.arange(40, dtype=float)
    x = np.stack([2 * t + 1, -t], axis=1)  # (T, 2)
    known = np.ones((40, 2), bool)
    known[5:15, 0] = False
    known[30:34] = False
    noisy = np.where(known, x, 1e6)
    out = fill_gaps(noisy, known, dim=0)
    np.testing.assert_allclose(out, x, atol=1e-9)
    known[:3, 1] = False  # before the first known frame: held
    out = fill_gaps(np.where(known, x, 1e6), known, dim=0)
    assert np.allclose(out[:3, 1], x[3, 1])
    xt = torch.as_tensor(noisy)  # torch in, torch out
    assert torch.is_tensor(fill_gaps(xt, torch.as_tensor(known), dim=0))


def test_rotation_gaps_slerp_and_filters_keep_unit_quaternions():
    angles = torch.linspace(0, 1.0, 21, dtype=torch.float64)
    q = axis_angle_to_quat(torch.stack([torch.zeros(21), angles, torch.zeros(21)], -1).double()).numpy()[:, None]
    known = np.ones((21, 1), bool)
    known[5:15] = False
    filled = fill_rotation_gaps(np.where(known[..., None], q, np.nan), known)
    np.testing.assert_allclose(np.abs((filled * q).sum(-1)), 1.0, atol=1e-9)  # constant speed: slerp exact
    flipped = q.copy()
    flipped[::2] *= -1  # sign flips must not average out
    out = filter_rotations(flipped, "butterworth", 30.0)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.abs((out * q).sum(-1)), 1.0, atol=1e-3)


def test_run_lengths_along_any_dim():
    m = torch.tensor([0, 1, 1, 0, 1, 1, 1]).bool()
    assert run_lengths(m).tolist() == [0, 2, 2, 0, 3, 3, 3]
    both = torch.stack([m, ~m], -1)  # (T, 2): time on dim 0
    assert run_lengths(both, dim=0)[:, 1].tolist() == [1, 0, 0, 1, 0, 0, 0]
    assert run_lengths(torch.ones(2, 5, dtype=torch.bool), dim=1).tolist() == [[5] * 5] * 2
    assert int(run_lengths(torch.zeros(4, dtype=torch.bool)).sum()) == 0


def test_running_median_matches_the_numpy_median_along_any_dim():
    x = torch.randn(3, 17, 4, dtype=torch.float64)
    for dim in (0, 1, 2):
        for size in (1, 3, 5):
            got = running_median(x, size, dim=dim)
            assert got.shape == x.shape
            assert np.allclose(got.numpy(), median(x.numpy(), size, axis=dim))
    ramp = torch.arange(10.0) ** 2  # monotonic however fast: its own median
    assert torch.equal(running_median(ramp, 5), ramp)
    with pytest.raises(ValueError, match="odd"):
        running_median(x, 4)


def test_gaussian_smooth_matches_scipy_inside_keeps_lines_and_cuts_noise():
    from scipy.ndimage import gaussian_filter1d

    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 40, 5, dtype=torch.float64, generator=g)
    for dim in (0, 1, 2):
        got = gaussian_smooth(x, 1.5, dim=dim)
        ref = gaussian_filter1d(x.numpy(), 1.5, axis=dim, mode="nearest", truncate=3.0)
        assert got.shape == x.shape and np.allclose(got.numpy(), ref)  # scipy's kernel, edges repeated
    line = torch.linspace(-1, 2, 30, dtype=torch.float64)
    assert torch.allclose(gaussian_smooth(line, 1.0)[3:-3], line[3:-3])  # a line passes (away from the edges)
    noise = torch.randn(2000, dtype=torch.float64, generator=g)
    assert 0.48 < float(gaussian_smooth(noise, 1.0).std()) < 0.58  # white noise: (2 sqrt(pi) sigma)^-0.5 = 0.53
    assert torch.equal(gaussian_smooth(x, 0.0), x)
    x.requires_grad_(True)
    gaussian_smooth(x, 1.0, dim=1).sum().backward()
    assert x.grad is not None
    with pytest.raises(ValueError, match="sigma"):
        gaussian_smooth(x, -1.0)


def test_hampel_keeps_a_clean_reversal_and_replaces_a_spike():
    from motion3d.ops.filters import hampel

    t = np.linspace(0, 2 * np.pi, 60)
    x = np.stack([np.sin(t), np.cos(t)], -1)  # reversals a running median cuts
    assert np.abs(median(x, 5) - x).max() > 0.005
    assert np.array_equal(hampel(x, 0.3), x)
    spiked = x.copy()
    spiked[20:22, 0] += 1.0
    out = hampel(spiked, [0.3, 0.3])
    assert np.abs(out[20:22, 0] - x[20:22, 0]).max() < 0.25  # the spike gone (the median: a neighbour's value)
    assert np.array_equal(np.delete(out, [20, 21], 0), np.delete(x, [20, 21], 0))  # the rest exactly kept
    # linear fill: a spike on a moving signal interpolated from its neighbours, not set to one of them
    ramp = np.linspace(0.0, 5.0, 60)[:, None]
    spiked = ramp.copy()
    spiked[30:32] += 3.0
    np.testing.assert_allclose(hampel(spiked, 1.0, fill="linear"), ramp, atol=1e-12)
    assert np.abs(hampel(spiked, 1.0)[30:32] - ramp[30:32]).max() > 0.1  # (the median: a neighbour's value)
    with pytest.raises(ValueError, match="fill"):
        hampel(x, 0.3, fill="cubic")


def test_hampel_vector_finds_a_3d_jump_whatever_its_direction():
    """A jump of 1.5 thresholds along a diagonal has every component under the threshold: tested per
    channel it stays, tested as one 3D vector it goes (all three channels)."""
    from motion3d.ops.filters import hampel

    t = np.linspace(0, 2, 60)[:, None]
    x = np.concatenate([t, 0.1 * np.sin(3 * t), -0.5 * t], -1)  # (60, 3) a moving position
    jumped = x.copy()
    jumped[30] += 1.5 * 0.3 / np.sqrt(3)  # 0.26 per axis, 0.45 long
    np.testing.assert_array_equal(hampel(jumped, 0.3, fill="linear"), jumped)  # per channel: missed
    out = hampel(jumped, 0.3, fill="linear", vector=True)
    np.testing.assert_allclose(out[30], x[30], atol=2e-3)  # (the line between its neighbours)
    np.testing.assert_array_equal(np.delete(out, 30, 0), np.delete(x, 30, 0))
    np.testing.assert_array_equal(hampel(x, 0.3, vector=True), x)  # a clean signal passes exactly
    with pytest.raises(ValueError, match="vector"):
        hampel(x, 0.3, axis=-1, vector=True)


def test_hampel_edges_extrapolate_finds_outliers_on_the_first_and_last_samples():
    """With the running median's edges repeating the edge sample, an outlier there is its own median;
    ``edges="extrapolate"`` checks it against the line through the next two samples, exactly on a
    line, and leaves a noisy signal's edges alone (its threshold grows with the local noise)."""
    from motion3d.ops.filters import hampel

    t = np.linspace(0, 2, 60)[:, None]
    x = np.concatenate([1.0 + 2.0 * t, 0.5 - t], -1)  # (60, 2) straight lines
    spiked = x.copy()
    spiked[0] += [0.8, -0.6]
    spiked[1, 0] += 0.9  # the first two samples, one of them on one channel
    spiked[-1, 1] += 1.0
    assert np.abs(hampel(spiked, 0.3, fill="linear")[[0, -1]] - x[[0, -1]]).max() > 0.5  # missed
    for vector in (False, True):
        out = hampel(spiked, 0.3, fill="linear", vector=vector, edges="extrapolate")
        np.testing.assert_allclose(out, x, atol=1e-9)
    np.testing.assert_array_equal(hampel(x, 0.3, edges="extrapolate"), x)
    noisy = x + np.random.default_rng(0).normal(0.0, 0.2, x.shape)  # second differences ~0.5
    np.testing.assert_array_equal(hampel(noisy, 0.3, edges="extrapolate")[[0, 1, -2, -1]],
                                  hampel(noisy, 0.3)[[0, 1, -2, -1]])
    short = spiked[:10]  # too short for the edge test: as "nearest"
    np.testing.assert_array_equal(hampel(short, 0.3, edges="extrapolate"), hampel(short, 0.3))
    with pytest.raises(ValueError, match="edges"):
        hampel(x, 0.3, edges="reflect")
