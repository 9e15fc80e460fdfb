"""Learned retargeting of whole clips of any length with a ``retarget`` checkpoint
(``tools/retarget.py --method learned``, ``tools/evaluate_retarget.py --ckpt``).

The source clip's skeleton picks the encoder (it must have the topology, joint names and parents,
of one of the checkpoint's domains; proportions may differ), the target skeleton the decoder and
the static offsets. The source is resampled to the checkpoint's frame rate, encoded in the
domain's representation on its own skeleton, cut into windows of the training length overlapping
by half (:func:`motion3d.data.windows.covering_window_starts`; clips shorter than a window are
padded with their last frame), retargeted window by window, blended with linear cross-fades
(:func:`~motion3d.data.windows.crossfade_weights`) and decoded once on the target
skeleton, starting where the source starts (its ground position scaled by the height ratio). The
result has the source's frame rate and frame count.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from motion3d.data.windows import covering_window_starts, crossfade_weights
from motion3d.features import build
from motion3d.motion import Motion, same_fps
from motion3d.retarget import naive_copy, retarget
from motion3d.retarget.evaluate import bone_length_error, end_effector_error, gt_error, skate_and_penetration
from motion3d.retarget.variants import scale_limbs
from motion3d.skeleton import Skeleton
from motion3d.tasks.context import ContextMismatch, MotionContext
from motion3d.tasks.retarget import load_retarget_checkpoint

__all__ = ["LearnedRetargeter", "compare_methods", "retarget_clip", "GT_FACTORS", "METHODS"]

#: the retargeting methods of :func:`retarget_clip` (and ``tools/retarget.py --method``)
METHODS = ("analytic", "learned")

#: proportions of the ground-truth variant (:func:`motion3d.retarget.variants.scale_limbs`)
GT_FACTORS = {"legs": 1.2, "arms": 0.8, "spine": 1.1, "head": 0.9}


def _describe(sk: Skeleton) -> str:
    return f"{sk.num_joints} joints: {', '.join(sk.names[:4])}, ..."


class LearnedRetargeter:
    """A trained :class:`RetargetNet` with its two domains' contexts (see the module docstring)."""

    def __init__(self, net, contexts: dict[str, MotionContext], device: str | torch.device = "cpu"):
        self.net, self.contexts = net.to(device).eval(), contexts
        self.device = torch.device(device)

    @classmethod
    def load(cls, ckpt: str | Path, device: str | torch.device = "cpu") -> "LearnedRetargeter":
        net, contexts, _ = load_retarget_checkpoint(ckpt, device)
        return cls(net, contexts, device)

    @property
    def window(self) -> int:
        return int(self.contexts["a"].window or 64)

    def domain_of(self, skeleton: Skeleton, role: str) -> str:
        """``"a"`` or ``"b"``: the domain whose topology ``skeleton`` has; a clear error otherwise
        naming the ``role`` (source / target) and why each domain differs."""
        for k, ctx in self.contexts.items():
            if ctx.skeleton.same_topology(skeleton):
                return k
        why = "; ".join(f"domain {k} ({_describe(ctx.skeleton)}): {ctx.skeleton.describe_difference(skeleton)}"
                        for k, ctx in self.contexts.items())
        raise ContextMismatch(f"the {role} skeleton ({_describe(skeleton)}) is not one of the checkpoint's "
                              f"domains, so the learned method cannot take it as {role} ({why}); use "
                              "--method analytic or a checkpoint trained on it")

    @torch.no_grad()
    def retarget_features(self, x: torch.Tensor, source: str, target: str, offsets: torch.Tensor) -> torch.Tensor:
        """Normalised source features ``(T, D_s)`` -> normalised target features ``(T, D_t)``,
        window by window with half overlaps, cross-faded; ``offsets (J_t, 3)``: the target
        skeleton's graph offsets (:meth:`DomainAutoencoder.skeleton_offsets`)."""
        T, W = x.shape[0], self.window
        if T < W:
            x = torch.cat([x, x[-1:].expand(W - T, -1)])
        L = x.shape[0]
        starts = covering_window_starts(L, W, W // 2)
        wins = torch.stack([x[s:s + W] for s in starts]).float().to(self.device)  # (K, W, D_s)
        out = self.net.retarget(source, target, wins, offsets.expand(len(starts), -1, -1)).cpu().double()
        weights = torch.from_numpy(crossfade_weights(starts, W, L))  # (K, W)
        blended = torch.zeros(L, out.shape[-1], dtype=torch.float64)
        for k, s in enumerate(starts):
            blended[s:s + W] += weights[k, :, None] * out[k]
        return blended[:T].float()

    def retarget(self, motion: Motion, target: Skeleton) -> Motion:
        """``motion`` on the ``target`` skeleton (source fps and frame count)."""
        if motion.num_frames < 2:
            raise ValueError(f"clip {motion.name!r} has {motion.num_frames} frame(s); at least 2 are needed")
        src, dst = self.domain_of(motion.skeleton, "source"), self.domain_of(target, "target")
        cs, ct = self.contexts[src], self.contexts[dst]
        m = motion if same_fps(motion.fps, cs.fps) else motion.resample(cs.fps)
        rep_s = build(cs.representation.name, m.skeleton, **cs.representation.options())
        rep_t = build(ct.representation.name, target, **ct.representation.options())
        x = torch.from_numpy(cs.normalizer.normalize(rep_s.encode(m)))
        offsets = self.net.domain(dst).skeleton_offsets(target)
        y = ct.normalizer.denormalize(self.retarget_features(x, src, dst, offsets).double())
        init = np.asarray(rep_s.initial_state(m), dtype=np.float64).copy()
        init[:2] *= target.height() / m.skeleton.height()
        out = rep_t.decode(y, initial=init, fps=ct.fps, name=motion.name)
        # back to the source's rate (a rate within FPS_TOLERANCE is only relabelled) and frame count
        out = out.resample(motion.fps)
        if out.num_frames != motion.num_frames:
            out = out[np.minimum(np.arange(motion.num_frames), out.num_frames - 1)]
        return out


def retarget_clip(source: Motion, target: Skeleton, method: str = "analytic", checkpoint: str | Path | None = None,
                  device: str = "cpu", **options) -> Motion:
    """``source`` on the ``target`` skeleton by ``method``: ``"analytic"``
    (:func:`motion3d.retarget.retarget`, ``options`` go to it: ``mapping``, ``scale_root``,
    ``feet_on_floor``, ``cleanup_feet``) or ``"learned"`` (the skeleton-aware network of the
    ``retarget`` ``checkpoint``, :class:`LearnedRetargeter`; it takes no options)."""
    if method == "analytic":
        return retarget(source, target, **options)
    if method != "learned":
        raise ValueError(f"unknown retargeting method {method!r}; choose one of {METHODS}")
    if checkpoint is None:
        raise ValueError("the learned retargeting method (skeleton-aware network) needs a checkpoint: train one "
                         "with `tools/train.py fit -c configs/retarget/bandai_cmu.yaml` and pass checkpoint=...")
    if options:
        raise ValueError(f"{sorted(options)} apply to the analytic method only")
    return LearnedRetargeter.load(checkpoint, device).retarget(source, target)


def compare_methods(retargeter: LearnedRetargeter, motion: Motion) -> dict[str, dict[str, float]]:
    """Naive copy, analytic and learned retargeting of one clip of a checkpoint domain, as rows
    ``{measure: {"source"?, "naive", "analytic", "learned"}}``: the ground-truth error (err/h^2) onto
    its own skeleton with :data:`GT_FACTORS` proportions, and onto the other domain's skeleton the
    end-effector error (per limb length), foot skate (heights/s, the source's beside) and floor
    penetration (x height). Raises if a learned output's bone lengths differ from its target's."""
    k = retargeter.domain_of(motion.skeleton, "source")
    other = "b" if k == "a" else "a"
    truth = scale_limbs(motion, GT_FACTORS)
    tgt = retargeter.contexts[other].skeleton
    gt_out, out = retargeter.retarget(motion, truth.skeleton), retargeter.retarget(motion, tgt)
    worst = max(bone_length_error(gt_out), bone_length_error(out))
    if worst > 1e-6:
        raise AssertionError(f"learned output bone lengths differ from the target's by {worst:.3g} x height")
    rows = {"GT proportions (err/h^2)": {
        "naive": gt_error(naive_copy(motion, truth.skeleton), truth),
        "analytic": gt_error(retarget(motion, truth.skeleton), truth), "learned": gt_error(gt_out, truth)}}
    task = f"domain {k} -> {other} ({motion.skeleton.num_joints} -> {tgt.num_joints} joints)"
    results = {"naive": naive_copy(motion, tgt), "analytic": retarget(motion, tgt), "learned": out}
    rows[f"{task}: end effectors (per limb length)"] = {c: end_effector_error(motion, r) for c, r in results.items()}
    sp = {c: skate_and_penetration(motion, r) for c, r in results.items()}
    rows[f"{task}: foot skate (heights/s)"] = {"source": sp["analytic"]["skate_src"],
                                               **{c: v["skate"] for c, v in sp.items()}}
    rows[f"{task}: floor penetration (x height)"] = {c: v["penetration"] for c, v in sp.items()}
    return rows
