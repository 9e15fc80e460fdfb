"""A tiny vectorised line and point rasteriser in numpy, for cheap training-time renders.

No figure, no loop over frames: every frame of every clip is projected at once, segments are clipped
to the image, sampled into dots (as many as each one's pixel length needs) and stamped into one
(M, H, W) palette-index buffer. Used by :mod:`motion3d.render.tensorboard`.
"""
from __future__ import annotations

import numpy as np

from motion3d.render import colors
from motion3d.render.camera import ViewCamera
from motion3d.render.clip import body_mask, grid_segments


def _stamp(radius: int) -> np.ndarray:
    """(S, 2) integer offsets of a disc of ``radius`` pixels."""
    r = np.arange(-radius, radius + 1)
    dy, dx = np.meshgrid(r, r, indexing="ij")
    keep = dy**2 + dx**2 <= radius**2 + radius
    return np.stack([dy[keep], dx[keep]], axis=1)


def splat(canvas: np.ndarray, image: np.ndarray, rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
          radius: int = 0) -> None:
    """Write ``values`` into ``canvas`` at pixel centres, as discs of ``radius``, in place.

    Args:
        canvas: (M, H, W) or (M, H, W, C) image stack.
        image: (P,) index of the image each point goes to.
        rows, cols: (P,) float pixel coordinates (points outside the image are dropped).
        values: (P,) or (P, C) values; later points overwrite earlier ones.
    """
    _, H, W = canvas.shape[:3]
    off = _stamp(radius)  # (S, 2)
    r = np.round(rows).astype(np.int64)[:, None] + off[:, 0]  # (P, S)
    c = np.round(cols).astype(np.int64)[:, None] + off[:, 1]
    m = np.broadcast_to(np.asarray(image)[:, None], r.shape)
    ok = (r >= 0) & (r < H) & (c >= 0) & (c < W)
    vals = np.broadcast_to(np.asarray(values)[:, None], r.shape + np.shape(values)[1:])
    canvas[m[ok], r[ok], c[ok]] = vals[ok]


def clip_segments(a: np.ndarray, b: np.ndarray, width: int, height: int, margin: float = 2.0):
    """Clip 2D segments to the image rectangle (Liang-Barsky, vectorised).

    Args:
        a, b: (S, 2) end points (column, row).
    Returns:
        (a', b', visible): clipped end points (S, 2) and (S,) bool, False for segments outside.
    """
    d = b - a
    lo = np.array([-margin, -margin])
    hi = np.array([width - 1 + margin, height - 1 + margin])
    t0, t1 = np.zeros(len(a)), np.ones(len(a))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(2):
            for p, q in ((-d[:, k], a[:, k] - lo[k]), (d[:, k], hi[k] - a[:, k])):
                r = q / p
                par = p == 0
                t0 = np.where(~par & (p < 0), np.maximum(t0, r), t0)
                t1 = np.where(~par & (p > 0), np.minimum(t1, r), t1)
                t0 = np.where(par & (q < 0), 2.0, t0)
    visible = t0 <= t1
    return a + d * t0[:, None], a + d * t1[:, None], visible


def segment_samples(a: np.ndarray, b: np.ndarray, spacing: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Dots along 2D segments, each sampled densely enough for a continuous line.

    Args:
        a, b: (S, 2) segment end points in pixels.
    Returns:
        (P, 2) points and (P,) the segment index of each point.
    """
    length = np.nan_to_num(np.linalg.norm(b - a, axis=-1), nan=0.0, posinf=0.0)
    counts = np.ceil(length / spacing).astype(np.int64) + 1  # (S,)
    seg = np.repeat(np.arange(len(a)), counts)
    first = np.cumsum(counts) - counts
    s = (np.arange(len(seg)) - first[seg]) / np.maximum(counts[seg] - 1, 1)
    return a[seg] + (b - a)[seg] * s[:, None], seg


def draw_segments(canvas: np.ndarray, a: np.ndarray, b: np.ndarray, values: np.ndarray, radius: int,
                  spacing: float = 0.7) -> None:
    """Draw 2D segments into an (M, H, W[, C]) stack, in order (later on top).

    Args:
        a, b: (M, S, 2) end points (column, row) per image.
        values: (M, S) or (M, S, C) value per segment.
    """
    M, S = a.shape[:2]
    H, W = canvas.shape[1:3]
    pad = radius + 2.0
    ca, cb, vis = clip_segments(a.reshape(-1, 2), b.reshape(-1, 2), W, H, pad)
    ids = np.nonzero(vis)[0]
    pts, seg = segment_samples(ca[ids], cb[ids], spacing)
    flat = ids[seg]
    vals = np.asarray(values).reshape(M * S, *np.shape(values)[2:])[flat]
    splat(canvas, flat // S, pts[:, 1], pts[:, 0], vals, radius)


def bones_from_parents(parents: np.ndarray) -> np.ndarray:
    """(B, 2) (parent, child) pairs for every non-root joint of a (J,) parents array."""
    parents = np.asarray(parents)
    child = np.nonzero(parents >= 0)[0]
    return np.stack([parents[child], child], 1)


def draw_skeletons(positions: np.ndarray, bones: np.ndarray, size: tuple[int, int] = (128, 128),
                   camera: ViewCamera | None = None, targets: np.ndarray | None = None,
                   floor: float | None = None, grid_step: float | None = None,
                   color: np.ndarray | None = None, sides: np.ndarray | None = None,
                   thickness: int | None = None, joints: np.ndarray | None = None) -> np.ndarray:
    """Rasterise skeleton frames to RGB images, all at once.

    Args:
        positions: (M, J, 3) joint positions of M frames (flatten clips x time into M).
        bones: (B, 2) joint pairs to connect (:func:`bones_from_parents`, or ``Clip.bones()``).
        size: (width, height) in pixels.
        camera: viewing camera; default fitted to the data's height.
        targets: (M, 3) look-at point per frame (default: each frame's joint median).
        floor, grid_step: draw a floor grid at this height and spacing when given.
        color: (3,) RGB in [0, 1] of the bones; ``sides`` (B,) shades left/right bones.
        thickness: bone radius in pixels (default from the image size).
        joints: indices of the joints to mark (default those touching a bone).
    Returns:
        (M, H, W, 3) uint8.
    """
    pos = np.asarray(positions, float)
    bones = np.asarray(bones).reshape(-1, 2)
    M, J, _ = pos.shape
    W, H = size
    if camera is None:  # fitted to the body (a root left on the origin does not count)
        drawn = np.zeros(J, dtype=bool)
        drawn[np.unique(bones) if len(bones) else np.arange(J)] = True
        body = np.where(body_mask(pos, drawn)[..., None], pos, np.nan)
        span = np.nanmax(np.nanmax(body, axis=1) - np.nanmin(body, axis=1))
        height = max(float(np.nanmax(body[..., 1]) - np.nanmin(body[..., 1])), float(span), 1e-6)
        camera = ViewCamera(35.0, 20.0, 3.5 * height, 1.45 * height)
    if targets is None:
        targets = np.median(pos, axis=1)
    if thickness is None:
        thickness = max(1, int(round(min(W, H) / 128)))
    palette = np.stack([colors.BACKGROUND, colors.GRID, colors.JOINT])
    base = colors.clip_color(0) if color is None else np.asarray(color, float)
    bone_rgb = colors.bone_colors(base, np.zeros(len(bones)) if sides is None else sides)
    palette = colors.to_uint8(np.concatenate([palette, bone_rgb]))  # index 3 + b is bone b
    index = np.zeros((M, H, W), dtype=np.int16)

    if floor is not None and grid_step is not None:
        half = max(int(np.ceil(1.6 * camera.scale / grid_step)), 2)
        seg = grid_segments(targets[:, [0, 2]], floor, grid_step, half)  # (M, L, 2, 3)
        L = seg.shape[1]
        g = camera.project(seg.reshape(M, L * 2, 3), targets, W, H).reshape(M, L, 2, 3)
        draw_segments(index, g[:, :, 0, :2], g[:, :, 1, :2], np.full((M, L), 1, np.int16), 0, 1.0)

    p = camera.project(pos, targets, W, H)  # (M, J, 3)
    a, b = p[:, bones[:, 0]], p[:, bones[:, 1]]  # (M, B, 3)
    order = np.argsort(0.5 * (a[..., 2] + b[..., 2]), axis=1)  # far bones first
    a = np.take_along_axis(a, order[..., None], 1)
    b = np.take_along_axis(b, order[..., None], 1)
    draw_segments(index, a[..., :2], b[..., :2], order.astype(np.int16) + 3, thickness)
    jp = p[:, np.unique(bones) if joints is None else np.asarray(joints)]  # (M, J', 3)
    frame = np.repeat(np.arange(M), jp.shape[1])
    splat(index, frame, jp[..., 1].ravel(), jp[..., 0].ravel(), np.full(frame.shape, 2, np.int16), thickness + 1)
    return palette[index]


def draw_points(points: np.ndarray, size: tuple[int, int] = (128, 128), azimuth=None,
                elevation: float = 20.0, radius: int | None = None,
                point_colors: np.ndarray | None = None) -> np.ndarray:
    """Rasterise point clouds with depth shading, nearest points on top.

    Args:
        points: (M, P, 3) point clouds (each framed by its own bounding sphere).
        size: (width, height).
        azimuth: scalar or (M,) view azimuth in degrees (a turntable when it varies).
        point_colors: optional (M, P, 3) RGB in [0, 1]; default one hue shaded by depth.
    Returns:
        (M, H, W, 3) uint8.
    """
    pts = np.asarray(points, float)
    M, P, _ = pts.shape
    W, H = size
    center = 0.5 * (pts.min(1) + pts.max(1))  # (M, 3)
    rad = np.linalg.norm(pts - center[:, None], axis=-1).max(1)  # (M,)
    az = np.broadcast_to(np.asarray(35.0 if azimuth is None else azimuth, float), (M,))
    # per-image camera basis (vectorised view_basis)
    a, e = np.deg2rad(az), np.deg2rad(elevation)
    back = np.stack([np.sin(a) * np.cos(e), np.full(M, np.sin(e)), np.cos(a) * np.cos(e)], -1)
    right = np.stack([np.cos(a), np.zeros(M), -np.sin(a)], -1)
    up = np.cross(back, right)
    rel = (pts - center[:, None]) / rad[:, None, None]  # unit sphere
    x, y, d = (np.einsum("mpc,mc->mp", rel, v) for v in (right, up, back))
    dist = 3.0
    persp = dist / (dist - d)
    pix = 0.42 * min(W, H) / np.tan(np.arcsin(1.0 / dist))  / dist
    cols = W / 2 + x * persp * pix
    rows = H / 2 - y * persp * pix
    order = np.argsort(d, axis=1)  # far first, near last (on top)
    take = lambda v: np.take_along_axis(v, order, 1)  # noqa: E731
    cols, rows, d = take(cols), take(rows), take(d)
    shade = 0.45 + 0.55 * (d + 1.0) / 2.0  # (M, P) in [0.45, 1]
    if point_colors is None:
        rgb = colors.clip_color(0)[None, None] * shade[..., None]
    else:
        rgb = np.take_along_axis(np.asarray(point_colors, float), order[..., None], 1) * shade[..., None]
    if radius is None:
        radius = max(0, int(round(min(W, H) / 160)))
    img = np.broadcast_to(colors.to_uint8(colors.BACKGROUND), (M, H, W, 3)).copy()
    rgb8 = colors.to_uint8(np.broadcast_to(rgb, (M, P, 3))).reshape(M * P, 3)
    splat(img, np.repeat(np.arange(M), P), rows.ravel(), cols.ravel(), rgb8, radius)
    return img
