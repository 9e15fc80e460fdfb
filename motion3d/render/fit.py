"""Fitting skeleton poses to silhouettes with the differentiable renderer (:mod:`motion3d.render.diff`).

The pose is the initial local rotations times a learned axis-angle correction per joint,
``q_j = q_init_j * exp(delta_j)``; every view's capsule silhouette is compared with its target by a
soft-IoU loss, and Adam updates the corrections (and optionally the root position).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from motion3d.geometry.kinematics import forward_kinematics
from motion3d.geometry.rotations import axis_angle_to_quat, quat_mul
from motion3d.render.diff import Camera, render_capsules, silhouette_loss


def bones_of(parents) -> torch.Tensor:
    """(K, 2) (parent, child) pairs of a (J,) parents list."""
    p = torch.as_tensor(parents)
    child = torch.nonzero(p >= 0).squeeze(-1)
    return torch.stack([p[child], child], 1)


def orbit_cameras(target, distance: float, size=(96, 96), azimuths=(0.0, 90.0), elevation: float = 10.0,
                  fov_deg: float = 40.0) -> list[Camera]:
    """Cameras around ``target`` (3,) at ``distance``, one per azimuth in degrees (Y up)."""
    target = torch.as_tensor(target, dtype=torch.float32)
    cams = []
    for az in azimuths:
        a, e = torch.tensor(az).deg2rad(), torch.tensor(elevation).deg2rad()
        d = torch.stack([a.sin() * e.cos(), e.sin(), a.cos() * e.cos()])
        cams.append(Camera.look_at(target + distance * d, target, size=size, fov_deg=fov_deg))
    return cams


def render_views(rotations, offsets, parents, root, cameras, radius: float, sigma: float = 1.0, bones=None):
    """(V, B, H, W) capsule silhouettes of a posed skeleton (rotations (B, J, 4), root (B, 3)) per camera.

    ``bones`` (K, 2) selects the capsules (default every parent-child pair)."""
    _, pos = forward_kinematics(rotations, offsets, parents, root)
    bones = bones_of(parents) if bones is None else torch.as_tensor(bones)
    return torch.stack([render_capsules(pos, bones, cam, radius, sigma=sigma).silhouette for cam in cameras])


@dataclass
class FitResult:
    """Fitted rotations (B, J, 4), root (B, 3), and the loss after every step."""

    rotations: torch.Tensor
    root: torch.Tensor
    losses: list[float] = field(default_factory=list)


def fit_pose(targets: torch.Tensor, init_rotations: torch.Tensor, offsets, parents, root: torch.Tensor,
             cameras, radius: float, iters: int = 150, lr: float = 0.05, fit_root: bool = False,
             sigma: float = 1.0, joints=None, bones=None) -> FitResult:
    """Fit local rotations so the capsule silhouettes match ``targets``.

    Args:
        targets: (V, B, H, W) target silhouettes, one per camera.
        init_rotations: (B, J, 4) starting local rotations (xyzw).
        offsets: (J, 3); parents: (J,); root: (B, 3) root positions.
        cameras: V cameras (:class:`Camera`), each of the targets' size.
        joints: indices of the joints whose rotation is optimised (default all).
        bones: (K, 2) capsules to draw (default every parent-child pair).
    Returns:
        :class:`FitResult`.
    """
    init = init_rotations.detach().float()
    offsets = torch.as_tensor(offsets, dtype=torch.float32)
    B, J, _ = init.shape
    mask = torch.zeros(J, 1)
    mask[list(range(J)) if joints is None else list(joints)] = 1.0
    delta = torch.zeros(B, J, 3, requires_grad=True)
    root0 = root.detach().float()
    droot = torch.zeros_like(root0, requires_grad=True)
    params = [delta, droot] if fit_root else [delta]
    opt = torch.optim.Adam(params, lr=lr)
    losses = []

    def pose():
        return quat_mul(init, axis_angle_to_quat(delta * mask)), root0 + droot

    for _ in range(iters):
        opt.zero_grad()
        q, r = pose()
        pred = render_views(q, offsets, parents, r, cameras, radius, sigma, bones)
        loss = sum(silhouette_loss(pred[v], targets[v]) for v in range(len(cameras))) / len(cameras)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    q, r = pose()
    return FitResult(q.detach(), r.detach(), losses)
