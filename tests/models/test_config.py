"""motion3d.models.config: networks rebuilt from their config, and only from registered classes."""
from __future__ import annotations

import pytest
import torch

import motion3d.models  # noqa: F401  (registers every network)
from motion3d.models.config import UnknownClassPath, build, registered
from motion3d.models.motion import MotionVAE, Seq2SeqGRU


def test_registry_holds_the_concrete_networks_only():
    known = registered()
    assert "motion3d.models.motion.rnn.Seq2SeqGRU" in known and "motion3d.models.points.pointnet.PointNet" in known
    # abstract bases record nothing and cannot be built from a config
    assert "motion3d.models.motion.blocks.MotionNet" not in known
    assert "motion3d.models.motion.blocks.Predictor" not in known


def test_round_trip_and_refusals():
    net = Seq2SeqGRU(12, hidden=8)
    twin = build(net.config)
    assert type(twin) is Seq2SeqGRU and twin.config == net.config
    twin.load_state_dict(net.state_dict())
    x = torch.randn(2, 3, 12)
    torch.testing.assert_close(twin.predict(x, 2), net.predict(x, 2))
    with pytest.raises(UnknownClassPath, match=r"ckpt.pt: refusing class_path 'os.system'"):
        build({"class_path": "os.system", "init_args": {"command": "true"}}, source="ckpt.pt")
    with pytest.raises(UnknownClassPath, match="refusing class_path 'torch.nn.Linear'"):
        build({"class_path": "torch.nn.Linear", "init_args": {"in_features": 1, "out_features": 1}})
    with pytest.raises(UnknownClassPath, match=r"takes no argument\(s\) \['evil'\]"):
        build({"class_path": net.config["class_path"], "init_args": {"input_dim": 4, "evil": 1}})
    with pytest.raises(UnknownClassPath, match="mapping with 'class_path'"):
        build(["motion3d.models.motion.rnn.Seq2SeqGRU"])
    with pytest.raises(UnknownClassPath, match="init_args .* must be a mapping"):
        build({"class_path": net.config["class_path"], "init_args": [4]})
    assert type(build(MotionVAE(6, latent_dim=4, dim=8, layers=1, heads=2, ff_dim=8).config)) is MotionVAE
