"""MotionEditor's defaults that depend on the checkpoint's network (the windowed inpainting itself is
tested through tools/edit_motion.py in tests/tools/test_edit_motion.py)."""
from __future__ import annotations

from motion3d.models.motion import MotionDiffusion
from motion3d.tasks.edit_clips import GUIDE_SCALE, GUIDE_SCALE_CONDITIONED, guide_scale_for
from tests.tasks.helpers import tiny_context


def test_the_guidance_step_is_smaller_for_a_denoiser_that_sees_the_joints():
    ctx = tiny_context()
    sizes = dict(dim=16, layers=1, heads=2, ff_dim=16, diffusion_steps=10)
    plain = MotionDiffusion(ctx.dim, **sizes)
    conditioned = MotionDiffusion(ctx.dim, condition_joints=ctx.skeleton.num_joints, **sizes)
    assert guide_scale_for(plain) == GUIDE_SCALE == 30.0
    assert guide_scale_for(conditioned) == GUIDE_SCALE_CONDITIONED < GUIDE_SCALE
