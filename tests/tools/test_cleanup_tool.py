"""tools/cleanup.py: BVH in/out with a checkpoint or a filter, npz with NaN gaps, --missing,
--report, bad inputs named, no overwrite."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from motion3d.io import bvh
from motion3d.paths import REPO_ROOT
from tests.tasks.test_cleanup import make_checkpoint, tiny_clip


def _tool():
    spec = importlib.util.spec_from_file_location("_tool_cleanup", REPO_ROOT / "tools" / "cleanup.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cleanup_tool(tmp_path, capsys):
    tool = _tool()
    ckpt = make_checkpoint(tmp_path / "c.ckpt", steps=1)
    clip = tiny_clip(60)
    src = tmp_path / "in.bvh"
    bvh.save(clip, src)
    out = tmp_path / "out.bvh"
    r = tool.main([str(src), "--ckpt", str(ckpt), "-o", str(out), "--missing", "10:20,40", "--report"])
    assert out.is_file() and r["frames"] == 60 and r["report"]["gap_frames"] == 11
    assert "foot skate" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # existing output without --force
        tool.main([str(src), "--filter", "median", "-o", str(out)])
    with pytest.raises(SystemExit):  # never onto the input
        tool.main([str(src), "--filter", "median", "-o", str(src), "--force"])
    r = tool.main([str(src), "--filter", "butterworth", "-o", str(out), "--force"])
    assert bvh.load(out).num_frames == 60
    # npz with NaN gaps on the checkpoint's skeleton
    rot = clip.rotations.copy()
    rot[20:30, 4] = np.nan
    npz = tmp_path / "gaps.npz"
    np.savez(npz, rotations=rot, root_positions=clip.root_positions, fps=30.0)
    r = tool.main([str(npz), "--ckpt", str(ckpt), "-o", str(tmp_path / "g.bvh"), "--report"])
    assert r["report"]["gap_frames"] == 10 and np.isfinite(bvh.load(tmp_path / "g.bvh").rotations).all()
    # bad inputs: named in the error
    bad = tmp_path / "bad.npz"
    np.savez(bad, poses_=np.zeros(3))
    with pytest.raises(SystemExit):
        tool.main([str(bad), "--ckpt", str(ckpt), "-o", str(tmp_path / "b.bvh")])
    assert "bad.npz" in capsys.readouterr().err
    short = tmp_path / "short.bvh"
    bvh.save(tiny_clip(10), short)
    with pytest.raises(SystemExit):
        tool.main([str(short), "--ckpt", str(ckpt), "-o", str(tmp_path / "s.bvh")])
    err = capsys.readouterr().err
    assert "short.bvh" in err and "window" in err
