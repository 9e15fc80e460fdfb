"""motion3d.evaluate: one registry of evaluation procedures, options as data, parsers built in tools/."""
from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

from motion3d import evaluate
from motion3d.evaluate.registry import Option, register
from motion3d.paths import REPO_ROOT


def test_every_task_with_checkpoints_has_one_evaluator():
    assert evaluate.names() == ["classify", "cleanup", "diffuse", "generate", "predict", "recognize", "retarget", "stylize"]
    for name in evaluate.names():
        ev = evaluate.get(name)
        assert ev.name == name and callable(ev.run)
        assert all(isinstance(o, Option) for o in ev.options)
    with pytest.raises(KeyError, match="no evaluator registered for task 'nope'.*predict"):
        evaluate.get("nope")


def test_registering_a_task_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        register("predict")(lambda checkpoint, args: {})


def test_options_are_data_with_defaults_and_destinations():
    ev = evaluate.get("predict")
    dests = [o.dest for o in ev.options]
    assert dests[:6] == ["data", "split", "batch_size", "device", "limit", "content"]
    assert {"observe", "horizon", "horizons_ms"} <= set(dests)
    d = ev.defaults()
    assert d["split"] == "test" and d["batch_size"] == 64 and d["horizons_ms"] == [80.0, 160.0, 320.0, 400.0, 1000.0]
    assert evaluate.get("stylize").defaults()["plant_feet"] is False
    assert Option("--x", dest="y").dest == "y"


def test_tool_builds_its_parser_from_the_options():
    spec = importlib.util.spec_from_file_location("_tool_evaluate", REPO_ROOT / "tools" / "evaluate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    parser = mod.build_parser(evaluate.get("generate"))
    args = parser.parse_args(["--runs", "2", "--batch-size", "8", "--temperature", "0.5"])
    assert (args.runs, args.batch_size, args.temperature, args.split) == (2, 8, 0.5, "test")
    with pytest.raises(SystemExit):
        parser.parse_args(["--split", "holdout"])  # choices come from the option


def test_library_has_no_argparse():
    import ast

    for path in (REPO_ROOT / "motion3d").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert "argparse" not in names, f"{path} imports argparse: command lines belong in tools/"


def test_evaluators_take_any_namespace():
    ev = evaluate.get("recognize")
    args = SimpleNamespace(**ev.defaults())
    assert args.split == "test" and args.device == "cpu"


def test_tool_help_without_a_checkpoint(capsys):
    """Issue 17 item 8: --help works without --ckpt, lists the known tasks and says how to see a
    task's options; no --ckpt at all is a one-line usage error."""
    spec = importlib.util.spec_from_file_location("_tool_evaluate_help", REPO_ROOT / "tools" / "evaluate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(SystemExit) as info:
        mod.main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "known tasks: classify, cleanup, diffuse, generate, predict, recognize, retarget, stylize" in out
    assert "`--ckpt X --help` shows the options of checkpoint X's task" in out
    with pytest.raises(SystemExit) as info:
        mod.main(["--data", "somewhere"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "required: --ckpt" in err and "Traceback" not in err
