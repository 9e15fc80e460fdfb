"""FID, diversity, multimodality, recognition accuracy and precision/recall against hand-computed values."""
import numpy as np
import pytest
import torch

from motion3d.geometry.kinematics import forward_kinematics_np
from motion3d.io import bvh
from motion3d.metrics.fid import (diversity, fid, frechet_distance, knn_radii, manifold_coverage, multimodality,
                                  precision_recall, recognition_accuracy)
from motion3d.metrics.motion import root_relative
from tests.conftest import assert_close


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


def test_knn_radii_on_a_line():
    x = torch.tensor([[0.0], [1.0], [3.0], [6.0]])
    assert_close(knn_radii(x, k=1), [1.0, 1.0, 2.0, 3.0])
    assert_close(knn_radii(x, k=2), [3.0, 2.0, 3.0, 5.0])
    assert_close(knn_radii(x, k=2, budget=1), [3.0, 2.0, 3.0, 5.0])  # one row at a time
    with pytest.raises(ValueError, match="more than k samples"):
        knn_radii(x, k=4)
    # a probe is covered when within the radius of any ball (boundary included)
    covered = manifold_coverage(x, knn_radii(x, k=1), torch.tensor([[7.5], [9.5], [-1.0], [-1.5]]))
    assert covered.tolist() == [True, False, True, False]


def test_precision_recall_identical_disjoint_and_collapsed():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 8))
    assert precision_recall(real, real) == (1.0, 1.0)
    assert precision_recall(real, real + 1000.0) == (0.0, 0.0)
    collapsed = np.repeat(real.mean(0, keepdims=True), 300, axis=0)  # every sample the real mean
    precision, recall = precision_recall(real, collapsed)
    assert precision == 1.0  # the mean sits inside the real manifold...
    assert recall == 0.0  # ...but its zero-radius balls cover no real sample
    two_modes = np.concatenate([real[:150], real[150:] + 50.0])
    one_mode = rng.normal(size=(300, 8))  # a generator that drops one of the two modes
    precision, recall = precision_recall(two_modes, one_mode)
    assert precision > 0.75 and 0.4 < recall <= 0.5, (precision, recall)  # 0.86 and 0.45 measured


def test_precision_recall_chunked_equals_whole_and_checks_input():
    rng = np.random.default_rng(1)
    real, fake = torch.as_tensor(rng.normal(size=(500, 6))), torch.as_tensor(rng.normal(size=(400, 6)) * 1.5 + 0.3)
    whole = precision_recall(real, fake, budget=1 << 30)
    assert precision_recall(real, fake, budget=997) == whole  # a few rows per chunk
    assert 0.0 < whole[0] < 1.0 and 0.0 < whole[1] < 1.0
    with pytest.raises(ValueError, match="dimensions"):
        precision_recall(real, fake[:, :5])
    with pytest.raises(ValueError, match="non-finite"):
        precision_recall(real, fake * float("nan"))
    with pytest.raises(ValueError, match=r"\(N >= 1, F\)"):
        precision_recall(real[0], fake)


def test_precision_recall_on_real_poses(bandai_dir):
    """Root-relative poses as features: two halves of the walks cover each other; a generator that
    always outputs the mean pose (an over-smoothed average) keeps high precision but loses recall."""
    feats = []
    for f in sorted((bandai_dir / "data").glob("dataset-1_walk_*.bvh"))[:8]:
        m = bvh.load(f)
        _, pos = forward_kinematics_np(m.rotations, m.skeleton.offsets, m.skeleton.parents, m.root_positions,
                                       m.translations)
        feats.append(root_relative(torch.as_tensor(pos[::3]), 1).reshape(len(pos[::3]), -1))
    real, other = torch.cat(feats[:4]), torch.cat(feats[4:])
    precision, recall = precision_recall(real, other)
    assert precision > 0.5 and recall > 0.5, (precision, recall)
    mean_pose = real.mean(0, keepdim=True).expand(len(other), -1)
    precision_m, recall_m = precision_recall(real, mean_pose)
    assert recall_m < 0.05 and recall_m < recall, (precision_m, recall_m)
