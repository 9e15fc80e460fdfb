#!/usr/bin/env python
"""Benchmark: motion diffusion sampling speed against the number of denoising steps, beside the
conditional VAE's sampling (one decoder pass) in the same run.

    python tools/bench/bench_diffusion.py [--batch 64] [--length 60] [--steps 10 25 50 100] [--ddpm] [--threads 2]
                                          [--device cuda]

The networks have the sizes of configs/motion/diffusion.yaml and configs/motion/vae_generate.yaml
(read from the files, so the benchmark follows the configs) on 134-channel frames with 25 content
and 19 style labels (the Bandai-Namco rot6d layout), random weights (speed does not depend on
them). Every clip is conditioned on a content and a style label, so diffusion runs classifier-free
guidance at the config's weight (two passes per step, batched as one). Measured:

* clips/s of ``MotionDiffusion.sample`` (DDIM) at each ``--steps``, and ``--ddpm``: the full
  1000-step ancestral sampler (skipped by default: about 1000/50 times the 50-step time);
* the reference path, at the config's default steps: ``MotionDiffusion.denoise`` every step
  (``nn.TransformerEncoder``'s own inference path, inputs, label and positional embeddings
  recomputed each step: the sampler before its per-run denoiser), and the max difference of the
  two outputs;
* the VAE's clips/s (``MotionVAE.sample``), the named baseline every row's ratio is against.
"""
from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_time as _best_time  # noqa: E402
from motion3d.models.motion import MotionDiffusion, MotionVAE  # noqa: E402
from motion3d.models.motion.diffusion import ddim_step, noise_like, sampling_timesteps  # noqa: E402
from motion3d.paths import REPO_ROOT  # noqa: E402

D, NUM_CONTENT, NUM_STYLE = 134, 25, 19


def net_sizes(config: str) -> dict:
    """The ``net`` init_args of ``configs/motion/CONFIG.yaml``."""
    with open(REPO_ROOT / "configs" / "motion" / f"{config}.yaml") as f:
        return dict(yaml.safe_load(f)["model"]["init_args"]["net"]["init_args"])


@torch.no_grad()
def reference_sample(net: MotionDiffusion, n: int, length: int, labels: dict, generator: torch.Generator,
                     steps: int) -> torch.Tensor:
    """DDIM sampling with :meth:`MotionDiffusion.denoise` every step (the sampler before its per-run
    denoiser): the reference of :meth:`MotionDiffusion.sample`."""
    device = next(net.parameters()).device
    x = noise_like(torch.empty(n, length, net.input_dim, device=device), generator)
    ts = sampling_timesteps(net.diffusion_steps, steps)
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        x0 = net.denoise(x, torch.full((n,), t, dtype=torch.long, device=device), labels, None, None, net.guidance)
        x = ddim_step(net.schedule, x, x0, t, t_prev, net.eta, generator)
    return x


def main(argv=None) -> dict:
    """Run the benchmark; returns the measured clips/s by method and the reference difference."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--length", type=int, default=60, help="frames per clip (60: 2 s at 30 fps)")
    ap.add_argument("--steps", type=int, nargs="+", default=[10, 25, 50, 100], help="DDIM step counts")
    ap.add_argument("--ddpm", action="store_true", help="also time DDPM over all the training steps (slow)")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference (per-step denoise) timing")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (both networks on it; timings synchronise it)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--diffusion", default="diffusion", help="config name under configs/motion/ (its net's sizes)")
    ap.add_argument("--vae", default="vae_generate", help="config name of the VAE")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    diff = MotionDiffusion(D, NUM_CONTENT, NUM_STYLE, **net_sizes(args.diffusion)).eval().to(device)
    vae = MotionVAE(D, NUM_CONTENT, NUM_STYLE, **net_sizes(args.vae)).eval().to(device)
    with torch.no_grad():  # a non-trivial output layer (it may start near zero)
        diff.out.weight.normal_(std=0.05)
    B, L = args.batch, args.length
    g = torch.Generator().manual_seed(0)
    labels = {"content": torch.randint(0, NUM_CONTENT, (B,), generator=g),
              "style": torch.randint(0, NUM_STYLE, (B,), generator=g)}
    labels = {k: v.to(device) for k, v in labels.items()}
    seeded = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} threads"
    print(f"torch {torch.__version__}, {where}; batch {B} clips of {L} frames; diffusion "
          f"({args.diffusion}.yaml: dim {diff.dim}, {len(diff.encoder.layers)} layers, guidance {diff.guidance:g}, "
          f"default {diff.sample_steps} steps) vs VAE ({args.vae}.yaml)")

    best_time = partial(_best_time, sync=device if device.type == "cuda" else None)
    t_vae = best_time(lambda: vae.sample(B, L, labels, generator=seeded()), args.repeat, warmup=1)
    rates: dict[str, float] = {"vae": B / t_vae}
    print(f"{'method':<44}{'s/batch':>10}{'clips/s':>10}{'x VAE':>10}")

    def line(name: str, seconds: float) -> None:
        print(f"{name:<44}{seconds:>10.3f}{B / seconds:>10.1f}{t_vae / seconds:>10.4f}")

    line("VAE (baseline: one decoder pass)", t_vae)
    for steps in args.steps:
        t = best_time(lambda: diff.sample(B, L, labels, generator=seeded(), steps=steps), args.repeat, warmup=1)
        rates[f"ddim{steps}"] = B / t
        line(f"diffusion, DDIM {steps} steps", t)
    result: dict = {"clips_per_s": rates}
    if not args.no_reference:
        steps = diff.sample_steps
        t = best_time(lambda: reference_sample(diff, B, L, labels, seeded(), steps), max(1, args.repeat - 1))
        rates[f"reference_ddim{steps}"] = B / t
        line(f"  reference: denoise per step, {steps} steps", t)
        ours = diff.sample(B, L, labels, generator=seeded(), steps=steps)
        result["max_difference"] = float((ours - reference_sample(diff, B, L, labels, seeded(), steps)).abs().max())
        if f"ddim{steps}" in rates:
            print(f"  ratio sample / reference at {steps} steps: {rates[f'ddim{steps}'] / rates[f'reference_ddim{steps}']:.2f}x"
                  f"   (max |difference| {result['max_difference']:.1e})")
        else:
            print(f"  (max |difference| sample vs reference {result['max_difference']:.1e})")
    if args.ddpm:
        t = best_time(lambda: diff.sample(B, L, labels, generator=seeded(), steps=diff.diffusion_steps,
                                          sampler="ddpm"), 1)
        rates[f"ddpm{diff.diffusion_steps}"] = B / t
        line(f"diffusion, DDPM {diff.diffusion_steps} steps", t)
    else:
        print(f"  DDPM over all {diff.diffusion_steps} training steps skipped (--ddpm): about "
              f"{diff.diffusion_steps / max(args.steps):.0f}x the {max(args.steps)}-step time")
    return result


if __name__ == "__main__":
    main()
