"""tools/demo.py: real clips long enough to see (neither panel standing still), and the trained
time as the run measured it."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from motion3d.paths import REPO_ROOT
from motion3d.render.encode import read_video


def _demo():
    spec = importlib.util.spec_from_file_location("_tool_demo", REPO_ROOT / "tools" / "demo.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_choose_clips_prefers_long_normal_clips_then_the_longest():
    demo = _demo()
    d = {Path("s/dataset-1_walk_normal_001.bvh"): 6.5, Path("s/dataset-1_walk_sad_002.bvh"): 13.7,
         Path("s/dataset-1_walk_normal_002.bvh"): 1.0, Path("s/dataset-1_run_normal_001.bvh"): 0.8,
         Path("s/dataset-2_run_normal_006.bvh"): 2.7, Path("s/dataset-2_run_elderly_001.bvh"): 7.9,
         Path("s/dataset-2_run_elderly_002.bvh"): 7.6}
    assert [p.name for p in demo.choose_clips(d)] == ["dataset-1_walk_normal_001.bvh",  # normal, >= 4 s
                                                       "dataset-2_run_elderly_001.bvh"]  # no normal run lasts 4 s
    d[Path("s/dataset-2_run_normal_099.bvh")] = 4.0
    assert demo.choose_clips(d)[1].name == "dataset-2_run_normal_099.bvh"
    only_walks = {p: t for p, t in d.items() if "_walk_" in p.name}
    assert [p.name for p in demo.choose_clips(only_walks)] == ["dataset-1_walk_normal_001.bvh",
                                                                "dataset-1_walk_sad_002.bvh"]  # longest file


@pytest.mark.parametrize("seconds, text", [(18.3, "18 s"), (29.6, "30 s"), (59.4, "59 s"), (66.0, "1.1 min"),
                                           (600.4, "10.0 min")])
def test_fmt_seconds(seconds, text):
    assert _demo().fmt_seconds(seconds) == text


def test_trained_seconds_is_the_runs_timer(tmp_path):
    demo = _demo()
    ckpt = tmp_path / "last.ckpt"
    torch.save({"callbacks": {"Timer": {"time_elapsed": {"train": 18.25, "validate": 2.0}}}}, ckpt)
    assert demo.trained_seconds(ckpt) == 18.25
    torch.save({"callbacks": {}}, ckpt)
    assert demo.trained_seconds(ckpt) is None
    ckpt.write_bytes(b"not a checkpoint")
    assert demo.trained_seconds(ckpt) is None


def test_render_shows_both_clips_moving_to_the_end(mocap_dir, tmp_path, capsys):
    demo = _demo()
    data = tmp_path / "data"
    data.mkdir()
    names = {"bandai-namco-1": ["dataset-1_walk_normal_001.bvh", "dataset-1_run_normal_001.bvh"],  # 6.5 s, 0.8 s
             "bandai-namco-2": ["dataset-2_run_elderly_008.bvh"]}  # 6.6 s
    for folder, files in names.items():
        for name in files:
            src = mocap_dir / folder / "data" / name
            if not src.exists():
                pytest.skip(f"{src} missing")
            shutil.copy(src, data / name)
    path = demo.stage_render([data], tmp_path / "out")
    out = capsys.readouterr().out
    assert "dataset-1_walk_normal_001.bvh (6.5 s), dataset-2_run_elderly_008.bvh (6.6 s), 6.5 s of each" in out
    frames, fps = read_video(path)
    assert fps == pytest.approx(30) and frames.shape[0] == 195
    half = frames.shape[2] // 2
    for panel in (frames[:, :, :half], frames[:, :, half:]):
        change = np.abs(np.diff(panel[-31:].astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
        assert (change > 0.05).all()  # moving in every frame of the last second
