"""tools/retarget.py end to end on real files (short excerpts)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from motion3d.io import bvh
from tests.conftest import assert_close

ROOT = Path(__file__).resolve().parents[2]


def _main(*args) -> int:
    """The tool's main() in this process (no second torch import)."""
    spec = importlib.util.spec_from_file_location("tool_retarget", ROOT / "tools" / "retarget.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main([str(a) for a in args])


def _run(*args):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "retarget.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_bandai_to_cmu_and_back_with_mapping_file(tmp_path, bandai_dir, cmu_dir, capsys):
    src = sorted((bandai_dir / "data").glob("*walk_normal*.bvh"))[0]
    out, mp = tmp_path / "b2c.bvh", tmp_path / "map.yaml"
    r = _run(src, "--target", cmu_dir / "01_01.bvh", "-o", out, "--frames", "0:30", "--save-mapping", mp,
             "--cleanup-feet")
    assert r.returncode == 0, r.stderr
    m = bvh.load(out)
    target = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    assert m.skeleton.allclose(target) and m.skeleton.channels == target.channels and m.num_frames == 30
    assert "UpperLeg_L" in mp.read_text()
    # the reverse direction with a saved, edited mapping file
    edited = tmp_path / "edit.yaml"
    assert _main(cmu_dir / "01_01.bvh", "--target", src, "-o", tmp_path / "c2b.bvh", "--frames", "0:40",
                 "--save-mapping", edited) == 0
    edited.write_text(edited.read_text().replace("Toes_L: LeftToeBase", "Toes_L: null"))
    assert _main(cmu_dir / "01_01.bvh", "--target", src, "-o", tmp_path / "c2b.bvh", "--frames", "0:40",
                 "--mapping", edited, "--print-mapping", "--force") == 0
    assert "Toes_L: LeftToeBase" not in capsys.readouterr().out
    m = bvh.load(tmp_path / "c2b.bvh")
    assert m.skeleton.names[1] == "Hips" and m.num_joints == 22 and np.isfinite(m.rotations).all()


def test_cmu_131_names_to_01_names_with_video_and_learned_refusal(tmp_path, cmu_dir, capsys):
    out, video = tmp_path / "o2n.bvh", tmp_path / "o2n.gif"
    assert _main(cmu_dir / "131_01.bvh", "--target", cmu_dir / "01_01.bvh", "-o", out, "--frames", "0:12",
                 "--video", video) == 0
    assert bvh.load(out).skeleton.names == bvh.read_header(cmu_dir / "01_01.bvh")[0].names
    assert video.stat().st_size > 0
    assert _main(cmu_dir / "131_01.bvh", "--target", cmu_dir / "01_01.bvh", "-o", tmp_path / "x.bvh",
                 "--method", "learned") == 2
    assert "--ckpt" in capsys.readouterr().err and not (tmp_path / "x.bvh").exists()


# --------------------------------------------------------------------------- --method learned
@pytest.fixture(scope="module")
def learned_ckpt(bandai_dir, cmu_dir, tmp_path_factory) -> Path:
    from tests.tasks.test_retarget_task import train_tiny

    return train_tiny(tmp_path_factory.mktemp("retarget_tool"), tmp_path_factory.mktemp("cache"), steps=1)


def test_learned_both_ways_any_length(tmp_path, bandai_dir, cmu_dir, learned_ckpt, capsys):
    src = sorted((bandai_dir / "data").glob("*walk_normal*.bvh"))[0]
    cmu_target = bvh.read_header(cmu_dir / "131_03.bvh")[0]
    # Bandai (30 fps) -> CMU 131: 100 frames, more than one 64-frame window (overlaps blended)
    out = tmp_path / "b2c.bvh"
    assert _main(src, "--target", cmu_dir / "131_03.bvh", "-o", out, "--frames", "0:100", "--method", "learned",
                 "--ckpt", learned_ckpt) == 0
    m = bvh.load(out)
    assert m.skeleton.allclose(cmu_target) and m.skeleton.channels == cmu_target.channels
    assert m.num_frames == 100 and np.isfinite(m.rotations).all() and np.isfinite(m.root_positions).all()
    # CMU (120 fps) -> Bandai: 40 frames = 10 at the checkpoint's 30 fps, shorter than a window
    out2 = tmp_path / "c2b.bvh"
    assert _main(cmu_dir / "131_01.bvh", "--target", src, "-o", out2, "--frames", "0:40", "--method", "learned",
                 "--ckpt", learned_ckpt) == 0
    m2 = bvh.load(out2)
    assert m2.num_joints == 22 and m2.num_frames == 40 and abs(m2.fps - 120) < 1e-3
    assert np.isfinite(m2.rotations).all()
    assert "retargeted:" in capsys.readouterr().out
    # the library entry point gives the same clip as the tool
    from motion3d.tasks.retarget_clips import retarget_clip

    lib = retarget_clip(bvh.load(src)[0:100], cmu_target, method="learned", checkpoint=learned_ckpt)
    assert_close(lib.positions(), m.positions(), atol=1e-3 * cmu_target.height())


def test_learned_refuses_skeletons_outside_the_checkpoint(tmp_path, bandai_dir, cmu_dir, learned_ckpt, capsys):
    src = sorted((bandai_dir / "data").glob("*walk_normal*.bvh"))[0]
    assert _main(cmu_dir / "01_01.bvh", "--target", src, "-o", tmp_path / "x.bvh", "--frames", "0:20",
                 "--method", "learned", "--ckpt", learned_ckpt) == 1
    err = capsys.readouterr().err
    assert "source skeleton" in err and "domain b" in err and "joint names differ" in err
    assert _main(src, "--target", cmu_dir / "01_01.bvh", "-o", tmp_path / "x.bvh", "--frames", "0:20",
                 "--method", "learned", "--ckpt", learned_ckpt) == 1
    assert "target skeleton" in capsys.readouterr().err
    assert _main(src, "--target", cmu_dir / "131_01.bvh", "-o", tmp_path / "x.bvh", "--method", "learned",
                 "--ckpt", learned_ckpt, "--cleanup-feet") == 2
    assert "analytic only" in capsys.readouterr().err and not (tmp_path / "x.bvh").exists()


def test_amc_and_amass_sources(tmp_path, mocap_dir, bandai_dir, data_dir, capsys):
    """Issue 17 item 6: any motion file of the io registry is a source: CMU AMC (ASF found beside
    it, or --asf) and AMASS npz (--body-model-dir; here a made-up SMPL-H model) onto a Bandai BVH."""
    from motion3d.io.registry import load_motion
    from tests.io.fake_smplh import make_model, write_npz

    target_file = bandai_dir / "data" / "dataset-1_walk_normal_001.bvh"
    target = bvh.read_header(target_file)[0]
    amc = mocap_dir / "cmu" / "01_01.amc"
    out = tmp_path / "amc_on_bandai.bvh"
    assert _main(amc, "--target", target_file, "-o", out, "--frames", "0:40") == 0
    assert f"retargeted: {out} (40 frames, 22 joints, 120 fps)" in capsys.readouterr().out
    m = bvh.load(out)
    assert m.skeleton.allclose(target) and m.skeleton.channels == target.channels and m.num_frames == 40
    # the same result with the ASF named explicitly; the source clip moves, so the result does
    assert _main(amc, "--target", target_file, "-o", out, "--frames", "0:40", "--asf",
                 mocap_dir / "cmu" / "01.asf", "--force") == 0
    again = bvh.load(out)
    assert_close(again.rotations, m.rotations, atol=1e-9)
    src = load_motion(amc)[:40]
    assert np.ptp(src.root_positions[:, 0]) > 0 and np.isfinite(m.rotations).all()
    assert not np.allclose(m.rotations[0], m.rotations[-1])

    npz = data_dir / "smpl" / "amass_sample.npz"
    out = tmp_path / "amass_on_bandai.bvh"
    assert _main(npz, "--target", target_file, "-o", out, "--frames", "0:20",
                 "--body-model-dir", tmp_path / "missing") == 1
    err = capsys.readouterr().err
    assert "no SMPL-H body model" in err and "--body-model-dir DIR" in err and not out.exists()
    for g in ("MALE", "FEMALE", "NEUTRAL"):
        write_npz(make_model(), tmp_path / "models" / "smplh" / f"SMPLH_{g}.npz")
    assert _main(npz, "--target", target_file, "-o", out, "--frames", "0:20", "--body-model-dir",
                 tmp_path / "models") == 0
    m = bvh.load(out)
    assert m.skeleton.allclose(target) and m.num_frames == 20 and np.isfinite(m.rotations).all()
    # options of another format are refused, naming the file
    assert _main(target_file, "--target", target_file, "-o", tmp_path / "x.bvh", "--asf",
                 mocap_dir / "cmu" / "01.asf") == 1
    assert "--asf is for AMC sources; this is a bvh file" in capsys.readouterr().err


# --------------------------------------------------------------------------- --html
def test_html_page_shows_input_and_output(tmp_path, cmu_dir, capsys):
    from tests.browser import require_viser
    from tests.web_helpers import page_labels

    require_viser()
    out, page = tmp_path / "o2n.bvh", tmp_path / "o2n.html"
    assert _main(cmu_dir / "131_01.bvh", "--target", cmu_dir / "01_01.bvh", "-o", out, "--frames", "0:12",
                 "--html", page) == 0
    assert f"page: {page}" in capsys.readouterr().out
    assert bvh.load(out).num_frames == 12  # the BVH output as without --html
    labels = page_labels(page)
    assert "input: 131_01.bvh" in labels and "output: o2n.bvh" in labels
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o2n.bvh", "o2n.html"]  # no temporary file left
    # an existing page is replaced only with --force
    page.write_text("an earlier page")
    assert _main(cmu_dir / "131_01.bvh", "--target", cmu_dir / "01_01.bvh", "-o", tmp_path / "again.bvh",
                 "--html", page) == 2
    assert "--html exists; pass --force" in capsys.readouterr().err
    assert page.read_text() == "an earlier page" and not (tmp_path / "again.bvh").exists()


def test_html_bad_suffix_refused_before_any_work(tmp_path, capsys):
    missing = tmp_path / "missing.bvh"  # reading it would be the first work: a different error
    for name, why in (("page.htm", "--html must end in .html, got '.htm'"), ("page", "got 'no suffix'")):
        assert _main(missing, "--target", missing, "-o", tmp_path / "o.bvh", "--html", tmp_path / name) == 2
        err = capsys.readouterr().err
        assert why in err and "missing.bvh" not in err
    assert list(tmp_path.iterdir()) == []


def test_html_page_plays_both_clips_in_view_in_chromium(tmp_path, cmu_dir):
    """The one browser check of the tools' pages: the retargeting page opened in Debian's Chromium
    (no network request) shows two figures side by side, both inside the canvas."""
    from tests.browser import browser_page, canvas_image, foreground, hide_notifications, require_viser

    require_viser()
    page_path = tmp_path / "page.html"
    assert _main(cmu_dir / "131_01.bvh", "--target", cmu_dir / "01_01.bvh", "-o", tmp_path / "o.bvh",
                 "--frames", "0:12", "--html", page_path) == 0
    with browser_page() as (page, console, requests):
        page.goto(page_path.resolve().as_uri())
        page.wait_for_selector("input", timeout=20000)  # the playback bar: the recording decoded
        hide_notifications(page)
        page.wait_for_timeout(300)
        img = canvas_image(page)
    assert not [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
    fg = foreground(img)
    H, W = fg.shape
    cols = np.nonzero(fg.sum(0))[0]
    groups = np.split(cols, np.nonzero(np.diff(cols) > 10)[0] + 1)  # figures: column runs apart by > 10 px
    figures = [g for g in groups if fg[:, g].sum() > 500]
    assert len(figures) == 2, [(g[0], g[-1], int(fg[:, g].sum())) for g in groups]
    rows = np.nonzero(fg.sum(1))[0]
    assert cols.min() > 0 and cols.max() < W - 1 and rows.min() > 0 and rows.max() < H - 1  # all in view
    for g in figures:  # each a standing figure, not a sliver
        r = np.nonzero(fg[:, g].any(1))[0]
        assert np.ptp(r) > 0.2 * H and np.ptp(r) > np.ptp(g)
