"""tools/bench/bench_diffusion.py: a quick smoke run (the fast sampler equals the reference path)."""
import importlib.util

from motion3d.paths import REPO_ROOT


def test_bench_diffusion_quick_runs(capsys):
    spec = importlib.util.spec_from_file_location("_bench_diffusion", REPO_ROOT / "tools" / "bench" / "bench_diffusion.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(["--batch", "2", "--length", "8", "--steps", "2", "4", "--threads", "1", "--repeat", "1"])
    assert res["max_difference"] < 1e-4
    rates = res["clips_per_s"]
    assert {"vae", "ddim2", "ddim4"} <= set(rates) and len(rates) == 4 and all(v > 0 for v in rates.values())
    assert any(k.startswith("reference_ddim") for k in rates)  # at the config's default steps
    out = capsys.readouterr().out
    assert "VAE (baseline" in out and "DDIM 4 steps" in out and "DDPM over all 1000 training steps skipped" in out
