import numpy as np
import pytest
import torch

from motion3d.render import raster, tensorboard as tb
from tests.render.helpers import PARENTS, walking_clip


def test_clips_video_shape_and_content():
    clips = [walking_clip(30, name="a"), walking_clip(45, fps=60, name="b")]
    video = tb.clips_video(clips, size=(64, 48))
    assert video.shape == (2, 60, 3, 48, 64) and video.dtype == np.uint8
    # each frame shows coloured bones (not only white and grid grey)
    sat = video.max(2).astype(int) - video.min(2)
    assert (sat > 60).sum(axis=(2, 3)).min() > 10


def test_clips_video_from_batched_tensor_and_max_frames():
    pos = torch.tensor(np.stack([walking_clip(40).positions] * 3))
    video = tb.clips_video(pos, parents=PARENTS, fps=20, max_frames=10, size=(32, 32))
    assert video.shape == (3, 10, 3, 32, 32)


def test_clips_image_filmstrip():
    img = tb.clips_image([walking_clip(30), walking_clip(30)], num_keyframes=4, size=(40, 30))
    assert img.shape == (3, 60, 160) and img.dtype == np.uint8


def test_skeleton_raster_marks_projected_joints():
    clip = walking_clip(5)
    from motion3d.render.camera import ViewCamera

    cam = ViewCamera(0.0, 0.0, 10.0, 2.5)
    tgt = np.tile([0.0, 1.0, 0.0], (5, 1))
    imgs = raster.draw_skeletons(clip.positions, clip.bones(), (80, 80), cam, tgt)
    p = cam.project(clip.positions, tgt, 80, 80)
    r, c = np.round(p[..., 1]).astype(int), np.round(p[..., 0]).astype(int)
    ok = (r >= 0) & (r < 80) & (c >= 0) & (c < 80)
    m = np.broadcast_to(np.arange(5)[:, None], r.shape)
    assert np.all(imgs[m[ok], r[ok], c[ok]].max(-1) < 100)  # joint colour is dark
    assert imgs[0, 0, 0].tolist() == [255, 255, 255]


def test_clip_segments():
    a = np.array([[-10.0, 5.0], [2.0, 2.0], [-5.0, -5.0]])
    b = np.array([[30.0, 5.0], [4.0, 4.0], [-1.0, -9.0]])
    ca, cb, vis = raster.clip_segments(a, b, 20, 10, margin=0.0)
    assert vis.tolist() == [True, True, False]
    np.testing.assert_allclose(ca[0], [0, 5]) and np.testing.assert_allclose(cb[0], [19, 5])
    np.testing.assert_allclose(ca[1], a[1]) and np.testing.assert_allclose(cb[1], b[1])


def test_points_image_and_video():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(5, 500, 3))
    img = tb.points_image(pts, size=(50, 40))
    assert img.shape == (3, 80, 150)  # 5 clouds in a 3 x 2 grid
    assert (img[:, :40, :50] < 200).any()
    vid = tb.points_video(torch.tensor(pts[:2]), num_frames=6, size=(32, 32))
    assert vid.shape == (2, 6, 3, 32, 32)
    assert np.abs(vid[0, 0].astype(int) - vid[0, 3]).sum() > 0  # the turntable turns


def test_log_video_writes_gif_summary(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(tmp_path))
    video = tb.log_clips(w, "val/motion", [walking_clip(20)], step=3, size=(32, 32))
    w.close()
    ea = EventAccumulator(str(tmp_path))
    ea.Reload()
    ev = ea.Images("val/motion")[0]
    assert ev.step == 3 and ev.width == 32 and ev.height == 32
    assert ev.encoded_image_string[:6] == b"GIF89a"
    assert video.shape == (1, 20, 3, 32, 32)


def test_arrays_and_videos_without_fps_are_refused():
    pos = np.zeros((2, 5, len(PARENTS), 3))
    with pytest.raises(ValueError, match="needs `fps`"):
        tb.clips_video(pos, parents=PARENTS, size=(16, 16))
    with pytest.raises(ValueError, match="needs the video's fps"):
        tb.log_video(object(), "x", np.zeros((1, 2, 3, 4, 4), np.uint8), step=0)
