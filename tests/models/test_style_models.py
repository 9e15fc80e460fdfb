"""Style-transfer networks: shapes, instance norm, AdaIN, the multi-style discriminator, rebuild."""
from __future__ import annotations

import pytest
import torch

from motion3d.models.config import build
from motion3d.models.style import (AdaINDecoder, ContentEncoder, MultiStyleDiscriminator, StyleEncoder,
                                   StyleTransferNet, adain, instance_norm)
from tests.conftest import assert_close

D, S = 20, 5


def _net(**kw) -> StyleTransferNet:
    return StyleTransferNet(D, 3, S, channels=16, style_dim=8, disc_channels=8, **kw)


def test_instance_norm_removes_channel_statistics():
    h = torch.randn(3, 7, 40) * (torch.rand(3, 7, 1) * 5 + 0.5) + torch.randn(3, 7, 1) * 10
    n = instance_norm(h)
    assert_close(n.mean(-1), torch.zeros(3, 7), atol=1e-4)
    assert_close(n.std(-1, unbiased=False), torch.ones(3, 7), atol=1e-3)
    # so the content code ignores a constant per-clip offset of the input features
    enc = ContentEncoder(D, channels=16, layers=1, downsample=0, kernel=3)
    x = torch.randn(2, 32, D)
    assert_close(enc(x), enc(x + torch.randn(2, 1, D) * 5), atol=1e-4)


def test_adain_sets_statistics_from_style():
    h = torch.randn(2, 6, 50)
    gamma, beta = torch.randn(2, 6), torch.randn(2, 6)
    y = adain(h, gamma, beta)
    assert_close(y.mean(-1), beta, atol=1e-5)
    assert_close(y.std(-1, unbiased=False), (1 + gamma).abs(), atol=1e-3)


def test_decoder_output_statistics_change_with_the_style_code():
    dec = AdaINDecoder(D, channels=16, style_dim=8, layers=2, upsample=1)
    content = torch.randn(1, 16, 20)
    a, b = dec(content, torch.randn(1, 8)), dec(content, torch.randn(1, 8) * 3)
    assert a.shape == (1, 40, D)
    assert (a.mean(1) - b.mean(1)).abs().max() > 1e-3
    assert (a.std(1) - b.std(1)).abs().max() > 1e-3
    assert_close(dec(content, torch.zeros(1, 8)), dec(content, torch.zeros(1, 8)))


@pytest.mark.parametrize("T", [64, 63, 17])
def test_transfer_shapes_any_length(T):
    net = _net()
    x = torch.randn(2, T, D)
    assert net.encode_content(x).shape == (2, 16, (T + 1) // 2)
    code = net.encode_style(torch.randn(2, 40, D))
    assert code.shape == (2, 8)
    assert net(x, code).shape == (2, T, D)
    assert net(x, net.embed_style(torch.tensor([0, 4]))).shape == (2, T, D)


def test_style_encoder_pools_any_length():
    enc = StyleEncoder(D, style_dim=8, channels=16, layers=3)
    assert enc(torch.randn(3, 100, D)).shape == enc(torch.randn(3, 9, D)).shape == (3, 8)
    with pytest.raises(ValueError, match=r"\(B, T, 20\)"):
        enc(torch.randn(3, 9, D + 1))


def test_discriminator_one_output_per_style():
    disc = MultiStyleDiscriminator(D, S, channels=8, layers=2)
    x = torch.randn(4, 32, D)
    scores = disc.scores(x)
    assert scores.shape == (4, S)
    style = torch.tensor([0, 3, 4, 1])
    assert_close(disc(x, style), scores[torch.arange(4), style])


def test_embedding_range_and_parameter_groups():
    net = _net()
    with pytest.raises(ValueError, match="style label out of range"):
        net.embed_style(torch.tensor([S]))
    gen, dis = net.generator_parameters(), net.discriminator_parameters()
    assert len(gen) + len(dis) == len(list(net.parameters()))
    assert not {id(p) for p in gen} & {id(p) for p in dis}


def test_rebuild_from_config():
    net = _net(downsample=2)
    again = build(net.config)
    again.load_state_dict(net.state_dict())
    x, code = torch.randn(1, 30, D), torch.randn(1, 8)
    assert_close(net.eval()(x, code), again.eval()(x, code))
    with pytest.raises(ValueError, match="num_style"):
        StyleTransferNet(D, 3, 0)


def test_residual_layers_let_the_content_mean_pose_through():
    """A plain AdaIN stack replaces the content code's per-clip channel means by style values, so a
    constant offset of the content code cannot change the output; residual layers carry it through.
    Likewise an unnormalised first content layer keeps the input clip's mean pose in the code."""
    torch.manual_seed(0)
    content, code = torch.randn(2, 16, 20), torch.randn(2, 8)
    shift = torch.randn(2, 16, 1) * 3
    plain = AdaINDecoder(D, channels=16, style_dim=8, layers=2, upsample=1)
    assert_close(plain(content + shift, code), plain(content, code), atol=1e-4)
    res = AdaINDecoder(D, channels=16, style_dim=8, layers=2, upsample=1, residual=True)
    assert (res(content + shift, code) - res(content, code)).abs().mean() > 0.1
    x, pose = torch.randn(2, 32, D), torch.randn(2, 1, D) * 3
    for first_norm, changes in (("instance", False), ("none", True)):
        enc = ContentEncoder(D, channels=16, layers=3, downsample=1, residual=True, first_norm=first_norm)
        moved = float((enc(x + pose) - enc(x)).abs().mean())
        assert (moved > 0.1) == changes, (first_norm, moved)
    net = _net(residual=True, content_first_norm="none")
    assert net(x, net.embed_style(torch.tensor([0, 1]))).shape == x.shape
    rebuilt = build(net.config)
    assert rebuilt.decoder.residual and rebuilt.content_encoder.skip == net.content_encoder.skip == [False, True, True]
