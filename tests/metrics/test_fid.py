"""FID, diversity, multimodality and recognition accuracy against hand-computed values."""
import numpy as np
import pytest
import torch

from motion3d.metrics.fid import diversity, fid, frechet_distance, multimodality, recognition_accuracy


def test_frechet_identical_and_shifted_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 8))
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.arange(8) * 0.5
    assert fid(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)  # same covariance


def test_frechet_known_covariances():
    # 1D: (m1 - m2)^2 + s1 + s2 - 2 sqrt(s1 s2) = 1 + 4 + 1 - 4 = 2
    assert frechet_distance([0.0], [[4.0]], [1.0], [[1.0]]) == pytest.approx(2.0)
    # singular covariances stay finite
    z = np.zeros((3, 3))
    assert frechet_distance(np.zeros(3), z, np.ones(3), z) == pytest.approx(3.0, abs=1e-4)
    with pytest.raises(ValueError, match="mismatched"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_diversity_and_multimodality():
    f = np.zeros((10, 2))
    f[5:, 0] = 3.0  # two clusters 3 apart
    labels = np.array([0] * 5 + [1] * 5)
    assert multimodality(f, labels) == 0.0  # identical within each label
    d = diversity(f, num_pairs=10, seed=1)
    assert 0.0 < d <= 3.0
    assert diversity(np.ones((6, 3))) == 0.0
    with pytest.raises(ValueError):
        multimodality(f[:2], [0, 1])


def test_recognition_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0], [0.0, 5.0]])
    assert recognition_accuracy(logits, torch.tensor([0, 1, 1, -1])) == pytest.approx(2 / 3)
    assert np.isnan(recognition_accuracy(logits, [-1, -1, -1, -1]))
