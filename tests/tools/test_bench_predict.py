"""tools/bench/bench_predict.py: a quick smoke run (the cached prediction equals re-encoding)."""
import importlib.util

from motion3d.paths import REPO_ROOT


def test_bench_predict_quick_runs(capsys):
    spec = importlib.util.spec_from_file_location("_bench_predict", REPO_ROOT / "tools" / "bench" / "bench_predict.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(["--batch", "2", "--observe", "5", "--horizon", "4", "--threads", "1", "--repeat", "1"])
    assert res["max_difference"] < 1e-4
    assert res["predict_frames_per_s"] > 0 and res["rollout_windows_per_s"] > 0
    assert "ratio ours / baseline" in capsys.readouterr().out
