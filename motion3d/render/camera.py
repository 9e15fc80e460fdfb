"""Viewing cameras in numpy: look-at frames, projection to pixels, and a camera that follows the root.

Conventions: Y is up; a camera is given by a ``target`` point, an ``azimuth`` (degrees about +Y,
0 looks from +Z towards -Z) and an ``elevation`` (degrees above the floor), and a ``distance``.
Screen coordinates: x to the right, y up, depth towards the camera (larger is nearer).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def view_basis(azimuth: float, elevation: float) -> np.ndarray:
    """Camera axes as rows ``[right, up, back]`` (3, 3) for angles in degrees.

    ``back`` points from the target towards the camera.
    """
    az, el = np.deg2rad(azimuth), np.deg2rad(elevation)
    back = np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    return np.stack([right, up, back])


def look_at_extrinsic(eye: np.ndarray, target: np.ndarray, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """World-to-camera matrix (4, 4) in the OpenCV convention (x right, y down, z forward)."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(up, float))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rot = np.stack([right, down, forward])
    ext = np.eye(4)
    ext[:3, :3] = rot
    ext[:3, 3] = -rot @ eye
    return ext


@dataclass
class ViewCamera:
    """A perspective camera looking at ``target`` from ``distance`` along (azimuth, elevation).

    ``scale`` is the world length that fills the image height at the target
    (vertical field of view follows from ``scale`` and ``distance``).
    """

    azimuth: float = 30.0
    elevation: float = 20.0
    distance: float = 4.0
    scale: float = 2.0

    def basis(self) -> np.ndarray:
        """(3, 3) rows right, up, back."""
        return view_basis(self.azimuth, self.elevation)

    def eye(self, target: np.ndarray) -> np.ndarray:
        """Camera centres (..., 3) for targets (..., 3)."""
        return np.asarray(target) + self.distance * self.basis()[2]

    def project(self, points: np.ndarray, target: np.ndarray, width: int, height: int) -> np.ndarray:
        """Pixel coordinates and depth of ``points``.

        Args:
            points: (..., P, 3) world points.
            target: (..., 3) look-at point per leading index (broadcast over P).
            width, height: image size in pixels.
        Returns:
            (..., P, 3): column, row (0 at the top) and depth along the viewing axis (larger nearer).
        """
        rel = np.asarray(points, float) - np.asarray(target, float)[..., None, :]
        cam = rel @ self.basis().T  # (..., P, 3) right, up, back
        depth = cam[..., 2]
        persp = self.distance / np.maximum(self.distance - depth, 1e-3 * self.distance)
        pix = height / self.scale
        col = width / 2.0 + cam[..., 0] * persp * pix
        row = height / 2.0 - cam[..., 1] * persp * pix
        return np.stack([col, row, depth], axis=-1)

    def vertical_fov(self) -> float:
        """Vertical field of view in degrees."""
        return float(np.rad2deg(2.0 * np.arctan(0.5 * self.scale / self.distance)))


def smooth_path(path: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of a trajectory (T, D) along time over an odd ``window``.

    Edges are padded by repeating the first and last samples.
    """
    path = np.asarray(path, float)
    window = int(window) | 1
    if window <= 1 or len(path) < 2:
        return path.copy()
    half = window // 2
    padded = np.concatenate([np.repeat(path[:1], half, 0), path, np.repeat(path[-1:], half, 0)])
    csum = np.cumsum(np.concatenate([np.zeros((1, path.shape[1])), padded]), axis=0)
    return (csum[window:] - csum[:-window]) / window


def follow_targets(positions: np.ndarray, floor: float, fps: float, smooth_seconds: float = 0.25) -> np.ndarray:
    """Look-at points (T, 3) that follow the root over the floor.

    Args:
        positions: (T, J, 3) global joint positions; joint 0 is the root.
        floor: floor height (Y).
        fps: frames per second (the smoothing window is in seconds, so any fps works).
    Returns:
        (T, 3): body X/Z (median of the joints, which tracks the root even when joint 0 is a
        fixed ground node), smoothed, at a fixed height above the floor (mid-body).
    """
    root = np.median(positions, axis=1)
    mid = 0.5 * (floor + positions[..., 1].max())
    window = max(1, int(round(smooth_seconds * fps)))
    xz = smooth_path(root[:, [0, 2]], window)
    return np.stack([xz[:, 0], np.full(len(root), mid), xz[:, 1]], axis=-1)
