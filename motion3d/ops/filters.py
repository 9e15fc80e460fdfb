"""Classical motion clean-up: zero-phase low-pass filters, spike removal and gap filling, on plain
signals, on rotations and on whole clips (the baselines the cleanup model is measured against).

Signals are arrays with time on ``axis`` (default 0: ``(T, ...)``); every channel is filtered in
one vectorised call (scipy filters along one axis), no loop over channels or frames.

* :func:`butterworth`: zero-phase Butterworth low-pass (``scipy.signal.sosfiltfilt``: forward and
  backward, so the motion is not delayed), ``cutoff`` in Hz;
* :func:`savgol`: Savitzky-Golay (local polynomial fit, keeps peaks better than a low-pass);
* :func:`median`: running median over ``size`` frames (removes single-frame spikes, keeps edges);
* :func:`fill_gaps`: linear interpolation over unknown frames (held constant before the first and
  after the last known frame); :func:`fill_rotation_gaps`: the same with SLERP on quaternions.

Rotations (:func:`filter_rotations`): quaternions ``(T, J, 4)`` are first made sign-continuous
over time (``q`` and ``-q`` are one rotation; a filter across a sign flip averages to nonsense),
filtered per component, and renormalised. :func:`filter_motion` does that for a
:class:`~motion3d.motion.Motion`'s rotations and filters its root positions (and translations).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.ndimage
import scipy.signal
import torch

from motion3d.geometry.rotations import quat_fix_continuity, slerp
from motion3d.motion import Motion

__all__ = ["FILTERS", "DEFAULT_CUTOFF_HZ", "butterworth", "savgol", "median", "smooth", "fill_gaps",
           "fill_rotation_gaps", "filter_rotations", "filter_motion", "gap_neighbours", "run_lengths",
           "running_median", "gaussian_smooth", "hampel", "hampel_deviation", "HAMPEL_EDGE_NOISE", "HAMPEL_EDGE_SPAN"]

#: the filter kinds :func:`smooth` knows
FILTERS = ("butterworth", "savgol", "median")
#: the Butterworth filter's default cut-off (Hz): human motion has little energy above ~6 Hz
DEFAULT_CUTOFF_HZ = 6.0


def _frames(x: np.ndarray, axis: int) -> int:
    return int(x.shape[axis])


def butterworth(x: np.ndarray, fps: float, cutoff: float = DEFAULT_CUTOFF_HZ, order: int = 4, axis: int = 0
                ) -> np.ndarray:
    """Zero-phase Butterworth low-pass of ``x`` (time on ``axis``) sampled at ``fps``; ``cutoff`` in Hz
    (at or above Nyquist: ``x`` unchanged). Same shape, float64."""
    x = np.asarray(x, dtype=np.float64)
    nyq = 0.5 * float(fps)
    if not cutoff > 0:
        raise ValueError(f"cutoff must be positive, got {cutoff}")
    if cutoff >= nyq or _frames(x, axis) < 2:
        return x.copy()
    sos = scipy.signal.butter(int(order), cutoff / nyq, btype="low", output="sos")
    # odd extension over a few periods of the cut-off keeps the ends from ringing
    padlen = min(max(3 * (2 * len(sos) + 1), int(4 * fps / cutoff)), _frames(x, axis) - 1)
    return scipy.signal.sosfiltfilt(sos, x, axis=axis, padlen=padlen)


def savgol(x: np.ndarray, window: int = 9, polyorder: int = 3, axis: int = 0) -> np.ndarray:
    """Savitzky-Golay smoothing over ``window`` frames (odd; shortened to the clip) with polynomials
    of ``polyorder``. Same shape, float64."""
    x = np.asarray(x, dtype=np.float64)
    T = _frames(x, axis)
    w = min(int(window), T if T % 2 else T - 1)
    if w <= polyorder:
        return x.copy()
    if w % 2 == 0:
        w -= 1
    return scipy.signal.savgol_filter(x, w, int(polyorder), axis=axis, mode="interp")


def median(x: np.ndarray, size: int = 5, axis: int = 0) -> np.ndarray:
    """Running median over ``size`` frames (edges: nearest frame repeated). Same shape, float64."""
    x = np.asarray(x, dtype=np.float64)
    sizes = [1] * x.ndim
    sizes[axis] = max(1, int(size))
    return scipy.ndimage.median_filter(x, size=sizes, mode="nearest")


#: :func:`hampel` ``edges="extrapolate"``: the edge test's threshold is at least this many times the
#: median of the :data:`HAMPEL_EDGE_SPAN` second differences next to the edge. Root paths of the clean-up
#: model's val windows (seed 0, one pass): 3 over 5 second differences cost jitter 0.37 mm (the median of
#: 5 is often low), 3 over 18: 0.03 mm, 4 over 18: nothing (spikes 3.12 -> 2.88 mm, clean input unchanged)
HAMPEL_EDGE_NOISE = 4.0
HAMPEL_EDGE_SPAN = 18


def hampel(x: np.ndarray, threshold, size: int = 5, axis: int = 0, fill: str = "median", vector: bool = False,
           edges: str = "nearest") -> np.ndarray:
    """Hampel identifier with a fixed threshold: each sample further than ``threshold`` (the signal's
    units; a scalar or an array broadcast against ``x``, e.g. one value per channel on the last axis)
    from the running median over ``size`` frames is an outlier, every other sample is kept exactly.
    ``fill``: an outlier becomes that running median (``"median"``: on a moving signal the value of a
    neighbour, up to ``size // 2`` frames of motion off) or the linear interpolation of the kept
    samples around it (``"linear"``: exact on a signal linear in time, :func:`fill_gaps`). Unlike
    :func:`median`, a clean signal passes through unchanged (a running median cuts the peaks of any
    reversal); unlike the textbook rule (k times the local median absolute deviation), a smooth clean
    signal, whose local deviation is ~0, does not turn into outliers.

    ``vector``: the last axis holds one vector per sample (e.g. a position's x, y, z; ``axis`` must
    be another): a sample is an outlier when the Euclidean norm of its deviation from the per-channel
    running median exceeds ``threshold`` (a scalar), and every channel of it is replaced. A jump of a
    given length in a random direction is then found whatever its direction; tested per channel, a
    3D jump of 2.5 thresholds mostly has a component under the threshold, left in place, on some axis.

    ``edges``: the running median of the first and last ``size // 2`` samples repeats the edge sample
    (``"nearest"``), so an outlier on the edge sample is its own median and is never found.
    ``"extrapolate"``: those samples are checked, from the inside out, against the straight line
    through the two (already checked) samples inside them, and an outlier becomes that line's value.
    The line's error on a clean signal is its second difference, ``a dt^2`` (a root accelerating at
    30 m/s^2 at 30 fps: 3.3 cm), so the same threshold holds; on a noisy one it is the noise's second
    difference, so there the threshold is at least :data:`HAMPEL_EDGE_NOISE` times the median of the
    :data:`HAMPEL_EDGE_SPAN` second differences next to the edge (the textbook Hampel rule; without it
    jitter of 7 mm per axis moves the first sample of a window, hence all of its decoded root path).
    Signals of fewer than ``2 * (size // 2) + HAMPEL_EDGE_SPAN + 2`` samples keep ``"nearest"``."""
    if fill not in ("median", "linear"):
        raise ValueError(f"hampel fill must be 'median' or 'linear', got {fill!r}")
    if edges not in ("nearest", "extrapolate"):
        raise ValueError(f"hampel edges must be 'nearest' or 'extrapolate', got {edges!r}")
    x = np.asarray(x, dtype=np.float64)
    thr = np.asarray(threshold, dtype=np.float64)

    m = median(x, size, axis)
    outlier = np.broadcast_to(hampel_deviation(x, size, axis, vector, m) > thr, x.shape).copy()
    out = fill_gaps(x, ~outlier, dim=axis) if fill == "linear" else np.where(outlier, m, x)
    half, size, T = int(size) // 2, int(size), x.shape[axis]
    if edges == "nearest" or half == 0 or T < 2 * half + HAMPEL_EDGE_SPAN + 2:
        return out
    o, xs = np.moveaxis(out, axis, 0).copy(), np.moveaxis(x, axis, 0)

    def edge_threshold(inner: np.ndarray) -> np.ndarray:  # inner: (span, ...) frames next to the edge
        noise = np.median(_magnitude(inner[2:] - 2 * inner[1:-1] + inner[:-2], vector), axis=0)
        return np.maximum(thr, HAMPEL_EDGE_NOISE * noise)

    span = HAMPEL_EDGE_SPAN + 2
    start, end = edge_threshold(o[half:half + span]), edge_threshold(o[T - half - span:T - half])
    for i, a, b, t in ([(i, i + 1, i + 2, start) for i in reversed(range(half))]
                       + [(i, i - 1, i - 2, end) for i in range(T - half, T)]):
        line = 2 * o[a] - o[b]  # the straight line through the two checked samples inside
        o[i] = np.where(_magnitude(xs[i] - line, vector) > t, line, xs[i])
    return np.moveaxis(o, 0, axis)


def hampel_deviation(x: np.ndarray, size: int = 5, axis: int = 0, vector: bool = False,
                     running: np.ndarray | None = None) -> np.ndarray:
    """How far each sample of ``x`` is from its running median over ``size`` frames (``running``:
    that median if already computed): ``|x - median|``, ``x``'s shape; ``vector``: the last axis is
    one vector, its deviation's Euclidean norm, that axis kept with length 1. What :func:`hampel`
    compares with its threshold."""
    x = np.asarray(x, dtype=np.float64)
    if vector and axis % x.ndim == x.ndim - 1:
        raise ValueError("hampel(vector=True) reads the last axis as the vector: time must be another axis")
    m = median(x, size, axis) if running is None else running
    return _magnitude(x - m, vector)


def _magnitude(dev: np.ndarray, vector: bool) -> np.ndarray:
    return np.linalg.norm(dev, axis=-1, keepdims=True) if vector else np.abs(dev)


def running_median(x: torch.Tensor, size: int = 5, dim: int = 0) -> torch.Tensor:
    """:func:`median` in torch: running median over ``size`` (odd) entries along ``dim``, the edges
    repeating the nearest frame; same shape, dtype and device, differentiable almost everywhere."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"running_median needs an odd size, got {size}")
    return _repeat_edges(x.movedim(dim, -1), size // 2).unfold(-1, size, 1).median(-1).values.movedim(-1, dim)


def _repeat_edges(t: torch.Tensor, r: int) -> torch.Tensor:
    """``t (..., T)`` padded with ``r`` copies of its first and last entries on the last axis."""
    return torch.cat([t[..., :1].expand(*t.shape[:-1], r), t, t[..., -1:].expand(*t.shape[:-1], r)], -1)


def gaussian_smooth(x: torch.Tensor, sigma: float, dim: int = 0) -> torch.Tensor:
    """Gaussian low-pass in torch along ``dim`` with standard deviation ``sigma`` (in samples; the
    kernel spans ``+-ceil(3 sigma)``, normalised to sum 1), the edges repeating the nearest frame;
    same shape, dtype and device, differentiable (a fixed depthwise convolution). ``sigma`` 0: ``x``
    itself. Its -3 dB point is near ``0.13 / sigma`` cycles per sample (4 Hz at 30 fps for 1 frame)."""
    if not sigma >= 0:
        raise ValueError(f"gaussian_smooth needs sigma >= 0, got {sigma}")
    r = int(np.ceil(3 * sigma))
    if r == 0 or x.shape[dim] < 2:
        return x
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    k = k / k.sum()
    t = x.movedim(dim, -1)
    flat = _repeat_edges(t.reshape(-1, 1, t.shape[-1]), r)
    return torch.nn.functional.conv1d(flat, k.view(1, 1, -1)).reshape(t.shape).movedim(-1, dim)


def smooth(x: np.ndarray, kind: str, fps: float, axis: int = 0, **options: Any) -> np.ndarray:
    """Filter ``x`` along ``axis`` with one of :data:`FILTERS` (``options``: that filter's arguments)."""
    if kind == "butterworth":
        return butterworth(x, fps, axis=axis, **options)
    if kind == "savgol":
        return savgol(x, axis=axis, **options)
    if kind == "median":
        return median(x, axis=axis, **options)
    raise ValueError(f"unknown filter {kind!r}; known: {list(FILTERS)}")


# ---------------------------------------------------------------------------------------------
# gaps
# ---------------------------------------------------------------------------------------------
def gap_neighbours(known: torch.Tensor, dim: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For a boolean ``known`` with time on ``dim``: ``(prev, next, t)``, the index of the last known
    frame at or before each frame, of the first at or after it, and the interpolation weight between
    them (0 at ``prev``). Frames before the first known frame take it on both sides (and after the
    last likewise). Channels with no known frame get ``prev = next = 0``. Same shape as ``known``."""
    known = known.bool()
    T = known.shape[dim]
    shape = [1] * known.dim()
    shape[dim] = T
    idx = torch.arange(T, device=known.device).view(shape).expand_as(known)
    prev = torch.where(known, idx, torch.full_like(idx, -1)).cummax(dim).values
    rev = torch.where(known, T - 1 - idx, torch.full_like(idx, -1)).flip(dim).cummax(dim).values.flip(dim)
    nxt = torch.where(rev >= 0, T - 1 - rev, torch.full_like(idx, -1))
    prev = torch.where(prev < 0, nxt, prev)
    nxt = torch.where(nxt < 0, prev, nxt)
    prev, nxt = prev.clamp(min=0), nxt.clamp(min=0)
    span = (nxt - prev).clamp(min=1)
    t = ((idx - prev).clamp(min=0).float() / span.float()).clamp(0.0, 1.0)
    return prev, nxt, t


def run_lengths(mask: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """For a boolean ``mask`` with time on ``dim``: the length of the run of True frames that each
    True entry belongs to, 0 where False (same shape, long). ``[0, 1, 1, 0, 1] -> [0, 2, 2, 0, 1]``."""
    mask = mask.bool()
    T = mask.shape[dim]
    shape = [1] * mask.dim()
    shape[dim] = T
    idx = torch.arange(T, device=mask.device).view(shape).expand_as(mask)
    last_off = torch.where(~mask, idx, torch.full_like(idx, -1)).cummax(dim).values  # the run starts after it
    next_off = torch.where(~mask, idx, torch.full_like(idx, T)).flip(dim).cummin(dim).values.flip(dim)
    return torch.where(mask, next_off - last_off - 1, torch.zeros_like(idx))


def fill_gaps(x, known, dim: int = 0):
    """Linear interpolation of ``x`` over the frames where ``known`` is False (time on ``dim``;
    ``known`` broadcastable to ``x``): exact on signals linear in time. Before the first / after the
    last known frame the nearest known value is held; a channel with no known frame keeps ``x``.
    numpy in, numpy out; torch in, torch out (differentiable in ``x``)."""
    is_np = not torch.is_tensor(x)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64)) if is_np else x
    kt = torch.as_tensor(np.asarray(known)) if not torch.is_tensor(known) else known
    kt = kt.to(xt.device).bool().expand_as(xt)
    prev, nxt, t = gap_neighbours(kt, dim)
    a, b = xt.gather(dim, prev), xt.gather(dim, nxt)
    filled = a + (b - a) * t.to(xt.dtype)
    any_known = kt.any(dim, keepdim=True)
    out = torch.where(kt | ~any_known, xt, filled)
    return out.numpy() if is_np else out


def fill_rotation_gaps(q: np.ndarray, known: np.ndarray) -> np.ndarray:
    """SLERP over unknown frames of quaternions ``q (T, J, 4)`` xyzw where ``known (T, J)`` is False
    (values there are ignored, NaN allowed); ends held. ``(T, J, 4)`` float64, unit quaternions."""
    qt = torch.as_tensor(np.asarray(q, dtype=np.float64))
    kt = torch.as_tensor(np.asarray(known, dtype=bool))
    qt = torch.where(kt[..., None], qt, torch.zeros_like(qt))
    prev, nxt, t = gap_neighbours(kt, 0)  # (T, J)
    a = qt.gather(0, prev[..., None].expand_as(qt))
    b = qt.gather(0, nxt[..., None].expand_as(qt))
    filled = slerp(a, b, t.double())
    out = torch.where(kt[..., None], qt, filled)
    none = ~kt.any(0)  # joints never known: identity
    if bool(none.any()):
        ident = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=out.dtype)
        out[:, none] = ident
    return out.numpy()


# ---------------------------------------------------------------------------------------------
# rotations and clips
# ---------------------------------------------------------------------------------------------
def filter_rotations(q: np.ndarray, kind: str, fps: float, **options: Any) -> np.ndarray:
    """Filter quaternions ``q (T, J, 4)`` xyzw over time: sign-continuous first, each component
    filtered, renormalised. ``(T, J, 4)`` float64."""
    qc = quat_fix_continuity(torch.as_tensor(np.asarray(q, dtype=np.float64)), dim=0).numpy()
    f = smooth(qc, kind, fps, axis=0, **options)
    n = np.linalg.norm(f, axis=-1, keepdims=True)
    return np.where(n > 1e-9, f / np.maximum(n, 1e-12), qc)


def filter_motion(motion: Motion, kind: str, **options: Any) -> Motion:
    """``motion`` with its rotations (:func:`filter_rotations`), root positions and translations
    filtered by ``kind`` (one of :data:`FILTERS`). A new Motion."""
    fps = motion.fps
    rot = filter_rotations(motion.rotations, kind, fps, **options)
    root = smooth(motion.root_positions, kind, fps, axis=0, **options)
    tr = None if motion.translations is None else smooth(motion.translations, kind, fps, axis=0, **options)
    return motion.replace(rotations=rot, root_positions=root, translations=tr)
