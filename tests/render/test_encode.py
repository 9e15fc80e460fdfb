"""motion3d.render.encode writes through a temporary file: complete outputs only, the old file kept
when a write fails."""
from __future__ import annotations

import numpy as np
import pytest

from motion3d.render.encode import VideoWriter, read_video, write_gif, write_png, write_video


def _frames(n: int, h: int = 32, w: int = 48) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_complete_video_appears_only_at_the_end(tmp_path, suffix):
    out = tmp_path / f"v{suffix}"
    with VideoWriter(out, 10) as w:
        for f in _frames(4):
            w.write(f)
            assert not out.exists()  # nothing at the output path while writing
    frames, _ = read_video(out)
    assert frames.shape == (4, 32, 48, 3) and _names(tmp_path) == [out.name]


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("threaded", [False, True])
def test_interrupted_video_keeps_the_old_file_and_leaves_no_temporary(tmp_path, exc, threaded):
    out = tmp_path / "v.mp4"
    write_video(out, _frames(3), 10)
    before = out.read_bytes()
    with pytest.raises(exc):
        with VideoWriter(out, 10, threaded=threaded) as w:
            for f in _frames(20):
                w.write(f)
            temps = [n for n in _names(tmp_path) if n != "v.mp4"]
            assert len(temps) == 1 and temps[0].endswith(".mp4")  # ffmpeg picks the format by suffix
            raise exc()
    assert out.read_bytes() == before and _names(tmp_path) == ["v.mp4"]


def test_bad_frame_mid_video_leaves_nothing(tmp_path):
    out = tmp_path / "v.mp4"
    with pytest.raises(ValueError, match="expected 48x32"):
        with VideoWriter(out, 10) as w:
            w.write(_frames(1)[0])
            w.write(_frames(1, 16, 16)[0])
    assert _names(tmp_path) == []


def test_png_and_gif_replace_atomically(tmp_path):
    png, gif = tmp_path / "a.png", tmp_path / "a.gif"
    write_png(png, _frames(1)[0])
    write_gif(gif, _frames(2), 5)
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(png)), _frames(1)[0])
    assert read_video(gif)[0].shape == (2, 32, 48, 3)
    with pytest.raises(TypeError):
        write_png(png, object())  # fails inside the writer: the old PNG stays
    assert np.array_equal(np.asarray(Image.open(png)), _frames(1)[0])
    assert _names(tmp_path) == ["a.gif", "a.png"]


def _gif_delays_cs(path) -> list[int]:
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        return [f.info["duration"] // 10 for f in ImageSequence.Iterator(im)]


def _numbered(n: int) -> np.ndarray:
    """n frames (8, 8, 3) whose red value is the frame number (mod 256): which frame a GIF kept."""
    f = np.zeros((n, 8, 8, 3), np.uint8)
    f[..., 0] = (np.arange(n) % 256)[:, None, None]
    return f


@pytest.mark.parametrize("how", ["write_gif", "VideoWriter"])
def test_gif_of_120_fps_plays_in_true_time_at_most_50_fps(tmp_path, how):
    out = tmp_path / "fast.gif"
    frames = _numbered(360)  # 3 s at 120 fps
    if how == "write_gif":
        write_gif(out, frames, 120)
    else:
        assert write_video(out, frames, 120) == 360
    delays = _gif_delays_cs(out)
    assert sum(delays) == 300  # 3.00 s (every delay was 1 cs before: 3.6 s in browsers' 10 ms floor)
    assert len(delays) / 3.0 <= 50 and len(delays) == 120  # every 3rd frame: 40 fps
    assert set(delays) == {2, 3} and min(delays) >= 2
    got, fps = read_video(out)
    assert fps == pytest.approx(40)
    assert got[:, 0, 0, 0].tolist() == [(3 * k) % 256 for k in range(120)]  # picked by time


@pytest.mark.parametrize("fps,n", [(120, 361), (60, 100), (59.94, 179), (100, 7), (30, 45), (24, 10),
                                   (240, 1000), (50, 3), (200, 1)])
def test_gif_timing_sums_to_the_duration(fps, n):
    from motion3d.render.encode import gif_timing

    keep, delays = gif_timing(n, fps)
    assert abs(delays.sum() - 100.0 * n / fps) <= 100.0 / fps + 0.5  # within one input frame
    assert len(keep) == len(delays) and keep[0] == 0 and np.all(np.diff(keep) > 0) and keep[-1] < n
    if len(delays) > 1:
        assert delays.min() >= 2
        assert len(keep) / (n / fps) <= 50.0 + 1e-9 or len(keep) <= 2
    if fps <= 50:
        assert len(keep) == n  # slow clips keep every frame
