"""The root trajectory helpers of motion3d.features.trajectory."""
from __future__ import annotations

import torch

from motion3d.features import build
from motion3d.features.trajectory import to_initial_frame
from tests.tasks.helpers import tiny_skeleton


def test_to_initial_frame_undoes_the_initial_state_of_a_decoding():
    rep = build("rot6d", tiny_skeleton(), fps=30)
    torch.manual_seed(0)
    feats = torch.randn(2, 15, rep.dim, dtype=torch.float64) * 0.2
    initial = torch.tensor([0.7, -1.3, 2.1], dtype=torch.float64)  # [x0, z0, heading0]
    moved = rep.decode_positions(feats, initial)  # (2, 15, J, 3)
    here = rep.decode_positions(feats)  # from the origin, facing +Z
    assert (moved - here).abs().max() > 0.5  # the initial state moved and turned the clip
    torch.testing.assert_close(to_initial_frame(moved, initial), here, atol=1e-10, rtol=0)
    # heights are kept, and the identity state changes nothing
    torch.testing.assert_close(to_initial_frame(moved, initial)[..., 1], moved[..., 1])
    torch.testing.assert_close(to_initial_frame(here, torch.zeros(3, dtype=torch.float64)), here)
