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
