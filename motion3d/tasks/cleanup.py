"""Motion-capture clean-up (task ``"cleanup"``) with :class:`motion3d.models.motion.CleanupNet`.

Training step, top to bottom:

1. the clean window ``x (B, T, D)`` from the :class:`~motion3d.data.mocap.MocapDataModule` is
   corrupted on the fly (:func:`motion3d.data.corrupt.corrupt_features`, the task's
   ``corruption`` config: jitter, spikes, swaps, gaps, foot sliding, each with its probability);
2. :func:`net_input` hides what a capture cannot be trusted to give: the channels of missing
   joints (filled by linear interpolation over time, and flagged in the mask) and the foot-contact
   channels (derived from the corrupted clip at inference, so never shown to the network);
3. the network predicts the clean window; the loss is :meth:`MotionTask.reconstruction_losses`
   (features, joint positions through forward kinematics, contacts, velocities, foot slide)
   against the clean window, weighted by the config's ``weights``;
4. with a gated network (:class:`~motion3d.models.motion.CleanupNet`, ``gate=True``) the output is
   composed through the straight-through gate, and the gate's logits learn, by binary
   cross-entropy (weight ``gate_weight``), which known channels the corruption changed: those where
   the network's input differs from the clean window by more than ``gate_tolerance`` (normalised
   units; the float round trip of a clean clip is ~1e-6, the mildest corruption trained, jitter of
   3 degrees, moves a channel by ~0.1).

Why corruption lives in the task rather than in the datamodule: the batch is already a tensor on
the training device, the corruption needs the representation and statistics the task holds
(its :class:`MotionContext`), checkpoints keep naming the plain ``MocapDataModule``, and the task's
hyper-parameters (stored in every checkpoint) carry the corruption the evaluation measures against.

Validation corrupts with a generator seeded by the batch index: the same corruptions every epoch.

Applying the network (:func:`repair`, used by the evaluator and ``tools/cleanup.py``): a first pass,
a second where the gate found a joint corrupted for a short while (that joint refilled as missing
data), then the root anchored to the capture, broadband noise low-passed, and a drift that slides the
planted feet taken off the root path (:func:`remove_drift`).

The root anchor (:func:`anchor_root`): the root trajectory channels are velocities, so a small
bias in the network's output integrates into a drift of the whole body (on clean val windows, two
thirds of the first model's 16 mm MPJPE). The network's root path is therefore kept for what it is
good at, the fast corrections (spikes, jitter), and its slow part is taken from the capture: the
low-pass (``ANCHOR_CUTOFF_HZ``) of the difference between the input's path, despiked, and the
network's is added back. The despiking replaces only the samples that leave their 5-frame running
median by more than ``ANCHOR_SPIKE`` (a Hampel identifier; a plain running median, used before,
cuts every reversal of a clean path: val, 256 windows, seed-0 model: clean input 0.34 -> 0.24 mm,
gaps 11.33 -> 11.06, spikes 3.96 -> 3.91, jitter unchanged; thresholds of 0.01 and 0.02 body heights
within 0.01 mm of each other); the samples it finds are interpolated from their neighbours, and the
network's own path goes through the same identifier (a root spike it let through stayed in the fast part
it keeps: spikes 3.66 -> 3.35 mm, :data:`ANCHOR_DESPIKE_OUTPUT`). Over a whole clip this also stops
drift across windows. On 128 val windows (20-minute model) it halved the model's MPJPE on clean,
jittered, spiked, swapped and gapped input (clean 26.6 -> 10.5 mm at 1 Hz; 0.25, 0.5 and 2 Hz within
15 % of that) and costs it on foot sliding, which is itself a slow root drift (94.7 -> 119.3 mm; the
input's 117.8).

Since then the anchor takes the capture's despiked path *whole* on every frame where the root was
measured (``ANCHOR_CUTOFF_HZ`` infinite; the network's path is kept through root gaps): the network
hardly corrects the root (val, seed 0, spikes: its root still 56 mm off on the spiked frames, the
input 64 mm), and the fast part the 1 Hz anchor kept carried what it let through, while the despiked
capture was 0.7 mm off on average. The identifier tests the root's 3D displacement (a root jump in a
random direction, per axis, left a component under the threshold on some axis) and the two ends of
the window against the line through the samples inside them (an outlier on the first frame moves the
window's whole decoded path; :func:`motion3d.ops.filters.hampel`, ``edges="extrapolate"``). Jittered
stretches get their root path smoothed classically instead (:func:`smooth_broadband`).
Val, 529 windows, seed-0 model, spikes x1 / x2 MPJPE: per-axis identifier and 1 Hz 3.32 / 4.49 mm, 3D
3.21, the capture's path whole 2.24 / 3.01, the ends checked too 1.99 / 2.17; jitter 18.37 -> 17.76 mm
(with the broadband root step), gaps, swaps, foot sliding and clean input within 0.02 mm.

Root gaps (:func:`fill_root_gaps`): a capture knows where the root is on both sides of a gap, but
velocity channels interpolated over it forget the displacement across it, and the whole rest of the
clip moved by the interpolation's error (val, 256 windows: gaps 60.9 mm MPJPE for the filled input,
54.3 of it the root). The input's root steps through a gap are therefore shifted to land where the
capture has the root after it (14.1 mm), the network's path is reconnected the same way, and the
anchor holds the path difference through the gap instead of following the input's stand-in there
(the first gated network: 52.8 -> 10.9 mm; 0.5 s gaps 50.4 -> 8.3 mm against the input's 10.5).
With the gated network (clean channels pass exactly) the anchor still halves the error on jitter
(28.3 -> 19.7 mm) and spikes (7.4 -> 3.9 mm), and costs 0.1 mm on clean input.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import uniform_filter1d

from motion3d.data.corrupt import Corruption, corrupt_features
from motion3d.features.trajectory import path_trajectory, reconnect_trajectory, trajectory_path
from motion3d.ops.filters import fill_gaps, hampel, hampel_deviation, median, run_lengths, smooth
from motion3d.ops.slide import slide_drift
from motion3d.tasks.base import MotionTask, NetFactory
from motion3d.tasks.context import MotionContext
from motion3d.tasks.losses import ReconstructionWeights

__all__ = ["CleanupTask", "TASK_NAME", "net_input", "fill_root_gaps", "gate_loss", "hidden_channels",
           "filter_trajectory", "anchor_root", "apply_net", "refill_mask", "repair", "NetRun", "ANCHOR_CUTOFF_HZ",
           "REFILL_MAX_S", "ANCHOR_SPIKE", "ANCHOR_DESPIKE_OUTPUT", "ANCHOR_SPIKE_FILL",
           "ANCHOR_SPIKE_HEADING_DEG", "smooth_broadband", "BROADBAND_FRACTION", "BROADBAND_WINDOW_S",
           "BROADBAND_ROOT", "rotation_spikes", "ROTATION_SPIKE",
           "ROTATION_SPIKE_NOISE", "ROTATION_SPIKE_SPAN", "remove_drift"]

TASK_NAME = "cleanup"
#: the network's root path keeps its content above this frequency; below it follows the capture
#: (infinite: the capture's despiked path on every frame the root was measured; see the module docstring)
ANCHOR_CUTOFF_HZ = math.inf
#: the capture's root position is taken as an outlier where it is further than this (body heights, a 3D
#: distance) from its 5-frame running median, or at the window's ends from the line through the next two
#: samples, when it anchors the network's (:func:`anchor_root`) ...
ANCHOR_SPIKE = 0.02
#: ... or its heading by more than this (degrees)
ANCHOR_SPIKE_HEADING_DEG = 10.0
#: what replaces those outliers: ``"linear"`` (interpolated from the kept samples around them) or
#: ``"median"`` (the running median: on a moving root, a neighbour's position)
ANCHOR_SPIKE_FILL = "linear"
#: :func:`anchor_root` also despikes the network's own root path and height (the same identifier).
#: Val, 529 windows, the 20-minute config (seed 0), spikes x1 / x2 MPJPE: neither 3.66 / 5.10 mm, the
#: output despiked 3.38 / 4.68 (median fill) and 3.35 / 4.45 (linear fill, adopted), linear fill alone
#: 3.69 / 5.31; clean input 0.09 mm and every other kind unchanged (within 0.01 mm)
ANCHOR_DESPIKE_OUTPUT = True
#: a joint the gate finds corrupted for at most this long (seconds) is refilled as missing data
#: in a second pass (:func:`repair`); longer (jitter: the whole clip) stays the first pass's correction
REFILL_MAX_S = 1.0
#: so is a joint whose 6D rotation leaves its 5-frame running median by more than this
#: (:func:`rotation_spikes`; 0.3: a turn of 12-17 degrees, by the axis): the gate finds 73 % of the
#: spiked joint-frames (val, seed 0; an arm swinging through a frame looks like a spike to it), this
#: identifier 96 % (0.03 % of the clean ones). Val, 529 windows, seed-0 model, MPJPE without / 0.2 /
#: 0.3 / 0.4: spikes 1.99 / 1.37 / 1.34 / 1.37 mm, swaps 2.33 / - / 2.40 / 2.35, clean input 0.062 /
#: 0.099 / 0.070 / -, jitter and gaps within 0.01 mm (- : not measured)
ROTATION_SPIKE = 0.3
#: ... and by more than this many times its typical deviation (the running median of the deviations over
#: :data:`ROTATION_SPIKE_SPAN` frames): jitter moves every frame off the median, a spike a few. Val, seed 0,
#: MPJPE with 0 (off) / 3 / 5 times: jitter x2 27.63 / 27.09 / 26.98 mm (no identifier: 26.94), spikes
#: 1.341 / 1.341 / 1.341 (x2: 1.783 / 1.781 / 1.779)
ROTATION_SPIKE_NOISE = 5.0
ROTATION_SPIKE_SPAN = 15

#: :func:`smooth_broadband`: a rotation channel the network changed on more than this fraction of the
#: frames around a frame (:data:`BROADBAND_WINDOW_S`) had broadband noise there (jitter), not a
#: spike, a swap or a gap (a few frames), and the network's correction is completed by the
#: zero-phase Butterworth low-pass (its default cut-off). Val, 529 windows, the 20-minute config
#: (seeds 0 / 1): jitter x1 19.63 / 19.49 -> 18.37 / 18.30 mm (0.88x / 0.87x -> 0.82x / 0.82x the
#: Savitzky-Golay filter's), x2 31.32 / 31.22 -> 28.50 / 28.54 mm (0.71x -> 0.65x); the output's own
#: jitter 15.8 -> 10.0 body heights/s^2 (clean 4.5); spikes, swaps, gaps, foot sliding and clean
#: input within 0.02 mm. Filtering the root channels as well (probe, 529 windows): jitter 17.80 mm
#: but spikes 3.32 -> 3.47 (the anchor changes the root everywhere), so they are left to
#: :func:`anchor_root`.
BROADBAND_FRACTION = 0.5
#: the span (seconds) over which :func:`smooth_broadband` counts changed frames: the training window
BROADBAND_WINDOW_S = 2.0
#: :func:`smooth_broadband` also filters the root path with this classical filter where it filters most
#: rotation channels: the network hardly removes jitter from the root (val, seed 0, jitter x1: the root
#: 10.9 mm off in the input, 9.8 after the 1 Hz anchor; the despiked capture through Savitzky-Golay 8.0,
#: Butterworth at 2 / 3 / 4 / 6 Hz 13.9 / 8.7 / 8.2 / 8.5). Jitter x1 MPJPE with the capture's path whole
#: (:data:`ANCHOR_CUTOFF_HZ`): 18.99 mm without this step, 17.76 with it (the 1 Hz anchor: 18.37)
BROADBAND_ROOT = "savgol"

#: ``run(x_in, known_in) -> (cleaned, gate_logits or None)``, all ``(..., T, D)``: the network
#: applied to prepared input (:func:`apply_net` on windows, or a windowed version over a clip)
NetRun = Callable[[torch.Tensor, torch.Tensor], "tuple[torch.Tensor, torch.Tensor | None]"]


def filter_trajectory(traj: np.ndarray, kind: str, fps: float, frames: np.ndarray | None = None,
                      heading: bool = True, **options) -> np.ndarray:
    """A classical filter (:func:`motion3d.ops.filters.smooth`) on root trajectory channels
    ``traj (..., T, 4)`` (height, planar velocity in the previous heading frame, angular velocity:
    :mod:`motion3d.features.trajectory`) through the integrated path: positions and heading filtered
    over time, then differentiated again -> ``(..., T, 4)``. Filtering the velocities themselves
    would integrate a median's bias into a drift of the whole body. ``frames (..., T)`` bool: the
    filtered path taken only there (default: everywhere); ``heading=False``: the positions only."""
    path = trajectory_path(traj)
    ch = slice(0, 4 if heading else 3)
    smoothed = smooth(path[..., ch], kind, fps, axis=path.ndim - 2, **options)
    path[..., ch] = smoothed if frames is None else np.where(frames[..., None], smoothed, path[..., ch])
    return path_trajectory(path, like=traj)


def anchor_root(ctx: MotionContext, out: torch.Tensor, given: torch.Tensor,
                cutoff_hz: float = ANCHOR_CUTOFF_HZ, known: torch.Tensor | None = None,
                despike_output: bool = ANCHOR_DESPIKE_OUTPUT) -> torch.Tensor:
    """The network's output ``out (..., T, D)`` (normalised features) with the part of its root path
    below ``cutoff_hz`` (all of it by default: :data:`ANCHOR_CUTOFF_HZ`) replaced by that of the input
    ``given (..., T, D)`` (its spikes, found by a Hampel identifier on the 3D position and the heading,
    :func:`motion3d.ops.filters.hampel` with :data:`ANCHOR_SPIKE`, the window's ends included, filled as
    :data:`ANCHOR_SPIKE_FILL` says, so that they do not leak in and a clean path is taken exactly):
    ``path_out + lowpass(path_in - path_out)``, re-encoded as trajectory channels; the height and every
    other channel are the network's. With ``despike_output`` (:data:`ANCHOR_DESPIKE_OUTPUT`) the
    network's own path and height go through the same identifier first: the network rarely corrects a
    root spike (the root channels are velocities, a spike is a step out and one back), and an anchor
    with a cut-off keeps the network's fast part, spike included. See the module docstring.

    ``known (..., T, D)`` bool (the network's mask, :func:`net_input`): where the root was missing
    the input's path is an interpolation, not a measurement. The network's path through a gap that
    known frames follow is first reconnected to the input's (:func:`fill_root_gaps`: it lands where
    the capture has the root after the gap), and through every gap the difference of the two paths
    is held (its frame-to-frame change set to 0) instead of followed, so the network's path there is
    kept, not pulled towards the interpolation."""
    step_known = None if known is None else known[..., 1:4].bool().all(-1)  # (..., T) the root step measured
    if step_known is not None:
        out = fill_root_gaps(ctx, out, given, step_known)
    if out.shape[-2] < 2 or not cutoff_hz > 0:
        return out
    sl = slice(0, 4)  # the trajectory channels lead every representation (motion3d.features.trajectory)
    norm = ctx.normalizer
    f_out = norm.denormalize(out.detach().double().cpu()).numpy()
    f_in = norm.denormalize(given.detach().double().cpu()).numpy()
    axis = f_out.ndim - 2
    p_out = trajectory_path(f_out[..., sl])
    spike = ANCHOR_SPIKE * float(ctx.skeleton.height())  # path channels: x, height, z, heading
    heading = np.radians(ANCHOR_SPIKE_HEADING_DEG)
    p_in = _despike_path(trajectory_path(f_in[..., sl]), spike, heading, axis)
    if despike_output:
        p_out = _despike_path(p_out, spike, heading, axis)
    diff = p_in - p_out  # (..., T, 4)
    if step_known is not None and not bool(step_known.all()):
        measured = step_known[..., None].cpu().numpy()  # (..., T, 1)
        step = np.diff(diff, axis=axis) * measured[..., 1:, :]
        start = np.take(diff, [0], axis=axis) * np.take(measured, [0], axis=axis)
        diff = np.concatenate([start, start + np.cumsum(step, axis=axis)], axis=axis)
    slow = smooth(diff, "butterworth", ctx.fps, axis=axis, cutoff=float(cutoff_hz), order=2)
    slow[..., 1] = 0.0  # the height stays the network's
    f_out[..., sl] = path_trajectory(p_out + slow, like=f_out[..., sl])
    return norm.normalize(torch.from_numpy(f_out)).to(out.dtype).to(out.device)


def _despike_path(path: np.ndarray, spike: float, heading: float, axis: int) -> np.ndarray:
    """A root path ``(..., T, 4)`` (x, height, z, heading; time on ``axis``) through the Hampel
    identifier: a position further than ``spike`` from its running median (the 3D distance: a root
    jump is found whatever its direction) or a heading further than ``heading`` (radians), the
    window's first and last frames checked against the line through their inner neighbours."""
    pos = hampel(path[..., 0:3], spike, axis=axis, fill=ANCHOR_SPIKE_FILL, vector=True, edges="extrapolate")
    turn = hampel(path[..., 3:4], heading, axis=axis, fill=ANCHOR_SPIKE_FILL, edges="extrapolate")
    return np.concatenate([pos, turn], axis=-1)


def hidden_channels(ctx: MotionContext) -> torch.Tensor:
    """``(D,)`` bool: channels the network never sees (the foot contacts)."""
    mask = torch.zeros(ctx.dim, dtype=torch.bool)
    if "contacts" in ctx.representation.layout:
        mask[ctx.representation.slice("contacts")] = True
    return mask


def net_input(ctx: MotionContext, x: torch.Tensor, known: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x_in, known_in)`` for the network from normalised features ``x (B, T, D)`` and their mask
    ``known (B, T, D)`` (default all known): the contact channels marked unknown and zeroed (the
    mean), every other unknown entry linearly interpolated over time from the known frames around it
    (:func:`motion3d.ops.filters.fill_gaps`; a channel unknown in the whole window keeps the values
    given, which the caller fills: SLERP from outside the window, identity rotations as a last resort).

    The root trajectory (:func:`fill_root_gaps`): its velocity channels are known only where the root
    is known at the frame and at the one before (a step needs both ends), and a root gap with known
    frames after it is filled so that the path lands where the capture has the root after the gap."""
    k = torch.ones_like(x, dtype=torch.bool) if known is None else known.bool()
    k = k & ~hidden_channels(ctx).to(x.device)
    root = k[..., 0:4].all(-1)  # (B, T) the root measured at the frame
    step = root & torch.cat([root[..., :1], root[..., :-1]], -1)  # ... and at the one before
    k = k.clone()
    k[..., 0] = root
    k[..., 1:4] = step[..., None]
    filled = fill_gaps(x, k, dim=-2)  # a channel unknown in the whole window keeps its values
    filled = fill_root_gaps(ctx, filled, x, step)
    contacts = hidden_channels(ctx).to(x.device)
    return torch.where(contacts, torch.zeros_like(filled), filled), k


def fill_root_gaps(ctx: MotionContext, filled: torch.Tensor, given: torch.Tensor, step_known: torch.Tensor
                   ) -> torch.Tensor:
    """Root gaps reconnected: ``filled (B, T, D)`` (normalised, unknown velocities interpolated) with
    the trajectory of each gap that known frames follow shifted evenly so that the integrated position
    and heading at its end equal those of ``given (B, T, D)``
    (:func:`motion3d.features.trajectory.reconnect_trajectory`); ``step_known (B, T)``: the frames
    whose root step was measured. Root trajectory channels are velocities: interpolating them alone
    over a gap would throw away where the capture finds the root after it and shift the whole rest
    of the clip by the interpolation's error. So the values ``given`` under a root gap must
    integrate to the root's true displacement across it (a capture knows the positions on both
    sides): :func:`motion3d.data.corrupt.corrupt_features` leaves the clean steps there, the
    clip clean-up (:mod:`motion3d.tasks.cleanup_clips`) fills the root positions linearly first."""
    free = ~step_known.bool()
    free[..., 0] = False  # the first frame's step is not decoded
    if not bool(free.any()):
        return filled
    norm = ctx.normalizer
    f = norm.denormalize(filled.detach().double().cpu()).numpy()
    ref = norm.denormalize(given.detach().double().cpu()).numpy()
    lead = f.shape[:-2]
    T, D = f.shape[-2:]
    fr, rr, mask = f.reshape(-1, T, D), ref.reshape(-1, T, D), free.cpu().numpy().reshape(-1, T)
    for i in np.flatnonzero(mask.any(-1)):
        fr[i, :, 0:4] = reconnect_trajectory(fr[i, :, 0:4], rr[i, :, 0:4], mask[i])
    out = norm.normalize(torch.from_numpy(fr.reshape(*lead, T, D)))
    return out.to(filled.dtype).to(filled.device)


def apply_net(net, x: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(cleaned, gate_logits)`` of a clean-up network on prepared input ``x, known (B, T, D)``
    (:func:`net_input`); logits ``None`` for a network without a gate."""
    if getattr(net, "gate", None) is None:
        return net(x, known), None
    correction, logits = net.parts(x, known)
    return net.compose(x, correction, logits, known, threshold=net.gate_threshold), logits


def refill_mask(ctx: MotionContext, logits: torch.Tensor, known: torch.Tensor, threshold: float,
                max_frames: int) -> torch.Tensor:
    """``(..., T, D)`` bool: the rotation channels to refill as missing data, from the gate's
    ``logits (..., T, D)``: every channel of a joint where any of its channels' logit exceeds
    ``threshold`` and was ``known``, in runs of at most ``max_frames`` frames (a spike, a swapped
    limb; not jitter, which the gate finds everywhere). The root and the other channels: never."""
    rs = ctx.representation.slice("rotations")
    jb = len(ctx.representation.body)
    lead = logits.shape[:-1]
    width = (rs.stop - rs.start) // jb
    opened = ((logits[..., rs] > threshold) & known[..., rs].bool()).reshape(*lead, jb, width).any(-1)
    opened &= run_lengths(opened, dim=-2) <= int(max_frames)  # (..., T, Jb)
    out = torch.zeros(logits.shape, dtype=torch.bool, device=logits.device)
    out[..., rs] = opened[..., None].expand(*lead, jb, width).reshape(*lead, jb * width)
    return out


def rotation_spikes(ctx: MotionContext, x: torch.Tensor, known: torch.Tensor, max_frames: int,
                    threshold: float = ROTATION_SPIKE) -> torch.Tensor:
    """``(..., T, D)`` bool: the rotation channels of the joints whose rotation in ``x (..., T, D)``
    (normalised features) leaves its 5-frame running median (each 6D channel's) by more than
    ``threshold`` (the 6D vector's length, :data:`ROTATION_SPIKE`) and by more than
    :data:`ROTATION_SPIKE_NOISE` times the joint's typical deviation around that frame, in runs of at
    most ``max_frames`` frames, where ``known (..., T, D)``: a Hampel identifier per joint, the spikes
    :func:`repair` refills beside those the gate finds."""
    rs = ctx.representation.slice("rotations")
    jb = len(ctx.representation.body)
    lead, T = x.shape[:-2], x.shape[-2]
    f = ctx.normalizer.denormalize(x.detach().double().cpu()).numpy()[..., rs].reshape(*lead, T, jb, 6)
    axis = f.ndim - 3
    dev = hampel_deviation(f, 5, axis, vector=True)[..., 0]  # (..., T, Jb)
    noise = median(dev, ROTATION_SPIKE_SPAN, axis)  # the local typical deviation (jitter: everywhere)
    far = torch.from_numpy(dev > np.maximum(threshold, ROTATION_SPIKE_NOISE * noise)).to(x.device)
    far &= known[..., rs].bool().reshape(*lead, T, jb, 6).all(-1)  # (..., T, Jb)
    far &= run_lengths(far, dim=-2) <= int(max_frames)
    out = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
    out[..., rs] = far[..., None].expand(*lead, T, jb, 6).reshape(*lead, T, jb * 6)
    return out


def repair(ctx: MotionContext, run: NetRun, x: torch.Tensor, known: torch.Tensor | None = None,
           anchor_hz: float = ANCHOR_CUTOFF_HZ, refill_s: float = REFILL_MAX_S, threshold: float = 0.0,
           one_pass: bool = False, broadband: bool = True, rotation_spike: float | None = ROTATION_SPIKE,
           drift: bool = True) -> dict[str, torch.Tensor]:
    """Clean normalised features ``x (..., T, D)`` with mask ``known`` (default all known) with a
    clean-up network ``run`` (:data:`NetRun`): ``{"cleaned", "input", "one_pass", "unanchored",
    "unsmoothed", "drifting"}``, each ``(..., T, D)``:

    1. first pass on :func:`net_input`; the gate's ``logits`` say which channels look corrupted;
    2. (a gated network, ``refill_s > 0``) the joints the gate opened on (``threshold``) for at most
       ``refill_s`` seconds (:func:`refill_mask`) are marked missing and the network runs again: what
       a spike or a swapped limb put there is thrown away and filled from the frames and joints
       around it, as a gap is, instead of corrected from the corrupted values; only those channels
       take the second pass's output. Val (529 windows, the 20-minute config, seed 0): swaps
       3.63 -> 2.28 mm, spikes 4.51 -> 3.73 mm (x2: 7.51 -> 5.49), jitter and foot sliding
       unchanged, gaps +0.04 mm, clean input 0.20 -> 0.22 mm. The root is not refilled: the gate
       finds root spikes too unreliably (refilling where it opens: spikes 4.0 -> 5.1 mm on 256 windows).
       The joints a Hampel identifier finds (:func:`rotation_spikes`, ``rotation_spike``; ``None``:
       not) are refilled too, with or without a gate;
    3. the root anchored to the capture (:func:`anchor_root`, ``anchor_hz``);
    4. rotation channels the network changed almost everywhere (jitter) low-passed, and the root
       path where most of them are (:func:`smooth_broadband`; ``broadband=False``: not);
    5. a drift that slides the planted feet taken off the root path, found and taken off on the
       frames measured whole (:func:`remove_drift`; ``drift=False``: not).

    ``input`` (the first pass's input, :func:`net_input`), ``one_pass`` (the first pass, anchored),
    ``unanchored`` (the final output before the anchor), ``unsmoothed`` (before step 4, with
    ``broadband``) and ``drifting`` (before step 5, with ``drift``) are returned for evaluation;
    ``one_pass`` only when asked for (it costs an anchor)."""
    xi, ki = net_input(ctx, x, known)
    y, logits = run(xi, ki)
    out = {"input": xi}
    if one_pass:
        out["one_pass"] = anchor_root(ctx, y, xi, anchor_hz, ki)
    if refill_s > 0 and (logits is not None or rotation_spike is not None):
        frames = max(1, round(refill_s * ctx.fps))
        flag = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
        if logits is not None:
            flag |= refill_mask(ctx, logits, ki, threshold, frames)
        if rotation_spike is not None:
            flag |= rotation_spikes(ctx, xi, ki, frames, rotation_spike)
        if bool(flag.any()):
            x2, k2 = net_input(ctx, x, ki & ~flag)
            y2, _ = run(x2, k2)
            y = torch.where(flag, y2, y)
    out["unanchored"] = y
    out["cleaned"] = anchor_root(ctx, y, xi, anchor_hz, ki)
    if broadband:
        out["unsmoothed"] = out["cleaned"]
        out["cleaned"] = smooth_broadband(ctx, out["cleaned"], xi)
    if drift:
        out["drifting"] = out["cleaned"]
        out["cleaned"] = remove_drift(ctx, out["cleaned"], known)
    return out


def smooth_broadband(ctx: MotionContext, y: torch.Tensor, x: torch.Tensor, fraction: float = BROADBAND_FRACTION,
                     window_s: float = BROADBAND_WINDOW_S, root: str | None = BROADBAND_ROOT) -> torch.Tensor:
    """``y (..., T, D)`` (normalised features, the network's output for input ``x``, same shape) with
    its rotation channels low-passed (zero-phase Butterworth, default cut-off) at the frames where
    the network changed that channel on more than ``fraction`` of the frames within ``window_s``
    seconds around them: broadband noise that a gated network corrects everywhere but leaves partly
    in place (see :data:`BROADBAND_FRACTION`). The filter is linear, so it runs on the normalised
    values. ``root`` (a classical filter's name, :data:`BROADBAND_ROOT`; ``None``: not): on the
    frames where more than half of the rotation channels are so filtered, the root path (positions,
    height included, not the heading) goes through that filter as well. Other channels and frames are
    returned exactly."""
    rot = np.zeros(y.shape[-1], dtype=bool)
    rot[ctx.representation.slice("rotations")] = True
    changed = ((y - x).abs() > 1e-6).cpu().numpy() & rot  # (..., T, D)
    span = max(1, int(round(window_s * ctx.fps)))
    sel = uniform_filter1d(changed.astype(np.float64), span, axis=-2, mode="nearest") > fraction
    if not sel.any():
        return y
    cols = sel.any(axis=tuple(range(sel.ndim - 1)))  # the channels filtered somewhere
    yn = y.detach().cpu().double().numpy()
    f = yn.copy()
    f[..., cols] = smooth(yn[..., cols], "butterworth", ctx.fps, axis=-2)
    out = np.where(sel, f, yn)
    if root is not None:
        # the root: on the frames where most rotation channels are selected, its path (positions)
        root_frames = sel[..., rot].mean(-1) > 0.5  # (..., T)
        if root_frames.any():
            norm = ctx.normalizer
            full = norm.denormalize(torch.from_numpy(out)).numpy()
            full[..., 0:4] = filter_trajectory(full[..., 0:4], root, ctx.fps, frames=root_frames, heading=False)
            out = norm.normalize(torch.from_numpy(full)).numpy()
    return torch.from_numpy(out).to(device=y.device, dtype=y.dtype)


def remove_drift(ctx: MotionContext, y: torch.Tensor, known: torch.Tensor | None = None) -> torch.Tensor:
    """``y (..., T, D)`` (normalised features) with the drift that slides its planted feet
    (:func:`motion3d.ops.slide.slide_drift`, per clip) taken off its root path; a clip where none is
    found, and every channel but the root's planar velocity, is returned exactly. ``known (..., T, D)``
    bool (default all): only the frames where every channel was measured count and are corrected (in
    a gap the network made the feet up, and a long gap's generated feet can slide together).

    The anchor (:func:`anchor_root`) keeps the capture's root path, and with it a solver's drift; the
    network does not remove it either (val, seed 0, foot sliding x1: 118.6 mm MPJPE for the input and
    the model alike). Val, 529 windows, seeds 0 and 1, input drifting at 0.1 / 0.2 body heights / s:
    the model's 118.6 / 237.2 mm MPJPE -> 20.4 / 26.3 mm; on clean, jittered, spiked, swapped and gapped
    windows it finds none."""
    feet = ctx.feet
    if not feet or y.shape[-2] < 2:
        return y
    norm, rep = ctx.normalizer, ctx.representation
    f = norm.denormalize(y.detach().double().cpu())
    pos = rep.decode_positions(f)[..., feet, :].numpy()  # (..., T, F, 3) float64
    lead, T = pos.shape[:-3], pos.shape[-3]
    flat = pos.reshape(-1, T, len(feet), 3)
    valid = (np.ones(flat.shape[:2], dtype=bool) if known is None
             else known.bool().all(-1).cpu().numpy().reshape(-1, T))
    h = float(ctx.skeleton.height())
    drift = np.stack([slide_drift(p, ctx.fps, h, valid=v) for p, v in zip(flat, valid)]).reshape(*lead, T, 2)
    if not drift.any():
        return y
    f = f.numpy()
    path = trajectory_path(f[..., 0:4])
    path[..., [0, 2]] -= np.cumsum(drift, axis=-2)
    f[..., 1:3] = path_trajectory(path, like=f[..., 0:4])[..., 1:3]  # the planar velocity, in the heading frame
    out = y.clone()
    out[..., 1:3] = norm.normalize(torch.from_numpy(f))[..., 1:3].to(device=y.device, dtype=y.dtype)
    return out


def gate_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 0.0) -> torch.Tensor:
    """Mean binary cross-entropy of gate ``logits`` against 0/1 ``target`` (same shape), each term
    times ``(1 - p_t)^gamma`` (focal loss; ``p_t`` the probability given to the true class)."""
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    if gamma > 0:
        p_t = torch.exp(-ce)
        ce = ce * (1 - p_t) ** gamma
    return ce.mean()


class CleanupTask(MotionTask):
    """Train a clean-up network on corrupted clean windows (see the module docstring).

    Args:
        net: :class:`CleanupNet` (or its class with arguments, from a config).
        weights: :class:`ReconstructionWeights` of the clean-motion prediction.
        corruption: ``{kind: {param: value}}`` (:class:`motion3d.data.corrupt.Corruption`; kinds
            left out are not applied; ``None``: every kind with the defaults).
        gate_weight: weight of the gate's binary cross-entropy (a gated network only).
        gate_tolerance: a channel counts as corrupted where the input is further than this from the
            clean window (normalised units).
        gate_focal: focusing exponent gamma of the gate's loss (Lin et al. 2017, focal loss:
            each channel's cross-entropy times ``(1 - p_t)^gamma``); 0: plain cross-entropy. Jitter
            (every channel of half the clips) and clean channels are easy; a spike on a swinging
            arm is not, and plain cross-entropy leaves it undecided.
        missing_weight: weight of an extra loss on the missing entries alone (the mean absolute
            error of the features the network was not given, contacts aside): the reconstruction
            losses average over every entry, of which a gap is a small part; 0: none.
        Others: see :class:`MotionTask`.
    """

    task_name = TASK_NAME
    weights_type = ReconstructionWeights

    def __init__(self, net: NetFactory, weights: ReconstructionWeights | None = None,
                 corruption: Mapping[str, Mapping[str, float] | None] | None = None, lr: float = 1e-3,
                 weight_decay: float = 1e-4, warmup_steps: int = 100, min_lr_ratio: float = 0.05, loss: str = "l1",
                 video_every_n_epochs: int = 0, video_samples: int = 4, gate_weight: float = 1.0,
                 gate_tolerance: float = 0.02, gate_focal: float = 0.0, ema_decay: float = 0.0,
                 missing_weight: float = 0.0):
        super().__init__(net, weights=weights, lr=lr, weight_decay=weight_decay, warmup_steps=warmup_steps,
                         min_lr_ratio=min_lr_ratio, loss=loss, video_every_n_epochs=video_every_n_epochs,
                         video_samples=video_samples, ema_decay=ema_decay)
        self.corruption = Corruption.of(corruption)  # checked now, not at the first step
        self.hparams["corruption"] = self.corruption.to_dict()
        if not gate_weight >= 0 or not gate_tolerance > 0 or not gate_focal >= 0 or not missing_weight >= 0:
            raise ValueError(f"gate_weight, gate_focal and missing_weight must be >= 0 and gate_tolerance > 0, got "
                             f"{gate_weight}, {gate_focal}, {missing_weight}, {gate_tolerance}")

    def _step(self, batch, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        ctx = self._require()
        x = batch["x"]
        with torch.no_grad():
            xc, known, _ = corrupt_features(ctx.representation, ctx.normalizer, x, self.corruption, generator)
            xi, ki = net_input(ctx, xc.to(x.dtype), known)
        correction, logits = self.net.parts(xi, ki)
        pred = self.net.compose(xi, correction, logits, ki, straight_through=True)
        losses = self.reconstruction_losses(pred, x)
        if self.hparams.get("missing_weight", 0.0) > 0:
            missing = ~ki.bool() & ~hidden_channels(ctx).to(x.device)
            losses["missing"] = ((pred - x).abs() * missing).sum() / missing.sum().clamp(min=1)
            losses["loss"] = losses["loss"] + self.hparams["missing_weight"] * losses["missing"]
        if logits is not None:
            corrupted = ((xi - x).abs() > self.hparams["gate_tolerance"]).to(logits.dtype)
            losses["gate"] = gate_loss(logits[ki], corrupted[ki], self.hparams["gate_focal"])
            with torch.no_grad():
                losses["gate_error"] = ((logits[ki] > 0).to(logits.dtype) != corrupted[ki]).float().mean()
            losses["loss"] = losses["loss"] + self.hparams["gate_weight"] * losses["gate"]
        return losses

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        losses = self._step(batch)
        self.log_losses("train", losses, batch["x"].shape[0])
        return losses["loss"]

    def validation_step(self, batch, batch_idx: int) -> None:
        g = torch.Generator().manual_seed(1000 + batch_idx)  # the same corruptions every epoch
        losses = self._step(batch, g)
        self.log_losses("val", losses, batch["x"].shape[0])
