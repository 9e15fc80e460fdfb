"""Motion networks: shapes, causality, sampling lengths, gradients, config round trips."""
import pytest
import torch

from motion3d.models.motion import (LabelEmbedding, MotionClassifier, MotionTransformer, MotionVAE, PositionalEncoding,
                                    Seq2SeqGRU)
from motion3d.models.config import build
from motion3d.models.motion.blocks import KVCache, causal_encode, causal_mask, transformer_encoder

D = 12
LABELS = {"content": torch.tensor([0, 2, -1]), "style": torch.tensor([1, -1, 0])}


def small(cls, **kw):
    sizes = {Seq2SeqGRU: dict(hidden=16), MotionClassifier: dict(hidden=16, feature_dim=8),
             MotionTransformer: dict(dim=16, layers=2, heads=2, ff_dim=32, max_len=40),
             MotionVAE: dict(latent_dim=8, dim=16, layers=2, heads=2, ff_dim=32)}[cls]
    return cls(D, 3, 2, **{**sizes, **kw})


def test_gru_shapes_residual_start_and_gradients():
    net = small(Seq2SeqGRU, conditional=True)
    x = torch.randn(3, 10, D, requires_grad=True)
    y = net(x, 7, LABELS)
    assert y.shape == (3, 7, D)
    # residual decoder initialised near zero velocity: predictions stay close to the last frame
    assert (y - x[:, -1:]).abs().max() < 0.5
    y.square().mean().backward()
    assert x.grad.abs().sum() > 0 and all(p.grad is not None for p in net.parameters())
    rollout = net.sample(3, 6, LABELS, constraints={"seed": x[:, :1].detach()})
    assert rollout.shape == (3, 6, D) and torch.equal(rollout[:, :1], x[:, :1].detach())
    assert net.deterministic and net.sample(3, 6, LABELS).shape == (3, 6, D)  # from the mean frame
    pred, start = net.forward_train(x.detach(), 4, LABELS)
    assert pred.shape == (3, 6, D) and start == 4


@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
def test_transformer_is_causal(positional):
    net = small(MotionTransformer, positional=positional, conditional=True).eval()
    x = torch.randn(2, 15, D)
    labels = {"content": torch.tensor([1, 0])}
    y = net(x, labels)
    assert y.shape == (2, 15, D)
    x2 = x.clone()
    x2[:, 9:] = torch.randn(2, 6, D) * 10  # change the future of frame 8
    y2 = net(x2, labels)
    torch.testing.assert_close(y[:, :9], y2[:, :9])
    assert not torch.allclose(y[:, 9:], y2[:, 9:])
    # gradient of output t reaches inputs <= t only
    xg = x.clone().requires_grad_(True)
    net(xg, labels)[:, 5].sum().backward()
    assert xg.grad[:, 6:].abs().max() == 0 and xg.grad[:, :6].abs().max() > 0


def test_transformer_predict_generate_and_scheduled_sampling():
    net = small(MotionTransformer)
    x = torch.randn(2, 20, D)
    out = net(x, sampling_prob=1.0)  # training mode: inputs replaced by own predictions
    assert out.shape == (2, 20, D)
    out.mean().backward()
    net.eval()
    assert net.predict(x[:, :8], 5).shape == (2, 5, D)
    # predict equals repeated one-step calls
    step1 = net(x[:, :8])[:, -1:]
    torch.testing.assert_close(net.predict(x[:, :8], 1), step1)
    assert net.predict(x, 22).shape == (2, 22, D)  # context longer than max_len is cropped
    assert net.sample(3, 11).shape == (3, 11, D)
    seeded = net.sample(2, 6, constraints={"seed": x[:, :2]})
    torch.testing.assert_close(seeded[:, 2:], net.predict(x[:, :2], 4))
    with pytest.raises(ValueError, match="only a 'seed' constraint"):
        net.sample(2, 6, constraints={"root_path": x})
    pred, start = net.forward_train(x, 8)
    assert pred.shape == (2, 19, D) and start == 1
    with pytest.raises(ValueError, match="max_len"):
        net(torch.randn(1, 41, D))


def test_transformer_sampling_passes_compound_predictions():
    """With every frame replaced (p = 1), k passes feed the trained pass the k-step free-running
    predictions of the first k + 1 frames: the output there equals predict()'s."""
    torch.manual_seed(0)
    x = torch.randn(2, 12, D)
    for k in (1, 3):
        net = small(MotionTransformer, sampling_passes=k).eval()   # eval: no dropout, same passes
        out = net(x, sampling_prob=1.0)
        free = net.predict(x[:, :1], k + 1)                        # frames 1 .. k+1 from frame 0 only
        torch.testing.assert_close(out[:, :k + 1], free, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="sampling_passes"):
        small(MotionTransformer, sampling_passes=0)


def test_cached_causal_encoding_equals_full_causal_pass():
    """Encoding frames in chunks against a key/value cache gives the rows of one masked pass."""
    torch.manual_seed(0)
    enc = transformer_encoder(16, 4, 2, 32, 0.0).eval()
    tokens = torch.randn(3, 11, 16)
    full = enc(tokens, mask=causal_mask(11), is_causal=True)
    cache = KVCache(2)
    chunks = [causal_encode(enc, tokens[:, a:b], cache) for a, b in ((0, 4), (4, 5), (5, 6), (6, 11))]
    assert len(cache) == 11 and cache.keys[1].shape == (3, 4, 11, 4)
    torch.testing.assert_close(torch.cat(chunks, 1), full, rtol=1e-5, atol=1e-5)


def _naive_predict(net, observed, horizon):
    """Reference autoregression: re-encode the last max_len frames from scratch for every frame."""
    seq = observed
    for _ in range(horizon):
        seq = torch.cat([seq, net(seq[:, -net.max_len:])[:, -1:]], dim=1)
    return seq[:, observed.shape[1]:]


@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
def test_transformer_cached_prediction_equals_reencoding(positional):
    torch.manual_seed(0)
    net = small(MotionTransformer, max_len=12, positional=positional).eval()
    x = torch.randn(2, 7, D)
    with torch.no_grad():
        # within the context, and past it (the window slides and positions restart at 0)
        torch.testing.assert_close(net.predict(x, 4), _naive_predict(net, x, 4), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(net.predict(x, 15), _naive_predict(net, x, 15), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(net.predict(torch.randn(2, 20, D), 3).shape, (2, 3, D))
    assert net.predict(x, 0).shape == (2, 0, D)


def test_transformer_rollout_training_backpropagates_through_its_own_predictions():
    """rollout_training: teacher forcing over the observed frames, then the free-running rollout
    (what predict() returns), with gradients reaching the observed frames through the rollout."""
    torch.manual_seed(0)
    net = small(MotionTransformer, rollout_training=True).eval()  # eval: no dropout, comparable passes
    x = torch.randn(2, 14, D)
    pred, start = net.forward_train(x, 6, sampling_prob=0.3)
    assert start == 1 and pred.shape == (2, 13, D)
    torch.testing.assert_close(pred[:, :5], net(x[:, :5]), rtol=1e-4, atol=1e-5)   # frames 1..5, teacher forced
    torch.testing.assert_close(pred[:, 5:], net.predict(x[:, :6], 8), rtol=1e-4, atol=1e-5)
    xg = x.clone().requires_grad_(True)
    net.train()
    pred, _ = net.forward_train(xg, 6)
    pred[:, -1].sum().backward()   # the last frame depends on frame 5 only through 7 own predictions
    assert xg.grad[:, :6].abs().max() > 0 and xg.grad[:, 6:].abs().max() == 0
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)
    with pytest.raises(ValueError, match="observe"):
        net.forward_train(x, 14)


def test_vae_shapes_sampling_lengths_and_gradients():
    net = small(MotionVAE)
    x = torch.randn(3, 16, D)
    recon, mu, logvar = net(x, LABELS)
    assert recon.shape == (3, 16, D) and mu.shape == logvar.shape == (3, 8)
    loss = (recon - x).square().mean() + net.kl_divergence(mu, logvar)
    loss.backward()
    assert all(p.grad is not None for n, p in net.named_parameters()), \
        [n for n, p in net.named_parameters() if p.grad is None]
    net.eval()
    for length in (1, 16, 45):
        assert net.sample(4, length, {"content": 2, "style": torch.tensor([0, 1, -1, 0])}).shape == (4, length, D)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    torch.testing.assert_close(net.sample(2, 5, generator=g1), net.sample(2, 5, generator=g2))
    kl = MotionVAE.kl_divergence(torch.zeros(2, 4), torch.zeros(2, 4))
    assert kl.item() == 0.0
    # several memory tokens: same interface, and different frames can read different tokens
    multi = small(MotionVAE, memory_tokens=4)
    recon, mu, _ = multi(x, LABELS)
    assert recon.shape == (3, 16, D)
    recon.square().mean().backward()
    assert multi.memory_embed.grad is not None and multi.from_z.weight.shape == (4 * 16, 8)
    zq = small(MotionVAE, z_in_queries=True)
    recon, _, _ = zq(x, LABELS)
    recon.square().mean().backward()
    assert zq.query_from_z.weight.grad is not None and zq.sample(2, 7).shape == (2, 7, D)
    with pytest.raises(ValueError, match="memory_tokens"):
        small(MotionVAE, memory_tokens=0)


def test_vae_fitted_prior_means_covariance_and_sampling():
    """fit_prior: a mean per (content, style) cell, marginal fallbacks, pooled covariance; sample()
    draws around the requested cell's mean."""
    net = small(MotionVAE).eval()
    g = torch.Generator().manual_seed(0)
    centre = {(0, 0): 5.0, (0, 1): -5.0, (2, 1): 10.0}
    mu, cs, ss = [], [], []
    for (c, s_), m in centre.items():
        mu.append(m + 0.5 * torch.randn(400, 8, generator=g))
        cs += [c] * 400
        ss += [s_] * 400
    mu = torch.cat(mu)
    logvar = torch.full_like(mu, -20.0)  # posteriors nearly points: the scatter is the covariance
    net.fit_prior(mu, logvar, {"content": torch.tensor(cs), "style": torch.tensor(ss)})
    assert bool(net.prior_fitted)
    torch.testing.assert_close(net.prior_mean[0, 0], torch.full((8,), 5.0), atol=0.1, rtol=0)
    torch.testing.assert_close(net.prior_mean[2, 1], torch.full((8,), 10.0), atol=0.1, rtol=0)
    torch.testing.assert_close(net.prior_mean[0, 2], torch.full((8,), 0.0), atol=0.1, rtol=0)   # content 0, any style
    torch.testing.assert_close(net.prior_mean[2, 0], torch.full((8,), 10.0), atol=0.1, rtol=0)  # unseen -> content 2
    torch.testing.assert_close(net.prior_mean[1, 1], torch.full((8,), 2.5), atol=0.1, rtol=0)   # unseen -> style 1
    cov = net.prior_scale @ net.prior_scale.T
    torch.testing.assert_close(cov, 0.25 * torch.eye(8), atol=0.06, rtol=0)
    # sampling decodes z drawn around the cell mean (decode replaced by the identity to see z)
    net.decode = lambda z, length, labels=None: z  # noqa: E731
    z = net.sample(500, 4, {"content": 2, "style": 1}, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(z.mean(0), torch.full((8,), 10.0), atol=0.1, rtol=0)
    torch.testing.assert_close(z.std(0), torch.full((8,), 0.5), atol=0.05, rtol=0)
    with pytest.raises(ValueError, match="content label out of range"):
        net.sample(2, 4, {"content": 3})
    standard = small(MotionVAE, prior="standard").eval()
    standard.load_state_dict(net.state_dict())
    standard.decode = lambda z, length, labels=None: z  # noqa: E731
    assert abs(float(standard.sample(2000, 4, {"content": 2}).mean())) < 0.1  # N(0, I) regardless


@pytest.mark.parametrize("encoder", ["conv", "gru"])
def test_classifier(encoder):
    net = small(MotionClassifier, encoder=encoder)
    x = torch.randn(3, 30, D)
    out = net(x)
    assert out["content"].shape == (3, 3) and out["style"].shape == (3, 2)
    assert net.features(x).shape == (3, 8)
    (out["content"].sum() + out["style"].sum()).backward()
    only_style = MotionClassifier(D, 0, 4, hidden=8, feature_dim=4)
    assert set(only_style(x)) == {"style"}
    with pytest.raises(ValueError, match="classes"):
        MotionClassifier(D, 0, 0)


@pytest.mark.parametrize("cls", [Seq2SeqGRU, MotionTransformer, MotionVAE, MotionClassifier])
def test_config_rebuilds_same_network(cls):
    net = small(cls)
    assert net.config["class_path"].endswith(cls.__name__)
    assert net.data_dims()["input_dim"] == D
    twin = build(net.config)
    twin.load_state_dict(net.state_dict())
    assert type(twin) is cls


def test_blocks():
    pe = PositionalEncoding(6, kind="sinusoidal")
    x = torch.zeros(1, 4, 6)
    enc = pe(x)
    torch.testing.assert_close(enc[0, 0], torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    torch.testing.assert_close(pe(x, offset=2)[0, 0], enc[0, 2])
    with pytest.raises(ValueError, match="kind"):
        PositionalEncoding(4, kind="rope")
    emb = LabelEmbedding(5, num_content=3, num_style=0)
    out = emb({"content": torch.tensor([0, -1])}, 2)
    assert out.shape == (2, 5)
    torch.testing.assert_close(emb(None, 2)[0], emb.tables["content"].weight[3])  # unknown row
    with pytest.raises(ValueError, match="out of range"):
        emb({"content": torch.tensor([3, 0])}, 2)
    assert LabelEmbedding(5)(None, 3).abs().sum() == 0
