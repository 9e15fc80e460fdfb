import os

import numpy as np
import pytest

from tests.conftest import assert_close, require_open3d

o3d = require_open3d()

from motion3d.render import open3d_scene as o3s  # noqa: E402
from motion3d.render.encode import read_video  # noqa: E402
from motion3d.render.open3d_clips import ClipScene, MeshSequence, render_video  # noqa: E402
from motion3d.render.player import PlaybackClock  # noqa: E402
from tests.render.helpers import walking_clip  # noqa: E402


def test_align_y_is_a_rotation_onto_the_direction():
    rng = np.random.default_rng(0)
    d = rng.normal(size=(200, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    d[0], d[1] = [0, -1, 0], [0, 1, 0]
    R = o3s.align_y(d)
    assert_close(R[:, :, 1], d, atol=1e-9)
    assert_close(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
    assert_close(np.linalg.det(R), np.ones(200), atol=1e-9)


def test_skeleton_mesh_vertices_lie_on_the_bones():
    clip = walking_clip(3)
    sk = o3s.SkeletonMesh(clip.parents, 0.05)
    v, n = sk.vertices(clip.positions[1])
    nc = len(sk.cyl_v)
    bone0 = v[:nc]  # cylinder of bone (0, 1)
    a, b = clip.positions[1, 0], clip.positions[1, 1]
    axis = (b - a) / np.linalg.norm(b - a)
    rel = bone0 - a
    radial = rel - (rel @ axis)[:, None] * axis
    assert_close(np.linalg.norm(radial, axis=1), np.full(nc, 0.05), atol=1e-9)
    assert_close(np.linalg.norm(n, axis=1), np.ones(len(n)), atol=1e-9)
    assert sk.triangles.max() == len(v) - 1


def test_sphere_template_is_closed_unit_sphere():
    v, f = o3s.sphere_template(2)
    assert len(v) == 162 and len(f) == 320
    assert_close(np.linalg.norm(v, axis=1), np.ones(len(v)), atol=1e-12)
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), 1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert np.all(counts == 2)  # watertight


def test_render_offscreen_draws_geometry_in_colour():
    v, f = o3s.sphere_template(2)
    mesh = o3s.mesh_geometry(v, f, [1.0, 0.0, 0.0])
    pts = o3s.point_cloud_geometry(np.random.default_rng(0).normal(size=(300, 3)) * 0.2 + [2.5, 0, 0], [0, 0, 1.0])
    img = o3s.render_offscreen([mesh, pts], 160, 120, eye=[0, 0, 6.0], target=[0, 0, 0])
    assert img.shape == (120, 160, 3) and img.dtype == np.uint8
    assert img[0, 0].tolist() == [255, 255, 255]
    centre = img[60, 80].astype(int)
    assert centre[0] > 100 and centre[1] < 60 and centre[2] < 60  # the red sphere, lit
    blue = (img[..., 2].astype(int) - img[..., 0] > 100)
    assert blue[:, 110:].sum() > 20 and blue[:, :90].sum() == 0  # points on the right


def test_scene_layout_side_by_side_does_not_overlap():
    a, b = walking_clip(30, name="a"), walking_clip(30, name="b", scale=100.0)
    scene = ClipScene([a, b], layout="side")
    xa = scene.tracks[0].world(0)[:, 0]
    xb = scene.tracks[1].world(0)[:, 0]
    assert xa.max() < xb.min()  # b rescaled (centimetres) and placed to the right
    assert np.ptp(scene.tracks[1].world(0)[:, 1]) == pytest.approx(np.ptp(scene.tracks[0].world(0)[:, 1]))
    over = ClipScene([a, walking_clip(30)], layout="overlay")
    assert_close(over.tracks[0].world(5), over.tracks[1].world(5))


def test_offscreen_video_frames_and_content(tmp_path):
    clip = walking_clip(20, fps=20, name="walker")
    verts, faces = o3s.sphere_template(1)
    seq = MeshSequence(np.stack([verts * 0.3 + [0, 1.0 + 0.01 * t, 0] for t in range(10)]), faces, 10.0, "ball")
    info = render_video([clip, seq], tmp_path / "o3d.mp4", size=(160, 120))
    frames, fps = read_video(tmp_path / "o3d.mp4")
    assert info["frames"] == 20 and frames.shape == (20, 120, 160, 3) and fps == pytest.approx(20)
    sat = frames.max(-1).astype(int) - frames.min(-1)
    assert (sat[10] > 80).sum() > 50  # coloured bones and mesh


def test_playback_clock():
    c = PlaybackClock(duration=2.0, fps=10)
    assert c.advance(0.5) == pytest.approx(0.5)
    c.faster(2.0)
    assert c.advance(0.5) == pytest.approx(1.5)
    assert c.advance(0.5) == pytest.approx(0.5)  # looped (speed 2)
    assert c.step(3) == pytest.approx(0.8) and not c.playing
    assert c.step(-10) == pytest.approx(1.8)  # wraps backwards
    c.loop = False
    c.toggle()
    assert c.advance(5.0) == pytest.approx(1.9) and not c.playing  # stops on the last frame
    c.toggle()
    assert c.time == 0.0 and c.playing


def test_player_headless_keys_move_frames_and_camera():
    from motion3d.render.player import Player

    scene = ClipScene([walking_clip(20, fps=10, speed=2.0)])
    try:
        p = Player(scene, 160, 120, check_display=False)
    except RuntimeError as err:  # pragma: no cover - machines without EGL
        pytest.skip(str(err))
    p._tick(p.vis)
    ext0 = np.array(p.vis.get_view_control().convert_to_pinhole_camera_parameters().extrinsic)
    p._key(lambda: p.clock.step(10))
    assert scene._frames == [10]
    ext1 = np.array(p.vis.get_view_control().convert_to_pinhole_camera_parameters().extrinsic)
    assert np.abs(ext1[:3, 3] - ext0[:3, 3]).max() > 0.5  # followed the walker
    assert_close(ext1[:3, :3], ext0[:3, :3], atol=1e-6)  # kept the orientation
    p.vis.destroy_window()


def test_headless_render_prints_no_xdg_or_glfw_noise_and_restores_the_environment():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import os, numpy as np, open3d as o3d\n"
        "from motion3d.render import open3d_scene as o3s\n"
        "level = o3d.utility.get_verbosity_level()\n"
        "img = o3s.render_offscreen([o3s.floor_grid_geometry(np.zeros(2), 0.0, 0.5, 4)], 64, 48)\n"
        "assert img.shape == (48, 64, 3) and img.min() < 250, img.min()\n"
        "assert 'XDG_RUNTIME_DIR' not in os.environ\n"
        "assert o3d.utility.get_verbosity_level() == level\n"
        "print('rendered')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR")}
    env["PYTHONPATH"] = str(root)
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    if res.returncode != 0 and "could not create an offscreen window" in res.stderr:  # pragma: no cover
        pytest.skip("no EGL on this machine")
    assert res.returncode == 0, res.stderr
    assert "rendered" in res.stdout
    out = res.stdout + res.stderr
    assert "XDG_RUNTIME_DIR" not in out and "GLFW" not in out and "[Open3D" not in out, out


def test_headless_window_setup_leaves_displays_alone(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    level = o3d.utility.get_verbosity_level()
    with o3s.headless_window_setup(o3d):
        assert "XDG_RUNTIME_DIR" not in os.environ  # a display: nothing to quieten
        assert o3d.utility.get_verbosity_level() == level
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    with o3s.headless_window_setup(o3d):
        tmp = os.environ["XDG_RUNTIME_DIR"]
        assert os.path.isdir(tmp) and (os.stat(tmp).st_mode & 0o777) == 0o700 and not os.listdir(tmp)
        assert o3d.utility.get_verbosity_level() == o3d.utility.VerbosityLevel.Error
    assert "XDG_RUNTIME_DIR" not in os.environ and not os.path.exists(tmp)
    assert o3d.utility.get_verbosity_level() == level
