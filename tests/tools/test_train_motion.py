"""The motion configs through tools/train.py (a few steps on a subset of Bandai-Namco), then
tools/evaluate.py and tools/sample.py on the checkpoints they leave; resume; 2-process CPU DDP."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from motion3d.paths import REPO_ROOT

from tests.copying import copy_writable

CONFIGS = REPO_ROOT / "configs" / "motion"
SUBSET = '["*_walk_*_001.bvh"]'


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"_tool_{name}", REPO_ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _args(config: str, root: Path, cache: Path, steps: int = 3) -> list[str]:
    return ["fit", "-c", str(CONFIGS / f"{config}.yaml"), "--threads", "1", "--trainer.max_steps", str(steps),
            "--trainer.default_root_dir", str(root), "--trainer.limit_val_batches", "1",
            "--trainer.val_check_interval", "2", "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false", "--data.init_args.include", SUBSET,
            "--data.init_args.batch_size", "8", "--data.init_args.cache_dir", str(cache)]


def _fit(config: str, root: Path, cache: Path, extra=(), steps: int = 3) -> Path:
    torch.set_num_threads(1)
    _tool("train").main(_args(config, root, cache, steps) + list(extra))
    last = sorted(root.rglob("last.ckpt"))
    assert last, f"no last.ckpt under {root}"
    return last[-1]


@pytest.fixture(scope="module")
def cache(bandai_dir, tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mocap_cache")


@pytest.fixture(scope="module")
def classifier_ckpt(cache, tmp_path_factory) -> Path:
    return _fit("classifier", tmp_path_factory.mktemp("classifier"), cache)


def test_all_motion_configs_exist():
    for name in ("gru_predict", "transformer_predict", "vae_generate", "classifier"):
        assert (CONFIGS / f"{name}.yaml").is_file()


def test_classifier_config_and_evaluation(classifier_ckpt, capsys):
    ckpt = torch.load(classifier_ckpt, map_location="cpu", weights_only=True)
    assert ckpt["motion3d"]["task"] == "recognize" and ckpt["global_step"] == 3
    assert any(classifier_ckpt.parent.glob("best.ckpt"))
    out = _tool("evaluate").main(["--ckpt", str(classifier_ckpt), "--limit", "16"])
    assert 0.0 <= out["content"]["accuracy"] <= 1.0
    assert "content  accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("config", ["gru_predict", "transformer_predict"])
def test_prediction_config_evaluate_and_sample(config, cache, bandai_dir, cmu_dir, tmp_path, capsys):
    last = _fit(config, tmp_path / "run", cache)
    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    assert ckpt["motion3d"]["task"] == "predict" and ckpt["global_step"] == 3
    assert list((tmp_path / "run").rglob("events.out.tfevents.*"))
    res = _tool("evaluate").main(["--ckpt", str(last), "--limit", "8"])
    text = capsys.readouterr().out
    for row in ("zero-velocity", "constant velocity", "MPJPE root-relative", "angle error"):
        assert row in text
    assert set(res["global"]) == {"model", "zero_velocity", "constant_velocity"}
    assert set(res["global"]["model"]) == {"80", "160", "320", "400", "1000"}
    if config == "gru_predict":  # --data: every clip of a Bandai-Namco style folder
        import shutil

        folder = tmp_path / "folder"
        src = bandai_dir / "data"
        for f in sorted(src.glob("dataset-1_walk_normal_00[13].*")) + sorted(src.glob("dataset-1_run_normal_001.*")):
            (folder / "data").mkdir(parents=True, exist_ok=True)
            shutil.copy(f, folder / "data" / f.name)
        copy_writable(bandai_dir / "cfg", folder / "cfg")
        res = _tool("evaluate").main(["--ckpt", str(last), "--data", str(folder)])
        assert res["windows"] > 0 and str(folder) in res["source"]
        walk = _tool("evaluate").main(["--ckpt", str(last), "--data", str(folder), "--content", "walk"])
        assert walk["windows"] == res["windows"] and "[content: walk]" in walk["source"]  # the run is too short
        with pytest.raises(ValueError, match="no windows"):
            _tool("evaluate").main(["--ckpt", str(last), "--data", str(folder), "--content", "kick"])
        with pytest.raises(ValueError, match="unknown content label"):
            _tool("evaluate").main(["--ckpt", str(last), "--data", str(folder), "--content", "fly"])
        # another skeleton's folder: a message that says so, not a KeyError from the feature layout
        cmu = tmp_path / "cmu"
        cmu.mkdir()
        shutil.copy(cmu_dir / "01_01.bvh", cmu / "01_01.bvh")
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            _tool("evaluate").main(["--ckpt", str(last), "--data", str(cmu)])
        err = capsys.readouterr().err
        assert info.value.code == 1 and "does not fit the checkpoint's skeleton" in err and str(cmu) in err
    out = _tool("sample").main(["--ckpt", str(last), "--n", "2", "--length", "20", "-o", str(tmp_path / "s"),
                                "--no-video"])
    assert len(out["bvh"]) == 2 and all(Path(p).is_file() for p in out["bvh"])


def test_generation_config_sample_evaluate_and_resume(cache, classifier_ckpt, tmp_path, capsys):
    from motion3d.io import bvh

    root = tmp_path / "run"
    last = _fit("vae_generate", root, cache)
    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    meta = ckpt["motion3d"]
    assert meta["task"] == "generate" and meta["context"]["label_names"]["content"]
    # the sampling prior was fitted to the training posteriors before the validation (step 2)
    sd = ckpt["state_dict"]
    assert bool(sd["net.prior_fitted"]) and sd["net.prior_count"].sum() == 2 * 8  # 2 batches of 8
    assert torch.isfinite(sd["net.prior_scale"]).all() and sd["net.prior_mean"].abs().sum() > 0
    # sample: BVH on the checkpoint's skeleton + an MP4
    out = _tool("sample").main(["--ckpt", str(last), "--label", "content=walk,style=angry", "--n", "2",
                                "--length", "12", "-o", str(tmp_path / "samples")])
    assert [lab["content"] for lab in out["labels"]] == ["walk", "walk"]
    m = bvh.load(out["bvh"][0])
    assert m.num_frames == 12 and m.skeleton.names == meta["context"]["skeleton"]["names"]
    assert Path(out["video"]).stat().st_size > 0
    capsys.readouterr()
    with pytest.raises(SystemExit):  # a message listing the known labels, no traceback
        _tool("sample").main(["--ckpt", str(last), "--label", "content=fly", "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert "unknown content label 'fly'" in err and "walk" in err and not (tmp_path / "x").exists()
    # evaluate: the generation table with the classifier
    gru = _fit("gru_predict", tmp_path / "gru", cache)
    res = _tool("evaluate").main(["--ckpt", str(last), "--classifier", str(classifier_ckpt), "--limit", "16",
                                  "--runs", "2", "--rollouts", str(gru)])
    text = capsys.readouterr().out
    assert "multimodality" in text and "Seq2SeqGRU, train seeds" in text and "Seq2SeqGRU, eval seeds" in text
    # the generated rows, and the references: training clips with the same labels, the predictor's free
    # rollouts from their first frames and from the evaluated windows' own first frames
    for row in ("generated", "train_clips", "rollouts", "rollouts_eval_seeds"):
        for key in ("accuracy_content", "fid", "diversity", "multimodality", "foot_skate"):
            assert key in res[row], (row, key)
        assert np.isfinite(res[row]["fid"]["mean"]), row
    # resume from the checkpoint: the step count continues
    _tool("train").main(_args("vae_generate", root, cache, steps=5) + ["--ckpt_path", str(last)])
    resumed = max(root.rglob("last.ckpt"), key=lambda p: p.stat().st_mtime)
    assert torch.load(resumed, map_location="cpu", weights_only=True)["global_step"] == 5


def test_ddp_two_cpu_processes(cache, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(REPO_ROOT / "tools" / "train.py")] + _args("gru_predict", tmp_path, cache) + [
        "--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu",
        "--model.init_args.net.init_args.hidden", "64"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = sorted(tmp_path.rglob("last.ckpt"))
    assert last and torch.load(last[0], map_location="cpu", weights_only=True)["global_step"] == 3


def test_sample_refuses_earlier_samples_unless_force(cache, bandai_dir, tmp_path, capsys):
    last = _fit("gru_predict", tmp_path / "run", cache, steps=2)
    out = tmp_path / "s"
    args = ["--ckpt", str(last), "--n", "2", "--length", "8", "-o", str(out), "--no-video"]
    first = _tool("sample").main(args)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(Path(p).name for p in first["bvh"]) and len(names) == 2
    earlier = {n: (out / n).read_bytes() for n in names}
    (out / names[0]).write_text("an earlier sample, edited by hand")
    with pytest.raises(SystemExit):  # refused before any work
        _tool("sample").main(args + ["--seed", "1"])
    err = capsys.readouterr().err
    assert "earlier samples" in err and names[0] in err and "pass --force" in err
    assert (out / names[0]).read_text() == "an earlier sample, edited by hand"
    with pytest.raises(SystemExit):  # the checkpoint is never an output
        _tool("sample").main(["--ckpt", str(last), "-o", str(last), "--force"])
    again = _tool("sample").main(args + ["--force"])
    assert sorted(p.name for p in out.iterdir()) == names  # replaced in place, no staging folder left
    assert [Path(p).parent for p in again["bvh"]] == [out, out]
    assert (out / names[1]).read_bytes() == earlier[names[1]]  # same seed: the same clip
    assert (out / names[0]).read_bytes() == earlier[names[0]]


def test_predict_checkpoint_evaluates_a_plain_folder_of_clips(cache, bandai_dir, tmp_path, capsys):
    """Issue 17 items 5 and 13: `evaluate.py --ckpt GRU --data DIR` on clips whose label JSON sit
    beside them without the cfg/ label tables (prediction needs no labels: one warning line, not
    'no motion files left'); the root-relative table prints the two baselines as one row."""
    import logging
    import shutil

    last = _fit("gru_predict", tmp_path / "run", cache, steps=2)
    folder = tmp_path / "plain"
    folder.mkdir()
    for name in ("dataset-1_walk_normal_001", "dataset-1_walk_angry_001"):
        for ext in (".bvh", ".json"):
            shutil.copy(bandai_dir / "data" / (name + ext), folder / (name + ext))
    assert sorted(p.suffix for p in folder.iterdir()) == [".bvh", ".bvh", ".json", ".json"]
    capsys.readouterr()
    logger = logging.getLogger("motion3d.data")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        res = _tool("evaluate").main(["--ckpt", str(last), "--data", str(folder)])
    finally:
        logger.removeHandler(handler)
    assert res["windows"] > 0 and str(folder) in res["source"]
    assert set(res["root"]) == {"model", "zero_velocity", "constant_velocity"}  # the result keeps both
    out = capsys.readouterr().out
    root_table = out.split("MPJPE root-relative")[1].split("angle error")[0]
    assert "zero- = constant velocity" in root_table and "moves the root only" in root_table
    rows = [line.split("  ")[0] for line in root_table.splitlines()[1:] if line and not line.startswith(" ")]
    assert rows == ["Seq2SeqGRU", "zero- = constant velocity"], root_table
    label_lines = [r.getMessage() for r in records if "labels" in r.getMessage()]
    assert len(label_lines) == 1
    assert label_lines[0].startswith("2 of 2 clips have labels that cannot be read; they are used without labels "
                                     f"(this task needs none), e.g. {folder / 'dataset-1_walk_angry_001.json'}: content id")
    assert label_lines[0].endswith("is outside the 0 names of cfg/content_label.txt")
