#!/usr/bin/env python
"""Benchmark: autoregressive prediction with MotionTransformer, key/value cache vs re-encoding.

    python tools/bench/bench_predict.py [--batch 64] [--observe 30] [--horizon 30] [--threads 2]

The network has the sizes of configs/motion/transformer_predict.yaml (dim 128, 4 layers, 4 heads)
on 141-channel frames (the Bandai-Namco rot6d layout). Measured in the same run:

* prediction (frames/s over the batch, no gradient, eval mode):
  - ours: ``MotionTransformer.predict`` (each new frame attends to cached keys/values),
  - baseline: re-encode the whole context for every new frame with ``nn.TransformerEncoder`` and a
    causal mask (the usual implementation, and this project's before the cache); the two outputs
    are compared (max abs difference printed);
* a training step (forward + backward, windows/s): ``rollout_training`` (free-running rollout with
  gradient over the horizon) vs parallel scheduled sampling (one extra no-gradient pass).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_time  # noqa: E402
from motion3d.models.motion import MotionTransformer  # noqa: E402
from motion3d.models.motion.blocks import causal_mask  # noqa: E402

D = 141


@torch.no_grad()
def reencode_predict(net: MotionTransformer, observed: torch.Tensor, horizon: int) -> torch.Tensor:
    """Baseline: a full causal pass of ``nn.TransformerEncoder`` over the context for every frame."""
    seq = observed
    for _ in range(horizon):
        ctx = seq[:, -net.max_len:]
        tokens = net.position(net.embed(ctx))
        h = net.norm(net.encoder(tokens, mask=causal_mask(ctx.shape[1]), is_causal=True))
        seq = torch.cat([seq, (ctx + net.out(h))[:, -1:]], dim=1)
    return seq[:, observed.shape[1]:]


def main(argv=None) -> dict:
    """Run the benchmark; returns the measured rates and the cache/re-encode difference."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--observe", type=int, default=30)
    ap.add_argument("--horizon", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sizes = dict(dim=128, layers=4, heads=4, ff_dim=256, dropout=0.1, max_len=64)
    net = MotionTransformer(D, **sizes).eval()
    with torch.no_grad():  # a non-trivial output layer (it starts near zero)
        net.out.weight.normal_(std=0.05)
    x = torch.randn(args.batch, args.observe + args.horizon, D)
    obs = x[:, :args.observe]
    print(f"torch {torch.__version__}, {args.threads} threads; batch {args.batch}, observe {args.observe}, "
          f"predict {args.horizon} frames, MotionTransformer {sizes}")

    diff = (net.predict(obs, args.horizon) - reencode_predict(net, obs, args.horizon)).abs().max().item()
    frames = args.batch * args.horizon
    ours = best_time(lambda: net.predict(obs, args.horizon), args.repeat, warmup=1)
    base = best_time(lambda: reencode_predict(net, obs, args.horizon), args.repeat, warmup=1)
    print(f"{'prediction':<44}{'frames/s':>12}")
    print(f"{'  ours: predict (key/value cache)':<44}{frames / ours:>12.0f}")
    print(f"{'  baseline: re-encode per frame':<44}{frames / base:>12.0f}")
    print(f"  ratio ours / baseline: {base / ours:.2f}x   (max |difference| {diff:.1e})")

    def step(model):
        model.zero_grad(set_to_none=True)
        pred, _ = model.forward_train(x, args.observe, None, 0.5)
        pred.square().mean().backward()

    rollout = MotionTransformer(D, **sizes, rollout_training=True).train()
    sched = MotionTransformer(D, **sizes).train()
    t_roll = best_time(lambda: step(rollout), args.repeat, warmup=1)
    t_sched = best_time(lambda: step(sched), args.repeat, warmup=1)
    print(f"{'training step (forward + backward)':<44}{'windows/s':>12}")
    print(f"{'  rollout_training (gradient through rollout)':<44}{args.batch / t_roll:>12.1f}")
    print(f"{'  baseline: parallel scheduled sampling':<44}{args.batch / t_sched:>12.1f}")
    print(f"  ratio rollout / scheduled sampling: {t_sched / t_roll:.2f}x")
    return {"max_difference": diff, "predict_frames_per_s": frames / ours, "reencode_frames_per_s": frames / base,
            "rollout_windows_per_s": args.batch / t_roll, "sampling_windows_per_s": args.batch / t_sched}


if __name__ == "__main__":
    main()
