"""Crafted checkpoints: a class path read from a file never names code to run, and a pickled
payload is refused with a message that names the file and never suggests weights_only=False.

Every tool that loads a checkpoint is run on each crafted file; the command the file asks for would
create a marker file, which must never appear."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from motion3d.io import bvh
from motion3d.models.motion import Seq2SeqGRU
from motion3d.motion import Motion
from motion3d.tasks.checkpoint import CheckpointError, build_datamodule, load_checkpoint, load_motion_checkpoint
from tests.tasks.helpers import tiny_context, tiny_skeleton

ROOT = Path(__file__).resolve().parents[2]


def _tool(path: str):
    spec = importlib.util.spec_from_file_location(f"tool_{Path(path).stem}", ROOT / path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


class Payload:
    """Pickled, it runs ``touch marker`` when unpickled without weights_only."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil(marker: Path) -> dict:
    return {"class_path": "os.system", "init_args": {"command": f"touch {marker}"}}


@pytest.fixture()
def crafted(tmp_path) -> dict[str, Path]:
    """Crafted files, all asking to create ``tmp_path/MARKER``."""
    marker = tmp_path / "MARKER"
    ctx = tiny_context()
    gru = Seq2SeqGRU(ctx.dim, hidden=8)
    state = {f"net.{k}": v for k, v in gru.state_dict().items()}
    files = {}

    def save(name, obj):
        files[name] = tmp_path / f"{name}.ckpt"
        torch.save(obj, files[name])

    for task in ("predict", "generate", "stylize"):
        save(f"net_{task}", {"state_dict": state, "motion3d": {"task": task, "net": _evil(marker),
                                                                "context": ctx.to_meta(), "data": None, "hparams": {}}})
    save("data_predict", {"state_dict": state, "motion3d": {"task": "predict", "net": gru.config,
                                                             "context": ctx.to_meta(), "data": _evil(marker),
                                                             "hparams": {"observe": 5, "horizon": 5}}})
    save("net_retarget", {"state_dict": {}, "motion3d": {"task": "retarget", "net": _evil(marker),
                                                          "contexts": {"a": ctx.to_meta(), "b": ctx.to_meta()},
                                                          "data": {}, "hparams": {}}})
    save("model_classify", {"state_dict": {}, "motion3d": {"task": "classify", "model": _evil(marker),
                                                            "class_names": ["a", "b"], "data": {}, "hparams": {}}})
    save("pickle", {"state_dict": {}, "motion3d": Payload(marker)})
    files["marker"] = marker
    clip = Motion(tiny_skeleton(), np.tile([0.0, 0.0, 0.0, 1.0], (40, 9, 1)), np.zeros((40, 3)), 30.0)
    files["clip"] = bvh.save(clip, tmp_path / "clip.bvh")
    return files


def _refused(capsys, call, *needles: str) -> str:
    """Run a tool's main; it must fail with a message (SystemExit or a non-zero return), never a
    traceback of another kind; returns what it printed."""
    try:
        rc = call()
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr()
    text = out.out + out.err + (rc if isinstance(rc, str) else "")
    assert rc not in (0, None), text
    for n in needles:
        assert n in text, text
    assert "weights_only=False" not in text
    return text


def test_network_class_paths_resolve_only_to_registered_classes(crafted):
    for name in ("net_predict", "net_generate", "net_stylize"):
        with pytest.raises(CheckpointError, match=r"refusing class_path 'os.system'"):
            load_motion_checkpoint(crafted[name])
    with pytest.raises(CheckpointError, match="refusing datamodule class_path 'os.system'"):
        build_datamodule(_evil(crafted["marker"]), "x.ckpt")
    with pytest.raises(CheckpointError, match=r"takes no argument\(s\) \['evil'\]"):
        build_datamodule({"class_path": "motion3d.data.mocap.MocapDataModule", "init_args": {"evil": 1}}, "x.ckpt")
    assert not crafted["marker"].exists()


def test_pickled_payload_is_refused_as_unsafe(crafted):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(crafted["pickle"])
    msg = str(info.value)
    assert str(crafted["pickle"]) in msg and "refused" in msg and "unsafe" in msg
    assert "weights_only=False" not in msg
    assert not crafted["marker"].exists()
    # not a checkpoint at all, or truncated: named, no torch internals
    junk = crafted["pickle"].parent / "junk.ckpt"
    junk.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match="junk.ckpt: not a readable checkpoint"):
        load_checkpoint(junk)


@pytest.mark.parametrize("name", ["net_generate", "net_predict", "pickle"])
def test_sample_tool_refuses(crafted, tmp_path, capsys, name):
    main = _tool("tools/sample.py")
    _refused(capsys, lambda: main(["--ckpt", str(crafted[name]), "-o", str(tmp_path / "out"), "--n", "1"]),
             str(crafted[name]))
    assert not crafted["marker"].exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["net_predict", "data_predict", "model_classify", "pickle"])
def test_evaluate_tool_refuses(crafted, capsys, name):
    main = _tool("tools/evaluate.py")
    _refused(capsys, lambda: main(["--ckpt", str(crafted[name])]), "refus")
    assert not crafted["marker"].exists()


@pytest.mark.parametrize("name", ["net_stylize", "pickle"])
def test_stylize_tool_refuses(crafted, tmp_path, capsys, name):
    main = _tool("tools/stylize.py")
    out = tmp_path / "styled.bvh"
    _refused(capsys, lambda: main([str(crafted["clip"]), "--style-label", "angry", "--ckpt", str(crafted[name]),
                                   "-o", str(out)]), str(crafted[name]))
    assert not crafted["marker"].exists() and not out.exists()


@pytest.mark.parametrize("name", ["net_retarget", "pickle"])
def test_retarget_tool_refuses(crafted, tmp_path, capsys, name):
    main = _tool("tools/retarget.py")
    out = tmp_path / "retargeted.bvh"
    _refused(capsys, lambda: main([str(crafted["clip"]), "--target", str(crafted["clip"]), "-o", str(out),
                                   "--method", "learned", "--ckpt", str(crafted[name])]), str(crafted[name]))
    assert not crafted["marker"].exists() and not out.exists()


@pytest.mark.parametrize("name", ["model_classify", "pickle"])
def test_show_points_refuses(crafted, tmp_path, capsys, name):
    main = _tool("viz/show_points.py")
    cloud = tmp_path / "cloud.npy"
    np.save(cloud, np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32))
    _refused(capsys, lambda: main([str(cloud), "--ckpt", str(crafted[name]), "--offscreen", str(tmp_path / "x.png"),
                                   "--backend", "matplotlib"]), str(crafted[name]))
    assert not crafted["marker"].exists()

