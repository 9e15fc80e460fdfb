"""tools/bench/bench_cleanup.py: a quick smoke run on a short tiled Bandai-Namco clip (real numbers
in the table, the ratio against Butterworth, the 10 s target stated)."""
import importlib.util
import math
import re

from motion3d.paths import REPO_ROOT


def test_bench_cleanup_quick_runs(bandai_dir, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("_bench_cleanup", REPO_ROOT / "tools" / "bench" / "bench_cleanup.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(["--frames", "600", "--threads", "1", "--repeat", "1", "--include", "dataset-1_walk_normal_001.bvh",
                    "--cache-dir", str(tmp_path / "cache")])
    assert res["frames"] == 600 and res["joints"] == 22 and res["model"] == "untrained"
    secs = res["seconds"]
    assert {"butterworth", "savgol", "median", "model", "model_gaps", "encode", "network", "decode"} == set(secs)
    assert all(math.isfinite(v) and v > 0 for v in secs.values())
    assert res["ratio_vs_butterworth"] == secs["model"] / secs["butterworth"]
    assert res["seconds_at_target"] == secs["model"] * 18000 / 600
    assert res["target_met"] == (res["seconds_at_target"] <= 10.0)
    out = capsys.readouterr().out
    assert "UNTRAINED CleanupNet" in out and "600 frames" in out and "22 joints" in out
    rows = {}
    for line in out.splitlines():  # name, seconds, frames/s, x Butterworth
        m = re.match(r"^(\S.*?|\s+of which: .*?)\s+(\d+\.\d+)\s+(\d+)\s+(\d+\.\d+)$", line)
        if m:
            rows[m.group(1).strip()] = tuple(float(v) for v in m.groups()[1:])
    assert len(rows) == 8 and rows["Butterworth filter_motion (baseline)"][2] == 1.0
    model = rows["model (tools/cleanup.py path, cross-faded)"]
    assert model[0] > 0 and abs(model[1] - 600 / secs["model"]) <= 1 and model[2] > 0
    ratio = re.search(r"ratio model / Butterworth time: (\d+\.\d)x (slower|faster)", out)
    assert ratio and float(ratio.group(1)) > 0
    assert re.search(r"target: 18000 frames .* in <= 10 s: \d+\.\d\d s at the same rate .* -> (MET|NOT MET)", out)
