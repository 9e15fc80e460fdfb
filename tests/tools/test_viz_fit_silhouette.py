"""tools/fit_silhouette.py: a perturbed pose is pulled back towards the clip's pose."""
import importlib.util
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def test_fit_silhouette_reduces_joint_error(tmp_path, bandai_dir):
    spec = importlib.util.spec_from_file_location("fit_silhouette", ROOT / "tools" / "fit_silhouette.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    clip = sorted((bandai_dir / "data").glob("*walk*.bvh"))[0]
    out = tmp_path / "fit.png"
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = mod.main([str(clip), "--frame", "20", "--iters", "60", "--size", "48", "--joints", "7", "8",
                        "--noise-deg", "25", "-o", str(out)])
    finally:
        torch.set_num_threads(n)
    err0, err1 = res["error"]
    assert err1 < 0.5 * err0
    assert res["iou"][1] > res["iou"][0]
    img = np.asarray(Image.open(out))
    assert img.shape == (96, 144, 3) and img.max() > 200


def _tool():
    spec = importlib.util.spec_from_file_location("fit_silhouette_tool", ROOT / "tools" / "fit_silhouette.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_output_is_checked_before_any_work(tmp_path, bandai_dir, monkeypatch, capsys):
    """Issue 17 item 7: -o without .png is refused at once (exit 2, before loading or fitting)."""
    import pytest

    mod = _tool()
    calls = []
    monkeypatch.setattr(mod, "fit_pose", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(mod.bvh, "load", lambda *a, **k: calls.append(1))
    clip = sorted((bandai_dir / "data").glob("*walk*.bvh"))[0]
    with pytest.raises(SystemExit) as info:
        mod.main([str(clip), "-o", str(tmp_path / "name")])
    assert info.value.code == 2 and not calls
    assert "-o must end in .png, got 'no suffix'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        mod.main([str(clip), "-o", str(clip)])  # the input (and not a .png)
    assert not calls


def test_results_are_printed_before_a_failing_write(tmp_path, bandai_dir, monkeypatch, capsys):
    """Item 7: a write that fails after the fit still leaves the printed results, and a one-line error."""
    import pytest

    mod = _tool()

    def fail(path, image):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(mod, "write_png", fail)
    clip = sorted((bandai_dir / "data").glob("*walk*.bvh"))[0]
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.raises(SystemExit) as info:
            mod.main([str(clip), "--frame", "20", "--iters", "2", "--size", "24", "--joints", "7",
                      "-o", str(tmp_path / "fit.png")])
    finally:
        torch.set_num_threads(n)
    captured = capsys.readouterr()
    assert info.value.code == 1
    assert "silhouette IoU" in captured.out and "mean joint error" in captured.out
    assert "error: cannot write" in captured.err and "Permission denied" in captured.err
    assert "Traceback" not in captured.err and not (tmp_path / "fit.png").exists()
