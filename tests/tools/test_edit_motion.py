"""configs/motion/diffusion.yaml through tools/train.py (a few steps, a small network), then
tools/sample.py and tools/edit_motion.py on the checkpoint: every control keeps what it is given."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from motion3d.io import bvh
from tests.tools.test_train_motion import _fit, _tool

SMALL = ["--model.init_args.net.init_args.dim", "32", "--model.init_args.net.init_args.layers", "1",
         "--model.init_args.net.init_args.ff_dim", "64", "--model.init_args.net.init_args.sample_steps", "4"]


@pytest.fixture(scope="module")
def diffusion_ckpt(bandai_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("diffusion")
    return _fit("diffusion", root / "run", root / "cache", extra=SMALL)


@pytest.fixture(scope="module")
def walk(bandai_dir):
    return sorted((bandai_dir / "data").glob("*_walk_normal_001.bvh"))[0]


def test_checkpoint_samples_with_options_and_retargets(diffusion_ckpt, cmu_dir, tmp_path, capsys):
    ckpt = torch.load(diffusion_ckpt, map_location="cpu", weights_only=True)
    assert ckpt["motion3d"]["task"] == "diffuse" and ckpt["motion3d"]["hparams"]["weights"]["velocity"] == 1.0
    out = _tool("sample").main(["--ckpt", str(diffusion_ckpt), "--label", "content=walk", "--n", "2", "--length",
                                "20", "--steps", "3", "--guidance", "1.5", "-o", str(tmp_path / "s"), "--no-video"])
    m = bvh.load(out["bvh"][0])
    assert m.num_frames == 20 and m.num_joints == 22 and np.isfinite(m.rotations).all()
    onto = _tool("sample").main(["--ckpt", str(diffusion_ckpt), "--n", "1", "--length", "20", "--steps", "2",
                                 "--retarget-to", str(cmu_dir / "01_01.bvh"), "-o", str(tmp_path / "r"), "--no-video"])
    assert bvh.load(onto["bvh"][0]).skeleton.names == bvh.read_header(cmu_dir / "01_01.bvh")[0].names


def test_edits_keep_what_they_are_given(diffusion_ckpt, walk, tmp_path):
    edit = _tool("edit_motion").main
    src = bvh.load(walk)
    P = src.positions()
    h = src.skeleton.height()
    fill = edit([str(walk), "--ckpt", str(diffusion_ckpt), "--fill", "30:60", "--steps", "3", "-o",
                 str(tmp_path / "fill.bvh")])
    f = bvh.load(fill["bvh"])
    Q = f.positions()
    assert f.num_frames == src.num_frames
    assert np.abs(Q[:30] - P[:30]).max() < 1e-3 * h and np.abs(Q[60:] - P[60:]).max() < 1e-3 * h  # reconnected
    ext = bvh.load(edit([str(walk), "--ckpt", str(diffusion_ckpt), "--extend", "15", "--steps", "3", "-o",
                         str(tmp_path / "ext.bvh")])["bvh"])
    assert ext.num_frames == src.num_frames + 15 and np.abs(ext.positions()[:src.num_frames] - P).max() < 1e-3 * h
    root = bvh.load(edit([str(walk), "--ckpt", str(diffusion_ckpt), "--root-from", str(walk), "--steps", "3",
                          "-o", str(tmp_path / "root.bvh")])["bvh"])
    pelvis = src.skeleton.index("Hips")
    assert np.abs(root.positions()[:, pelvis] - P[:, pelvis]).max() < 1e-3 * h  # the root path exactly
    tracked = bvh.load(edit([str(walk), "--ckpt", str(diffusion_ckpt), "--joints-from", str(walk), "--joints",
                             "head,hands", "--steps", "3", "-o", str(tmp_path / "joints.bvh")])["bvh"])
    assert tracked.num_frames == src.num_frames and np.isfinite(tracked.positions()).all()
    # the mean of 2 samples, the root path without the planting refinement: still the root path exactly
    mean = bvh.load(edit([str(walk), "--ckpt", str(diffusion_ckpt), "--root-from", str(walk), "--steps", "3",
                          "--mean-of", "2", "--plant-steps", "0", "-o", str(tmp_path / "mean.bvh")])["bvh"])
    assert np.abs(mean.positions()[:, pelvis] - P[:, pelvis]).max() < 1e-3 * h
    assert np.abs(mean.rotations - root.rotations).max() > 1e-3  # not the planted single sample


def test_root_from_plants_the_feet_of_each_window(diffusion_ckpt, walk, monkeypatch):
    import motion3d.tasks.edit_clips as edit_clips
    from motion3d.models.motion import MotionDiffusion
    samples, planted = [], []
    sample, plant = MotionDiffusion.sample, edit_clips.plant_feet

    def spy_sample(self, *a, **kw):
        samples.append((kw.get("samples"), "guide" in kw["constraints"]))
        return sample(self, *a, **kw)

    def spy_plant(ctx, y, mask, steps, **kw):
        out = plant(ctx, y, mask, steps, **kw)
        planted.append((steps, bool(torch.equal(out[mask], y[mask]))))
        return out

    monkeypatch.setattr(MotionDiffusion, "sample", spy_sample)
    monkeypatch.setattr(edit_clips, "plant_feet", spy_plant)
    ed = edit_clips.MotionEditor.load(diffusion_ckpt)
    m = bvh.load(walk)[:100]  # two windows of 60 frames
    ed.root_from(m, steps=2, plant=7, samples=3)
    assert len(samples) == len(planted) == 2
    assert set(samples) == {(3, False)}  # the mean of 3, no per-step guide
    assert set(planted) == {(7, True)}  # each window's feet planted, its known root path kept
    with pytest.raises(ValueError, match="does not combine"):
        ed.joints_from(m, ["head"], steps=2, plant=7)


def test_windows_see_the_known_joint_positions_where_training_put_them(diffusion_ckpt, walk):
    """The config's denoiser takes joint positions (condition_joints = the skeleton's joints); the
    editor gives each window those of its known frames in the frame the window's decoding starts
    from, as training did (the window decoded from the origin), whatever frame the window starts at;
    tracked joints are moved there from the world by the window's start state."""
    from motion3d.tasks.diffuse import joint_positions
    from motion3d.tasks.edit_clips import MotionEditor

    ed = MotionEditor.load(diffusion_ckpt)
    assert ed.net.condition_joints == ed.ctx.skeleton.num_joints == 22
    src = bvh.load(walk)
    x = ed.ctx.encode(src)
    initial0 = torch.as_tensor(ed.ctx.representation.initial_state(src), dtype=torch.float32)
    for s in (0, 37):
        e = s + 20
        init = initial0 if s == 0 else ed._state_at(x[:s + 1], src, s)
        frames = torch.zeros(20, dtype=torch.bool)
        frames[[0, 5, 19]] = True
        pos, known = ed._window_positions(x, s, e, frames, init, None)
        assert torch.equal(known, frames[:, None].expand(20, 22)) and not pos[~frames].any()
        want = joint_positions(ed.ctx, x[None, s:e])[0]
        assert (pos[frames] - want[frames]).abs().max() < 1e-3  # body heights
        idx = [3, 7]  # tracked joints: given at every frame, from their world positions
        world = ed.ctx.representation.decode_positions(ed.ctx.normalizer.denormalize(x.double()).float(), initial0)
        pos, known = ed._window_positions(x, s, e, frames, init, (idx, world[:, idx]))
        assert bool(known[:, idx].all()) and (pos[:, idx] - want[:, idx]).abs().max() < 1e-3


def test_edit_refuses_bad_requests(diffusion_ckpt, walk, tmp_path, capsys):
    edit = _tool("edit_motion").main
    with pytest.raises(SystemExit):
        edit([str(walk), "--ckpt", str(diffusion_ckpt), "--fill", "0:10", "-o", str(tmp_path / "x.bvh")])
    assert "after its first frame" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        edit([str(walk), "--ckpt", str(diffusion_ckpt), "--joints-from", str(walk), "--joints", "tail", "-o",
              str(tmp_path / "x.bvh")])
    assert "unknown joint 'tail'" in capsys.readouterr().err
    for bad, said in ((["--extend", "5", "--mean-of", "0"], "--mean-of takes a positive number"),
                      (["--joints-from", str(walk), "--plant-steps", "5"], "does not combine with --joints-from")):
        with pytest.raises(SystemExit):
            edit([str(walk), "--ckpt", str(diffusion_ckpt), *bad, "-o", str(tmp_path / "x.bvh")])
        assert said in capsys.readouterr().err
    with pytest.raises(SystemExit):  # onto its input
        edit([str(walk), "--ckpt", str(diffusion_ckpt), "--extend", "5", "-o", str(walk)])
    assert not (tmp_path / "x.bvh").exists()


# --------------------------------------------------------------------------- --html
def test_sample_html_page_names_each_clip_and_its_retargeted_file(diffusion_ckpt, cmu_dir, tmp_path, capsys):
    from tests.browser import require_viser
    from tests.web_helpers import page_labels

    require_viser()
    page = tmp_path / "samples.html"
    out = _tool("sample").main(["--ckpt", str(diffusion_ckpt), "--label", "content=walk", "--n", "2", "--length",
                                "20", "--steps", "2", "--retarget-to", str(cmu_dir / "01_01.bvh"),
                                "-o", str(tmp_path / "r"), "--no-video", "--html", str(page)])
    assert f"page: {page}" in capsys.readouterr().out
    labels = page_labels(page)
    assert len(out["bvh"]) == 2
    for path, sampled in zip(out["bvh"], out["sampled"]):
        name = Path(path).name  # sample00_walk_<style>.bvh
        assert name.startswith("sample") and "_walk_" in name
        assert f"sampled: {sampled.name} content=walk style=" in labels
        assert f"output: {name} (on 01_01)" in labels
    # the page's clips are the ones written: on the target's skeleton, and the checkpoint's before it
    assert bvh.load(out["bvh"][0]).skeleton.names == out["motions"][0].skeleton.names
    assert out["sampled"][0].num_joints == 22 and out["motions"][0].num_joints == 31
    # without --retarget-to: one clip per file written, named by the file and its labels
    page = tmp_path / "plain.html"
    out = _tool("sample").main(["--ckpt", str(diffusion_ckpt), "--label", "content=walk", "--n", "1", "--length",
                                "20", "--steps", "2", "-o", str(tmp_path / "s"), "--no-video", "--html", str(page)])
    labels = page_labels(page)
    name = Path(out["bvh"][0]).name
    assert f"output: {name} content=walk style=" in labels and "sampled:" not in labels


def test_sample_bad_html_suffix_refused_before_any_work(tmp_path, capsys):
    missing = tmp_path / "missing.ckpt"  # loading it would be the first work: a different error
    with pytest.raises(SystemExit):
        _tool("sample").main(["--ckpt", str(missing), "-o", str(tmp_path / "s"), "--html", str(tmp_path / "p.htm")])
    err = capsys.readouterr().err
    assert "--html must end in .html, got '.htm'" in err and "missing.ckpt" not in err
    assert list(tmp_path.iterdir()) == []


def test_edit_html_page_shows_input_other_and_result(diffusion_ckpt, walk, tmp_path, capsys):
    from tests.browser import require_viser
    from tests.web_helpers import page_labels

    require_viser()
    page = tmp_path / "root.html"
    result = _tool("edit_motion").main([str(walk), "--ckpt", str(diffusion_ckpt), "--root-from", str(walk),
                                        "--steps", "2", "-o", str(tmp_path / "root.bvh"), "--html", str(page)])
    assert result["html"] == str(page)
    assert f"input: {walk.name} | root path from: {walk.name} | result: root.bvh" in capsys.readouterr().out
    labels = page_labels(page)
    for name in (f"input: {walk.name}", f"root path from: {walk.name}", "result: root.bvh"):
        assert name in labels
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root.bvh", "root.html"]


def test_edit_bad_html_suffix_refused_before_any_work(walk, tmp_path, capsys):
    missing = tmp_path / "missing.ckpt"  # loading it would be the first work: a different error
    earlier = tmp_path / "earlier.html"
    earlier.write_text("an earlier page")
    for page, why in ((tmp_path / "p.txt", "--html must end in .html, got '.txt'"),
                      (earlier, "--html exists; pass --force")):
        with pytest.raises(SystemExit):
            _tool("edit_motion").main([str(walk), "--ckpt", str(missing), "--extend", "5", "-o",
                                       str(tmp_path / "x.bvh"), "--html", str(page)])
        err = capsys.readouterr().err
        assert why in err and "missing.ckpt" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["earlier.html"] and earlier.read_text() == "an earlier page"
