"""motion3d.tasks.sampling: one call, net.sample(), for every generator; no dispatch on task names."""
from __future__ import annotations

import pytest
import torch

from motion3d.models.motion import MotionClassifier, MotionTransformer, MotionVAE, Seq2SeqGRU
from motion3d.tasks.sampling import parse_labels, sample_features
from tests.tasks.helpers import tiny_context


@pytest.mark.parametrize("make", [
    lambda d: MotionVAE(d, 2, 1, latent_dim=4, dim=8, layers=1, heads=2, ff_dim=8),
    lambda d: Seq2SeqGRU(d, 2, 1, hidden=8, conditional=True),
    lambda d: MotionTransformer(d, 2, 1, dim=8, layers=1, heads=2, ff_dim=8, max_len=16, conditional=True),
])
def test_every_generator_samples_through_one_method(make):
    ctx = tiny_context()
    net = make(ctx.dim).eval()
    x, ids = sample_features(net, ctx, 3, 10, {"content": "run"}, seed=1)
    assert x.shape == (3, 10, ctx.dim) and torch.isfinite(x).all()
    assert ids["content"].tolist() == [1, 1, 1]
    again, _ = sample_features(net, ctx, 3, 10, {"content": "run"}, seed=1)
    torch.testing.assert_close(x, again)  # seeded
    if net.deterministic:  # the first frame is the mean frame (zeros in normalised features)
        assert x[:, 0].abs().max() == 0
        seeded, _ = sample_features(net, ctx, 3, 10, {"content": "run"}, constraints={"seed": torch.ones(3, 2, ctx.dim)})
        assert torch.equal(seeded[:, :2], torch.ones(3, 2, ctx.dim))
    else:
        other, _ = sample_features(net, ctx, 3, 10, {"content": "run"}, seed=2)
        assert not torch.allclose(x, other)
        with pytest.raises(ValueError, match="cannot follow constraints"):
            sample_features(net, ctx, 3, 10, constraints={"seed": torch.ones(3, 2, ctx.dim)})


def test_a_network_without_sample_is_refused_by_name():
    ctx = tiny_context()
    with pytest.raises(ValueError, match=r"MotionClassifier \(recognize checkpoint\) does not generate motion"):
        sample_features(MotionClassifier(ctx.dim, 2, 1), ctx, 2, 8, task="recognize")


def test_labels_are_checked_against_the_checkpoint():
    ctx = tiny_context()
    assert parse_labels("content=walk, style=angry", ctx) == {"content": "walk", "style": "angry"}
    with pytest.raises(ValueError, match=r"unknown content label 'fly'; the checkpoint knows: \['walk', 'run'\]"):
        parse_labels("content=fly", ctx)
    with pytest.raises(ValueError, match="content=NAME or style=NAME"):
        parse_labels("mood=happy", ctx)
