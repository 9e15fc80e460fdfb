"""motion3d.features "positions" and Normalizer."""
import io

import numpy as np
import pytest
import torch

from motion3d import features
from motion3d.features import JointPositions, Normalizer
from motion3d.io import bvh
from tests.conftest import assert_close


@pytest.fixture(scope="module", params=["cmu/131_03.bvh", "bandai-namco-1/data/dataset-1_run_normal_001.bvh"])
def clip(request, mocap_dir):
    return bvh.load(mocap_dir / request.param)


def test_positions_round_trip(clip):
    rep = features.build("positions", clip.skeleton, fps=clip.fps)
    assert isinstance(rep, JointPositions) and not rep.decodes_motion
    x = rep.encode(clip)
    assert x.shape == (clip.num_frames, rep.dim) and x.dtype == np.float32
    pos = rep.decode_positions(torch.from_numpy(x).double(), torch.from_numpy(rep.initial_state(clip)))
    body = [rep.pelvis] + rep.body  # this Bandai clip's joint_Root moves: not represented
    assert_close(pos[:, body], clip.positions()[:, body], atol=1e-4 * clip.skeleton.height())
    assert features.from_dict(rep.to_dict()).describe_difference(rep) is None


def test_registry():
    assert {"rot6d", "positions"} <= set(features.available())
    with pytest.raises(KeyError, match="available"):
        features.build("quaternions", None)


def test_normalizer_streaming_and_floor():
    rng = np.random.default_rng(0)
    clips = [rng.normal(3.0, 2.0, (n, 4)) for n in (10, 200, 33)]
    for c in clips:
        c[:, 3] = 1.0  # a constant channel, like a contact that never changes
    nz = Normalizer.fit(clips, min_std=1e-2)
    allx = np.concatenate(clips)
    assert_close(nz.mean, allx.mean(0), atol=1e-12)
    assert_close(nz.std[:3], allx.std(0)[:3], atol=1e-12)
    assert nz.std[3] == 1e-2
    y = nz.normalize(allx.astype(np.float32))
    assert y.dtype == np.float32 and np.isfinite(y).all()
    assert_close(y[:, :3].mean(0), np.zeros(3), atol=1e-5)
    t = torch.from_numpy(allx)
    assert_close(nz.denormalize(nz.normalize(t)), t, atol=1e-12)


def test_normalizer_travels_in_checkpoint():
    nz = Normalizer(np.arange(5.0), np.array([1.0, 2.0, 0.0, 3.0, 1e-9]))
    buf = io.BytesIO()
    torch.save({"norm": nz.to_dict()}, buf)
    buf.seek(0)
    back = Normalizer.from_dict(torch.load(buf, weights_only=True)["norm"])
    assert np.array_equal(back.mean, nz.mean) and np.array_equal(back.std, nz.std)
    assert back.std.min() == nz.min_std
    with pytest.raises(ValueError, match="channels"):
        nz.normalize(np.zeros((2, 4)))
