"""Point-cloud operations: normalise, sample, FPS, kNN, ball query, grouping, augmentations.

Batched torch, vectorised over batch and points (FPS loops over its samples only).
"""
from motion3d.points.augment import Augment, dropout, jitter, random_rotation_matrices, rotate, scale, shuffle, translate
from motion3d.points.ops import (ball_query, farthest_point_sample, farthest_point_sample_np, group, index_points,
                                 knn, normalize, normalize_np, square_distance)
from motion3d.points.sampling import sample_surface

__all__ = ["Augment", "dropout", "jitter", "random_rotation_matrices", "rotate", "scale", "shuffle", "translate",
           "ball_query", "farthest_point_sample", "farthest_point_sample_np", "group", "index_points", "knn",
           "normalize", "normalize_np", "square_distance", "sample_surface"]
