"""tools/stylize.py on real Bandai-Namco clips with a checkpoint trained for a few steps: style label,
style clip (same skeleton, and a CMU clip through retargeting), clips longer than a window, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motion3d.io import bvh
from motion3d.data.windows import covering_window_starts, crossfade_weights
from tests.tasks.test_stylize import _tool, fit_style


@pytest.fixture(scope="module")
def ckpt(bandai_dir, tmp_path_factory):
    return fit_style(tmp_path_factory.mktemp("style_tool"), tmp_path_factory.mktemp("cache"), steps=2,
                     extra=["--trainer.limit_val_batches", "0"])


@pytest.fixture(scope="module")
def content(mocap_dir):
    return mocap_dir / "bandai-namco-2" / "data" / "dataset-2_walk_normal_001.bvh"


def _check_output(path, content_path):
    src, out = bvh.load(content_path), bvh.load(path)
    assert out.skeleton.names == src.skeleton.names
    assert np.array_equal(out.skeleton.parents, src.skeleton.parents)
    assert out.skeleton.describe_difference(src.skeleton) is None
    assert out.num_frames == src.num_frames and out.fps == src.fps
    assert np.isfinite(out.rotations).all() and np.isfinite(out.positions()).all()
    return src, out


def test_label_long_clip(ckpt, content, tmp_path):
    src = bvh.load(content)
    meta = torch.load(ckpt, weights_only=True)["motion3d"]
    assert src.num_frames > 2 * meta["context"]["window"]  # several overlapping windows
    result = _tool("stylize").main([str(content), "--style-label", "angry", "--ckpt", str(ckpt),
                                    "-o", str(tmp_path / "out.bvh")])
    src, out = _check_output(result["bvh"], content)
    # the root trajectory is the content's (kept by default): the pelvis path matches closely
    pel = src.skeleton.names.index("Hips")
    drift = np.abs(out.positions()[:, pel, [0, 2]] - src.positions()[:, pel, [0, 2]]).max()
    assert drift < 0.05 * src.skeleton.height()


def test_style_clip_and_video(ckpt, bandai_dir, tmp_path):
    content = bandai_dir / "data" / "dataset-1_dash_normal_001.bvh"  # short: a quick video
    style = bandai_dir / "data" / "dataset-1_walk_angry_001.bvh"
    result = _tool("stylize").main([str(content), "--style", str(style), "--ckpt", str(ckpt),
                                    "-o", str(tmp_path / "out.bvh"), "--video", str(tmp_path / "out.mp4")])
    _check_output(result["bvh"], content)
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_style_clip_on_another_skeleton_is_retargeted(ckpt, content, cmu_dir, tmp_path):
    result = _tool("stylize").main([str(content), "--style", str(cmu_dir / "131_01.bvh"), "--ckpt", str(ckpt),
                                    "-o", str(tmp_path / "out.bvh")])
    _check_output(result["bvh"], content)


def test_short_clip(ckpt, bandai_dir, tmp_path):
    short = bandai_dir / "data" / "dataset-1_dash_normal_001.bvh"  # 20 frames, shorter than a window
    result = _tool("stylize").main([str(short), "--style-label", "old", "--ckpt", str(ckpt), "-o", str(tmp_path / "o.bvh")])
    _check_output(result["bvh"], short)


def test_unknown_label_lists_known(ckpt, content, tmp_path, capsys):
    with pytest.raises(SystemExit):
        _tool("stylize").main([str(content), "--style-label", "furious", "--ckpt", str(ckpt), "-o", str(tmp_path / "o.bvh")])
    err = capsys.readouterr().err
    assert "unknown style label 'furious'" in err and "'angry'" in err and "'tired'" in err


def test_content_on_another_skeleton_refused(ckpt, cmu_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        _tool("stylize").main([str(cmu_dir / "131_01.bvh"), "--style-label", "old", "--ckpt", str(ckpt),
                               "-o", str(tmp_path / "o.bvh")])
    assert "131_01.bvh is not on the checkpoint's skeleton" in capsys.readouterr().err


@pytest.mark.parametrize("length,window,overlap", [(273, 64, 32), (64, 64, 16), (20, 64, 32), (100, 64, 0), (65, 64, 63)])
def test_windows_cover_and_crossfade_sums_to_one(length, window, overlap):
    starts = covering_window_starts(length, window, overlap)
    w = crossfade_weights(starts, window, length)
    n = min(window, length)
    total = np.zeros(length)
    for k, s in enumerate(starts):
        total[s:s + n] += w[k]
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    assert starts[0] == 0 and starts[-1] + n == length
    assert (w > 0).all()


def test_plant_feet_holds_ankles_in_content_contacts(ckpt, content, tmp_path):
    from motion3d.ops.contacts import foot_contacts
    from motion3d.retarget.mapping import find_roles

    out = {}
    for flag in ([], ["--plant-feet"]):
        path = tmp_path / f"out{len(flag)}.bvh"
        _tool("stylize").main([str(content), "--style-label", "tired", "--ckpt", str(ckpt), "-o", str(path), *flag])
        out[len(flag)] = _check_output(path, content)[1]
    src = bvh.load(content)
    roles = find_roles(src.skeleton)
    feet = [roles["left_foot"], roles["right_foot"]]
    contact = foot_contacts(src, feet=feet)[1:]  # (T-1, 2)

    def slide(m):
        step = np.linalg.norm(np.diff(m.positions()[:, feet][..., [0, 2]], axis=0), axis=-1)
        return step[contact].mean()

    assert slide(out[1]) < 0.5 * slide(out[0])


def test_output_onto_an_input_refused_existing_needs_force(ckpt, bandai_dir, tmp_path, capsys):
    import hashlib
    import shutil

    short = tmp_path / "content.bvh"
    shutil.copy(bandai_dir / "data" / "dataset-1_dash_normal_001.bvh", short)
    digest = hashlib.sha256(short.read_bytes()).hexdigest()
    ckpt_digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    for out, extra in ((short, []), (short, ["--force"]), (tmp_path / "o.bvh", ["--video", str(ckpt)])):
        with pytest.raises(SystemExit):
            _tool("stylize").main([str(short), "--style-label", "old", "--ckpt", str(ckpt), "-o", str(out), *extra])
        err = capsys.readouterr().err
        assert "refusing to write onto an input" in err or "--video must end in" in err, err
    assert hashlib.sha256(short.read_bytes()).hexdigest() == digest
    assert hashlib.sha256(ckpt.read_bytes()).hexdigest() == ckpt_digest
    out = tmp_path / "o.bvh"
    out.write_text("earlier result")
    with pytest.raises(SystemExit):
        _tool("stylize").main([str(short), "--style-label", "old", "--ckpt", str(ckpt), "-o", str(out)])
    assert "pass --force" in capsys.readouterr().err and out.read_text() == "earlier result"
    result = _tool("stylize").main([str(short), "--style-label", "old", "--ckpt", str(ckpt), "-o", str(out), "--force"])
    _check_output(result["bvh"], short)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content.bvh", "o.bvh"]


def test_html_page_shows_content_style_and_output(ckpt, bandai_dir, tmp_path, capsys):
    from tests.browser import require_viser
    from tests.web_helpers import page_labels

    require_viser()
    content = bandai_dir / "data" / "dataset-1_dash_normal_001.bvh"  # short: a quick page
    style = bandai_dir / "data" / "dataset-1_walk_angry_001.bvh"
    page = tmp_path / "out.html"
    result = _tool("stylize").main([str(content), "--style", str(style), "--ckpt", str(ckpt),
                                    "-o", str(tmp_path / "out.bvh"), "--html", str(page)])
    _check_output(result["bvh"], content)
    assert result["html"] == str(page)
    names = [f"content: {content.name}", f"style: {style.name}", "output: out.bvh"]
    assert " | ".join(names) in capsys.readouterr().out  # in this order, left to right
    labels = page_labels(page)
    assert all(n in labels for n in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bvh", "out.html"]


def test_bad_html_suffix_refused_before_any_work(tmp_path, capsys):
    missing = tmp_path / "missing.ckpt"  # loading it would be the first work: a different error
    with pytest.raises(SystemExit):
        _tool("stylize").main([str(tmp_path / "content.bvh"), "--style-label", "old", "--ckpt", str(missing),
                               "-o", str(tmp_path / "o.bvh"), "--html", str(tmp_path / "o.mp4")])
    err = capsys.readouterr().err
    assert "--html must end in .html, got '.mp4'" in err and "missing.ckpt" not in err
    assert list(tmp_path.iterdir()) == []
