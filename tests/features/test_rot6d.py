"""motion3d.features "rot6d": round trip on real clips, torch decoder, gradients, serialisation."""
import numpy as np
import pytest
import torch

from motion3d import features
from motion3d.features import RotationFeatures
from motion3d.io import bvh
from motion3d.ops import canonicalize, find_pelvis
from tests.conftest import assert_close

CLIPS = [
    "cmu/01_01.bvh",
    "cmu/131_02.bvh",  # 1000+ frames at 120 fps
    "bandai-namco-1/data/dataset-1_walk_normal_001.bvh",
    "bandai-namco-1/data/dataset-1_dance-short_normal_001.bvh",
    "bandai-namco-1/data/dataset-1_kick_normal_001.bvh",
    "bandai-namco-2/data/dataset-2_run_exhausted_003.bvh",
    "bandai-namco-1/data/dataset-1_run_normal_001.bvh",  # its joint_Root moves (4 of 416 clips do)
]


@pytest.fixture(scope="module", params=CLIPS)
def clip(request, mocap_dir):
    return bvh.load(mocap_dir / request.param)


@pytest.fixture(scope="module")
def bandai(mocap_dir):
    return bvh.load(mocap_dir / "bandai-namco-2" / "data" / "dataset-2_walk_normal_001.bvh")


def test_round_trip_whole_clip(clip):
    rep = features.build("rot6d", clip.skeleton, fps=clip.fps)
    x = rep.encode(clip)
    assert x.dtype == np.float32 and x.shape == (clip.num_frames, rep.dim)
    # from the clip's own initial state, whole clip: the body (the pelvis and below) always, and
    # every joint when the pelvis' ancestors stay at rest (they are not represented)
    m = rep.decode(x, initial=rep.initial_state(clip))
    ancestors_at_rest = np.allclose(clip.root_positions, clip.skeleton.offsets[0]) and np.allclose(
        np.abs(clip.rotations[:, : rep.pelvis, 3]), 1.0)
    joints = slice(None) if ancestors_at_rest else rep.body
    err = np.abs(m.positions()[:, joints] - clip.positions()[:, joints]).max() / clip.skeleton.height()
    assert err < 1e-4, err
    # from the origin facing +Z: equals the clip canonicalised at frame 0 (body joints)
    body = rep.body
    c = canonicalize(clip)
    err0 = np.abs(rep.decode(x).positions()[:, body] - c.positions()[:, body]).max() / clip.skeleton.height()
    assert err0 < 1e-4, err0


def test_layout(bandai):
    rep = RotationFeatures(bandai.skeleton, fps=30)
    sk = bandai.skeleton
    assert find_pelvis(sk) == 1 and rep.body == list(range(1, 22))  # static joint_Root left out
    assert rep.dim == 4 + 6 * 21 + 4 == len(rep.names)
    assert rep.layout["contacts"] == (130, 134) and rep.names[-1] == "contact:Toes_R"
    x = rep.encode(bandai)
    assert set(np.unique(x[:, rep.slice("contacts")])) <= {0.0, 1.0}
    assert np.all(x[0, 1:4] == 0)  # no velocity into the first frame
    with pytest.raises(ValueError, match="fps"):
        rep.encode(bandai.resample(60))


def test_torch_decoder_matches_numpy(bandai):
    rep = RotationFeatures(bandai.skeleton, fps=30)
    x = rep.encode(bandai)[:120]
    ref = rep.decode(x).positions()
    batch = torch.from_numpy(np.stack([x[:60], x[60:]]))  # (2, 60, D) float32
    out = rep.decode_positions(batch)
    assert out.shape == (2, 60, 22, 3) and out.dtype == torch.float32
    assert_close(out[0], ref[:60], atol=1e-4 * bandai.skeleton.height())
    # the second window restarts at the origin: compare after matching the initial state
    init = torch.from_numpy(rep.initial_state(rep.decode(x)[60:])).float()
    out2 = rep.decode_positions(batch[1], init)
    assert_close(out2, ref[60:], atol=1e-4 * bandai.skeleton.height())
    motions = rep.decode(batch)
    assert len(motions) == 2 and motions[1].num_frames == 60


def test_gradients_flow(bandai):
    rep = RotationFeatures(bandai.skeleton, fps=30)
    x = torch.from_numpy(rep.encode(bandai)[None, :32]).repeat(3, 1, 1).requires_grad_()
    pos = rep.decode_positions(x)
    pos.square().mean().backward()
    g = x.grad
    assert torch.isfinite(g).all()
    for group in ("root_height", "root_velocity", "root_angular_velocity"):
        assert g[..., rep.slice(group)].abs().sum() > 0
    rot = g[..., rep.slice("rotations")].reshape(3, 32, len(rep.body), 6)
    non_leaf = [k for k, j in enumerate(rep.body) if rep.skeleton.children(j)]
    assert (rot[:, :, non_leaf].abs().sum(dim=(0, 1, 3)) > 0).all()


def test_network_output_decodes(bandai):
    """Any numbers (a network's output) decode to finite positions and to a Motion."""
    rep = RotationFeatures(bandai.skeleton, fps=30)
    x = torch.randn(2, 16, rep.dim, dtype=torch.float64)
    assert torch.isfinite(rep.decode_positions(x)).all()
    m = rep.decode(x[0])
    assert m.num_frames == 16 and np.isfinite(m.positions()).all()


def test_to_dict_round_trip(bandai):
    rep = RotationFeatures(bandai.skeleton, fps=30, contact_height=0.04)
    d = rep.to_dict()
    torch.save(d, "/dev/null")
    import io
    buf = io.BytesIO()
    torch.save(d, buf)
    buf.seek(0)
    d2 = torch.load(buf, weights_only=True)
    rep2 = features.from_dict(d2)
    assert rep2.describe_difference(rep) is None and rep2.names == rep.names
    assert np.array_equal(rep2.encode(bandai), rep.encode(bandai))
    other = RotationFeatures(bandai.skeleton, fps=30)
    assert "options" in rep.describe_difference(other)


def test_translated_joints_are_checked(bandai):
    moved = bandai.copy()
    moved.translations[:, 5, 0] += 10.0  # the head slides: not representable without it
    with pytest.raises(ValueError, match="translated_joints"):
        RotationFeatures(bandai.skeleton, fps=30).encode(moved)
    rep = RotationFeatures(bandai.skeleton, fps=30, translated_joints=["Head"])
    x = rep.encode(moved)
    m = rep.decode(x, initial=rep.initial_state(moved))
    assert_close(m.positions(), moved.positions(), atol=1e-4 * bandai.skeleton.height())


def test_wrong_skeleton(bandai, mocap_dir):
    rep = RotationFeatures(bandai.skeleton, fps=30)
    cmu = bvh.load(mocap_dir / "cmu" / "131_01.bvh")[:10]
    with pytest.raises(ValueError, match="skeleton"):
        rep.encode(cmu)
    with pytest.raises(ValueError, match="channels"):
        rep.decode_positions(torch.zeros(4, rep.dim + 1))


def test_one_representation_for_all_bandai_clips(bandai, mocap_dir):
    """Bandai-Namco clips differ in their Hips OFFSET (set by translation channels anyway) and by
    up to 0.04 cm in a few bone directions: one representation serves them all."""
    rep = RotationFeatures(bandai.skeleton, fps=30)
    other = bvh.load(mocap_dir / "bandai-namco-1" / "data" / "dataset-1_bow_normal_001.bvh")
    assert other.skeleton.describe_difference(bandai.skeleton) is not None
    m = rep.decode(rep.encode(other), initial=rep.initial_state(other))
    err = np.abs(m.positions()[:, rep.body] - other.positions()[:, rep.body]).max() / other.skeleton.height()
    assert err < 1e-3
