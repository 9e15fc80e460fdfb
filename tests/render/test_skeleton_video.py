import numpy as np
import pytest

from motion3d.render.encode import VideoWriter, read_video, write_video
from motion3d.render.skeleton_video import SkeletonFigure, render_frames, save_video
from tests.render.helpers import walking_clip

BG = np.array([255, 255, 255])


def _non_background(img, tol=40):
    return np.abs(img.astype(int) - BG).sum(-1) > tol


def test_mp4_frame_count_size_and_content(tmp_path):
    a = walking_clip(30, fps=30, name="thirty")
    b = walking_clip(120, fps=120, name="one-twenty")  # same second at another rate
    info = save_video([a, b], tmp_path / "two.mp4", panel_size=(160, 120))
    assert info["frames"] == 120 and info["fps"] == 120 and info["size"] == (320, 120)
    frames, fps = read_video(tmp_path / "two.mp4")
    assert frames.shape == (120, 120, 320, 3) and fps == pytest.approx(120)
    # each panel shows a figure, the names are drawn at the top
    f = frames[60]
    assert _non_background(f[20:, :160]).sum() > 100 and _non_background(f[20:, 160:]).sum() > 100
    assert _non_background(f[:12]).sum() > 10


def test_gif_output(tmp_path):
    info = save_video(walking_clip(20, fps=20), tmp_path / "a.gif", panel_size=(64, 64))
    frames, fps = read_video(tmp_path / "a.gif")
    assert frames.shape == (20, 64, 64, 3) and fps == pytest.approx(20, rel=0.05)
    assert info["frames"] == 20


def test_joints_are_drawn_where_projected():
    clip = walking_clip(10)
    fig = SkeletonFigure(clip, (200, 200), show_names=False)
    img = fig.draw([3])
    p = fig.cameras[0].project(clip.positions[3], fig.targets[0][3], fig.panel_w, fig.panel_h)
    for col, row, _ in p:
        patch = img[int(row) - 1:int(row) + 2, int(col) - 1:int(col) + 2]
        assert patch.max(-1).min() < 120, "a joint marker (dark) should cover its projected pixel"


def test_frames_change_and_camera_follows():
    frames = render_frames(walking_clip(60, speed=3.0), fps=30, panel_size=(96, 96))
    assert frames.shape == (60, 96, 96, 3) and frames.dtype == np.uint8
    assert np.abs(frames[0].astype(int) - frames[30]).sum() > 0
    # the figure stays near the image centre although it walks 6 units
    for f in (frames[0], frames[-1]):
        cols = np.nonzero(f.min(-1) < 100)[1]
        assert abs(cols.mean() - 48) < 20


def test_video_writer_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unsupported"):
        VideoWriter(tmp_path / "x.txt", 30)
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "x.mp4", [np.zeros((5, 6, 3), np.uint8)], 30)
    with pytest.raises(TypeError, match="uint8"):
        write_video(tmp_path / "y.mp4", [np.zeros((4, 6, 3))], 30)


def test_threaded_writer_matches_plain(tmp_path):
    frames = [np.full((16, 16, 3), v, np.uint8) for v in range(0, 250, 10)]
    write_video(tmp_path / "a.mp4", frames, 25)
    with VideoWriter(tmp_path / "b.mp4", 25, threaded=True) as w:
        for f in frames:
            w.write(f)
    a, _ = read_video(tmp_path / "a.mp4")
    b, _ = read_video(tmp_path / "b.mp4")
    assert a.shape == b.shape == (25, 16, 16, 3)
    assert np.array_equal(a, b)
