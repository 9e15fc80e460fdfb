"""tools/train.py --help: ends with every config under configs/ (relative paths), one a line."""
from __future__ import annotations

import importlib.util

import pytest

from motion3d.paths import REPO_ROOT


def _train():
    spec = importlib.util.spec_from_file_location("_tool_train", REPO_ROOT / "tools" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _help(args, capsys, monkeypatch) -> str:
    monkeypatch.setattr("sys.argv", ["tools/train.py", *args])
    with pytest.raises(SystemExit) as info:
        _train().main()  # reads sys.argv, as on the command line
    assert info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("args, lightning_help", [(["--help"], "Available subcommands"),
                                                  (["fit", "--help"], "--trainer.max_steps")])
def test_help_lists_every_config(args, lightning_help, capsys, monkeypatch):
    configs = sorted(p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "configs").rglob("*.yaml"))
    assert len(configs) >= 14 and "configs/motion/vae_generate.yaml" in configs
    out = _help(args, capsys, monkeypatch)
    listed = out.split("configs (tools/train.py fit -c CONFIG):\n", 1)[1].split()
    assert listed == configs
    assert lightning_help in out  # Lightning's own help is still there


def test_config_list_follows_the_folder(tmp_path, monkeypatch):
    train = _train()
    (tmp_path / "configs" / "a" / "b").mkdir(parents=True)
    (tmp_path / "configs" / "a" / "b" / "deep.yaml").write_text("{}")
    (tmp_path / "configs" / "top.yaml").write_text("{}")
    (tmp_path / "configs" / "notes.txt").write_text("not a config")
    monkeypatch.setattr(train, "ROOT", tmp_path)
    monkeypatch.setattr(train, "CONFIGS", tmp_path / "configs")
    assert train.config_list() == ["configs/a/b/deep.yaml", "configs/top.yaml"]
