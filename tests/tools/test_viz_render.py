"""viz/render.py and viz/play.py end to end on real files (short excerpts to stay fast)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from motion3d.render.encode import read_video

ROOT = Path(__file__).resolve().parents[2]


def _script(name):
    spec = importlib.util.spec_from_file_location(f"viz_{name}", ROOT / "viz" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_render_two_skeletons_side_by_side(tmp_path, bandai_dir, cmu_dir):
    a = sorted((bandai_dir / "data").glob("*walk*.bvh"))[0]
    b = cmu_dir / "131_01.bvh"
    out = tmp_path / "cmp.mp4"
    info = _script("render").main([str(a), str(b), "-o", str(out), "--size", "96x96", "--duration", "0.5",
                                   "--names", "bandai", "cmu"])
    frames, fps = read_video(out)
    # 0.5 s at the highest rate (CMU, 120 fps); two 96-pixel panels
    assert fps == pytest.approx(120) and frames.shape == (60, 96, 192, 3)
    assert info["frames"] == 60
    dark = frames[30].min(-1) < 100
    assert dark[:, :96].sum() > 20 and dark[:, 96:].sum() > 20  # a figure in each panel


def test_render_gif_and_start(tmp_path, cmu_dir):
    out = tmp_path / "a.gif"
    _script("render").main([str(cmu_dir / "01_01.bvh"), "-o", str(out), "--size", "64x64", "--fps", "10",
                            "--start", "1", "--duration", "1"])
    frames, fps = read_video(out)
    assert frames.shape == (10, 64, 64, 3) and fps == pytest.approx(10, rel=0.05)


def test_render_rejects_unknown_files(tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text("hello")
    from motion3d.io import FormatError

    with pytest.raises(FormatError, match="unsupported"):
        _script("render").main([str(bad), "-o", str(tmp_path / "o.mp4")])


def test_play_offscreen(tmp_path, bandai_dir, open3d):
    a = sorted((bandai_dir / "data").glob("*.bvh"))[:2]
    out = tmp_path / "play.mp4"
    info = _script("play").main([str(a[0]), str(a[1]), "--offscreen", str(out), "--fps", "10",
                                 "--size", "160x120"])
    frames, fps = read_video(out)
    assert frames.shape[1:] == (120, 160, 3) and fps == pytest.approx(10)
    assert frames.shape[0] == info["frames"] > 5
    sat = frames[3].max(-1).astype(int) - frames[3].min(-1)
    assert (sat > 80).sum() > 30  # coloured bones


def test_humanml3d_joints_render(tmp_path, data_dir):
    out = tmp_path / "h.mp4"
    _script("render").main([str(data_dir / "humanml3d" / "new_joints" / "012314.npy"), "-o", str(out),
                            "--size", "64x64", "--duration", "1"])
    frames, fps = read_video(out)
    assert fps == pytest.approx(20) and len(frames) == 20
    assert np.any(frames[10].min(-1) < 100)


def test_play_without_a_display_stops_at_once_and_names_offscreen(cmu_dir):
    import os
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, str(ROOT / "viz" / "play.py"), str(cmu_dir / "01_01.bvh")],
                         env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - t0
    assert res.returncode == 2, res.stderr
    assert "no display" in res.stderr and "--offscreen" in res.stderr
    assert "Traceback" not in res.stderr
    assert elapsed < 60  # it used to wait forever; the bound only allows for a slow interpreter start


def test_missing_display_rule():
    from motion3d.render.player import missing_display

    assert "--offscreen" in missing_display({}, "linux")
    assert missing_display({"DISPLAY": ":0"}, "linux") is None
    assert missing_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert missing_display({"DISPLAY": ""}, "linux") is not None  # set but empty: no display
    assert missing_display({}, "darwin") is None and missing_display({}, "win32") is None


def test_player_refuses_to_open_without_a_display(monkeypatch):
    from motion3d.render.open3d_clips import ClipScene
    from motion3d.render.player import Player
    from tests.render.helpers import walking_clip

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    with pytest.raises(RuntimeError, match="--offscreen"):
        Player(ClipScene([walking_clip(5)]), 64, 48)
