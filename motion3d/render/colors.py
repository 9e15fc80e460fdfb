"""Colours shared by all renderers: one hue per clip, lighter on the left side, darker on the right."""
from __future__ import annotations

import numpy as np

# Tableau-like palette, RGB in [0, 1].
PALETTE = np.array([
    [0.12, 0.47, 0.71], [0.84, 0.15, 0.16], [0.17, 0.63, 0.17], [1.00, 0.50, 0.05],
    [0.58, 0.40, 0.74], [0.55, 0.34, 0.29], [0.89, 0.47, 0.76], [0.09, 0.75, 0.81],
])
BACKGROUND = np.array([1.0, 1.0, 1.0])
GRID = np.array([0.78, 0.78, 0.80])
JOINT = np.array([0.15, 0.15, 0.15])


def clip_color(k: int) -> np.ndarray:
    """(3,) RGB of the k-th clip."""
    return PALETTE[k % len(PALETTE)]


def bone_colors(base: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """(B, 3) RGB per bone: ``base`` mixed towards white on the left (-1) and black on the right (+1)."""
    sides = np.asarray(sides)[:, None].astype(float)
    lighter = base + (1.0 - base) * 0.45
    darker = base * 0.6
    return np.where(sides < 0, lighter, np.where(sides > 0, darker, base))


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] to uint8."""
    return np.clip(np.round(np.asarray(rgb) * 255.0), 0, 255).astype(np.uint8)
