"""motion3d.render.web: viser scenes and standalone HTML pages, checked in Debian's Chromium."""
import os
import socket
import time

import numpy as np
import pytest

from tests.browser import browser_page, canvas_image, colour_mask, foreground, hide_notifications, require_viser

require_viser()

from motion3d.render import web  # noqa: E402
from motion3d.render.clip import Clip  # noqa: E402
from tests.web_helpers import page_labels, standing_clip, write_z_up_bvh  # noqa: E402

ORANGE = (255, 140, 0)
#: where screenshots go for a person to look at (MOTION3D_SHOTS=DIR), else nowhere
SHOTS = os.environ.get("MOTION3D_SHOTS")


def _save(img, name):
    if SHOTS:
        from PIL import Image
        Image.fromarray(img).save(os.path.join(SHOTS, name))


def test_clip_contacts_are_the_planted_feet():
    clip = standing_clip(30)
    feet, contacts = web.clip_contacts(clip)
    assert [clip.names[j] for j in feet] == ["LeftFoot", "RightFoot"]
    assert contacts.all()
    pos = clip.positions.copy()
    pos[10:20, 8, 1] += 0.5  # left foot lifted for frames 10..19
    lifted = Clip(pos, clip.parents, clip.fps, "lift", clip.names)
    _, c = web.clip_contacts(lifted)
    assert not c[12:18, 0].any() and c[:8, 0].all() and c[:, 1].all()


def test_recording_samples_long_clips_at_the_display_rate_in_real_time():
    rate, t = web.recording_times(600.0, 120.0)
    assert rate == web.DISPLAY_FPS and len(t) == 18000 and t[-1] == pytest.approx(600 - 1 / 30)
    rate, t = web.recording_times(2.0, 24.0)  # never above the clip rate
    assert rate == 24.0 and len(t) == 48


def test_scene_poses_each_clip_at_its_own_rate():
    server = web.new_server()
    try:
        scene = web.WebScene(server, [standing_clip(60, 30.0, "a"), standing_clip(240, 120.0, "b")])
        assert scene.frames_at(1.0) == [30, 120]
        assert scene.frames_at(5.0) == [59, 239]  # the last frame holds
        scene.set_time(0.5)
        node = scene.nodes[1]
        np.testing.assert_allclose(node.bones_h.points, node.segments[60], atol=1e-6)
    finally:
        web.stop_server(server)


def test_check_port_names_a_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(web.PortInUse, match=f"port {port} is in use"):
            web.check_port(port, "127.0.0.1")


def test_bad_file_is_reported_by_name_and_the_others_load(tmp_path):
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n")
    good = write_z_up_bvh(tmp_path / "good.bvh")
    items, errors = web.load_view_items([bad, good])
    assert [it.name for it in items] == ["good"]
    assert len(errors) == 1 and "broken.bvh" in errors[0]


def test_html_page_is_self_contained(tmp_path):
    info = web.export_html([standing_clip(30)], tmp_path / "a.html")
    text = (tmp_path / "a.html").read_text()
    assert info["bytes"] == len(text) and info["frames"] == 30
    # only XML namespace names (never fetched), no script, style or data loaded from the network
    assert "stand" in page_labels(tmp_path / "a.html")


def _open(page, path):
    t0 = time.perf_counter()
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("input", timeout=20000)  # the playback bar: recording decoded
    hide_notifications(page)
    page.wait_for_timeout(300)
    return time.perf_counter() - t0


def _figure(img):
    """(rows, cols) of the figure's saturated pixels, and rows of the orange contact markers."""
    fg = foreground(img) & ~colour_mask(img, ORANGE, 70)
    r, c = np.nonzero(fg)
    return r, c, np.nonzero(colour_mask(img, ORANGE, 70))[0]


def test_html_page_plays_an_upright_skeleton_in_view(tmp_path):
    path = tmp_path / "stand.html"
    web.export_html([standing_clip(60)], path)
    with browser_page() as (page, console, requests):
        _open(page, path)
        a = canvas_image(page)
        page.wait_for_timeout(1000)
        b = canvas_image(page)
    _save(a, "html_1.png")
    _save(b, "html_2.png")
    assert not [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
    H, W = a.shape[:2]
    rows, cols, marks = _figure(a)
    assert len(rows) > 200, "no figure drawn"
    # in view: figure pixels in the middle third of the canvas
    mid = foreground(a)[H // 3: 2 * H // 3, W // 3: 2 * W // 3]
    assert mid.sum() > 50
    # upright: taller than wide, head above the contact markers at its feet
    assert np.ptp(rows) > 1.3 * np.ptp(cols) * 0.5 and np.ptp(rows) > 0.2 * H
    assert len(marks) > 20 and rows.min() < marks.mean() - 0.5 * np.ptp(rows)
    # it moves: the hands turn between the two shots
    assert (np.abs(a.astype(int) - b.astype(int)).max(-1) > 40).sum() > 50


def test_z_up_bvh_shows_upright(tmp_path):
    path = tmp_path / "zup.html"
    web.export_html([web.load_view_item(write_z_up_bvh(tmp_path / "zup.bvh"))], path)
    with browser_page() as (page, _, _):
        _open(page, path)
        img = canvas_image(page)
    _save(img, "zup.png")
    rows, cols, marks = _figure(img)
    assert len(rows) > 200 and len(marks) > 20
    assert np.ptp(rows) > np.ptp(cols)  # standing: taller than its arm span
    assert rows.min() < marks.mean() - 0.5 * np.ptp(rows)  # head above the feet's markers
