"""BVH (Biovision Hierarchy) reading and writing.

Supported: any channel layout per joint (0-6 channels, positions and rotations in any order,
so a different Euler order on every joint), position channels on any joint (their values replace
that joint's OFFSET for the frame, as Bandai-Namco files use them; on the root, ``load`` can also
add them to the OFFSET, as iClone exports need: ``root_offset``), End Sites, tabs, CRLF and
CR-only line ends, a UTF-8 byte order mark, keywords in any case (``motion``, ``Hierarchy``),
scientific notation, zero or one frame, any positive finite Frame Time.

Hostile input is refused before anything large is allocated: the frame count must agree with the
frame lines that are in the file (a header cannot make the loader allocate more than the data it
holds), offsets and values must be finite, and header parsing and saving are linear in the number
of joints (no recursion per joint, so a 20,000-joint chain loads and saves).

The MOTION block is parsed in one call of numpy's C text reader (no per-frame Python loop); the
Euler angles of all joints that share an order are converted to quaternions in one vectorised call.
Every problem raises :class:`motion3d.io.FormatError` with the file name and line number.
"""
from __future__ import annotations

import io
import math
import os
import re
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from motion3d.geometry.rotations import EULER_ORDERS, np_euler_to_quat, np_quat_to_euler
from motion3d.io import FormatError
from motion3d.motion import Motion
from motion3d.ops.axes import detect_up_axis, to_y_up
from motion3d.ops.floor import floor_height
from motion3d.outputs import atomic_output
from motion3d.skeleton import POSITION_CHANNELS, ROTATION_CHANNELS, Skeleton

__all__ = ["load", "save", "loads", "dumps", "read_header", "ROOT_OFFSET_READINGS"]

#: how the root's OFFSET combines with its position channels (see :func:`load`)
ROOT_OFFSET_READINGS = ("replace", "add", "auto")
#: under ``root_offset="auto"``, the two readings matter when their floors differ by more than
#: this fraction of the body height
_ROOT_OFFSET_MATTERS = 0.25

_CHANNEL_NAMES = set(POSITION_CHANNELS + ROTATION_CHANNELS)
_CHANNEL_ALIASES = {c.lower(): c for c in _CHANNEL_NAMES}


# ---------------------------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------------------------
class _Header:
    """The parsed HIERARCHY plus the MOTION header fields."""

    def __init__(self):
        self.names: list[str] = []
        self.parents: list[int] = []
        self.offsets: list[list[float]] = []
        self.channels: list[tuple[str, ...]] = []
        self.end_sites: dict[int, list[float]] = {}
        self.num_frames = 0
        self.frame_time = 0.0
        self.motion_line = 0  # 1-based line number of the first frame


def _floats(path, lineno, tokens, n, what):
    if len(tokens) != n:
        raise FormatError(path, f"{what} needs {n} numbers, found {len(tokens)}", lineno)
    try:
        vals = [float(t) for t in tokens]
    except ValueError:
        raise FormatError(path, f"{what} has a value that is not a number: {' '.join(tokens)!r}", lineno) from None
    if not all(math.isfinite(v) for v in vals):
        raise FormatError(path, f"{what} has a NaN or infinite value: {' '.join(tokens)!r}", lineno)
    return vals


def _parse_header(path, lines: list[str], motion_header: bool = True) -> _Header:
    """Parse the HIERARCHY; at the MOTION line, parse 'Frames'/'Frame Time' too when
    ``motion_header`` (otherwise stop there, with ``h.motion_line`` the MOTION line's number)."""
    h = _Header()
    stack: list[int] = []  # joint indices of open blocks; -2 marks an End Site block
    pending: tuple[str, int] | None = None  # a ROOT/JOINT/End Site line waiting for its "{"
    i = 0
    n = len(lines)
    seen_hierarchy = False
    seen_names: set[str] = set()  # a set, not a list search: parsing stays linear in the joints
    while i < n:
        raw = lines[i]
        lineno = i + 1
        tokens = raw.split()
        i += 1
        if not tokens:
            continue
        key = tokens[0]
        ukey = key.upper()
        if ukey == "HIERARCHY":
            seen_hierarchy = True
            continue
        if not seen_hierarchy:
            raise FormatError(path, f"not a BVH file: expected HIERARCHY, found {raw.strip()[:40]!r}", lineno)
        if ukey in ("ROOT", "JOINT"):
            if ukey == "ROOT" and h.names:
                raise FormatError(path, "a second ROOT: files with several skeletons are not supported", lineno)
            if ukey == "JOINT" and not stack:
                raise FormatError(path, "JOINT outside of any ROOT block", lineno)
            opens = len(tokens) > 1 and tokens[-1] == "{"  # "JOINT name {" on one line
            name = " ".join(tokens[1:-1] if opens else tokens[1:]) or f"joint{len(h.names)}"
            if name in seen_names:
                raise FormatError(path, f"joint name {name!r} appears twice", lineno)
            parent = stack[-1] if stack else -1
            if parent == -2:
                raise FormatError(path, "a JOINT inside an End Site block", lineno)
            seen_names.add(name)
            h.names.append(name)
            h.parents.append(parent)
            h.offsets.append([0.0, 0.0, 0.0])
            h.channels.append(())
            pending = ("joint", len(h.names) - 1)
            if opens:
                stack.append(pending[1])
                pending = None
        elif ukey == "END":
            if not stack or stack[-1] < 0:
                raise FormatError(path, "End Site outside of a joint", lineno)
            pending = ("end", stack[-1])
            if tokens[-1] == "{":
                stack.append(-2)
                h.end_sites[pending[1]] = [0.0, 0.0, 0.0]
                pending = None
        elif key == "{":
            if pending is None:
                raise FormatError(path, "'{' without a ROOT, JOINT or End Site before it", lineno)
            if pending[0] == "joint":
                stack.append(pending[1])
            else:
                stack.append(-2)
                h.end_sites[pending[1]] = [0.0, 0.0, 0.0]
            pending = None
        elif key == "}":
            if not stack:
                raise FormatError(path, "unbalanced '}'", lineno)
            stack.pop()
        elif ukey == "OFFSET":
            if not stack:
                raise FormatError(path, "OFFSET outside of a joint block", lineno)
            vals = _floats(path, lineno, tokens[1:], 3, "OFFSET")
            if stack[-1] == -2:
                # the End Site belongs to the joint that encloses it (End Sites never nest)
                h.end_sites[stack[-2]] = vals
            else:
                h.offsets[stack[-1]] = vals
        elif ukey == "CHANNELS":
            if not stack or stack[-1] < 0:
                raise FormatError(path, "CHANNELS outside of a joint block", lineno)
            try:
                count = int(tokens[1])
            except (IndexError, ValueError):
                raise FormatError(path, "CHANNELS must be followed by a channel count", lineno) from None
            names = tokens[2:]
            if len(names) != count:
                raise FormatError(path, f"CHANNELS says {count} channels but lists {len(names)}", lineno)
            chans = []
            for c in names:
                canon = _CHANNEL_ALIASES.get(c.lower())
                if canon is None:
                    raise FormatError(
                        path, f"unknown channel name {c!r} (expected one of {sorted(_CHANNEL_NAMES)})", lineno
                    )
                chans.append(canon)
            if len(set(chans)) != len(chans):
                raise FormatError(path, f"repeated channel in {' '.join(names)}", lineno)
            h.channels[stack[-1]] = tuple(chans)
        elif ukey == "MOTION":
            if stack:
                raise FormatError(path, f"MOTION reached with {len(stack)} unclosed block(s): the hierarchy is truncated", lineno)
            if not h.names:
                raise FormatError(path, "no ROOT joint in the HIERARCHY", lineno)
            if not motion_header:
                h.motion_line = lineno
                return h
            return _parse_motion_header(path, lines, i, h)
        else:
            raise FormatError(path, f"unexpected {key!r} in the HIERARCHY", lineno)
    if not seen_hierarchy:
        raise FormatError(path, "not a BVH file: no HIERARCHY", 1)
    raise FormatError(path, "the file ends before the MOTION section (truncated?)", n)


def _parse_motion_header(path, lines, i, h: _Header) -> _Header:
    fields: dict[str, float | int] = {}
    where: dict[str, tuple[int, str]] = {}  # field -> (line number, value as written)
    n = len(lines)
    while i < n and len(fields) < 2:
        raw = lines[i]
        lineno = i + 1
        i += 1
        if not raw.strip():
            continue
        m = re.match(r"\s*(Frames|Frame\s*Time)\s*:?\s*(\S+)\s*$", raw, re.I)
        if not m:
            raise FormatError(path, f"expected 'Frames:' and 'Frame Time:', found {raw.strip()[:40]!r}", lineno)
        key = "frames" if m.group(1).lower() == "frames" else "time"
        try:
            fields[key] = int(m.group(2)) if key == "frames" else float(m.group(2))
        except ValueError:
            raise FormatError(path, f"bad value {m.group(2)!r} for {m.group(1)}", lineno) from None
        where[key] = (lineno, m.group(2))
    if "frames" not in fields or "time" not in fields:
        raise FormatError(path, "the MOTION section lacks 'Frames:' or 'Frame Time:' (truncated?)", i)
    if fields["frames"] < 0:
        raise FormatError(path, f"negative frame count {fields['frames']}", where["frames"][0])
    ft = fields["time"]
    # 1e-320 is positive but its frame rate overflows to inf
    if not (math.isfinite(ft) and ft > 0 and math.isfinite(1.0 / ft)):
        raise FormatError(path, f"Frame Time must be positive and finite with a finite frame rate 1/Frame Time, "
                                f"got {where['time'][1]!r}", where["time"][0])
    h.num_frames = fields["frames"]
    h.frame_time = ft
    h.motion_line = i + 1
    return h


def read_header(path: str | os.PathLike) -> tuple[Skeleton, int, float]:
    """``(skeleton, num_frames, fps)`` without parsing the numbers of the MOTION block (the
    number of frame lines is checked against ``Frames:``, so a false count is refused here too)."""
    path = Path(path)
    text = _normalize(_read_text(path))
    end = _motion_split(text)
    h = _parse_header(path, text[:end].splitlines() if end >= 0 else text.splitlines())
    if end >= 0:
        C = sum(len(c) for c in h.channels)
        block = text[end:]
        # every line a frame (the usual file): one str.count; otherwise count the non-blank lines
        lines = _count_frame_lines(block, 0)
        present = lines if lines == h.num_frames or C == 0 else _count_frame_lines(block, C)
        if present != h.num_frames and not (C == 0 and present > h.num_frames):
            raise _locate_bad_frame(path, block, h.motion_line, C, h.num_frames)
    return _skeleton(h), h.num_frames, 1.0 / h.frame_time


# ---------------------------------------------------------------------------------------------
# Motion block
# ---------------------------------------------------------------------------------------------
def _normalize(text: str) -> str:
    """Strip a UTF-8 byte order mark and turn CR-only and CRLF line ends into LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _count_frame_lines(block: str, C: int) -> int:
    """Frame lines in the frame data: non-blank lines, or every line when there are no channels
    (a frame without values is an empty line). One C-level pass, no per-line Python loop."""
    if C == 0:
        return block.count("\n") + (1 if block and not block.endswith("\n") else 0)
    return len(_NONBLANK_LINE.findall(block))


_NONBLANK_LINE = re.compile(r"^[ \t]*\S", re.M)


def _motion_split(text: str) -> int:
    """Index just past the 'Frame Time' line (start of the frame data), or -1."""
    m = re.search(r"^\s*MOTION\s*$", text, re.M | re.I)
    if not m:
        return -1
    ft = re.compile(r"^\s*Frame\s*Time\s*:?[^\n]*\n?", re.M | re.I).search(text, m.end())
    return ft.end() if ft else -1


def _locate_bad_frame(path, block: str, first_line: int, C: int, T: int) -> FormatError:
    """Slow path, only after a parse failure: find the first bad line of the frame data."""
    if C == 0:
        return _zero_channel_error(path, block, first_line, T)
    frame = 0
    last_line = first_line
    for k, line in enumerate(block.splitlines()):
        lineno = first_line + k
        toks = line.split()
        if not toks:
            continue
        last_line = lineno
        if frame >= T:
            return FormatError(path, f"more frames than 'Frames: {T}' says", lineno)
        if len(toks) != C:
            return FormatError(path, f"frame {frame} has {len(toks)} values, the hierarchy has {C} channels", lineno)
        for t in toks:
            try:
                float(t)
            except ValueError:
                return FormatError(path, f"frame {frame}: {t!r} is not a number", lineno)
        frame += 1
    if frame < T:
        return FormatError(path, f"truncated: 'Frames: {T}' but only {frame} complete frames", last_line)
    return FormatError(path, "could not parse the frame data", first_line)


def _zero_channel_error(path, block: str, first_line: int, T: int) -> FormatError:
    """The frame data of a hierarchy without channels: ``T`` empty lines, nothing else."""
    m = _NONBLANK_LINE.search(block)
    if m is not None:
        lineno = first_line + block.count("\n", 0, m.start())
        return FormatError(path, "the hierarchy has no channels, but a frame line holds values", lineno)
    present = _count_frame_lines(block, 0)
    return FormatError(path, f"truncated or a false frame count: 'Frames: {T}' but the hierarchy has no channels "
                             f"and only {present} (empty) frame lines follow", first_line + max(present - 1, 0))


def _parse_frames(path, block: str, first_line: int, C: int, T: int) -> np.ndarray:
    """``(T, C)`` values of the frame data. The declared ``T`` is never trusted for an allocation:
    the numbers are read from the text and their count must agree with it."""
    if T == 0:
        if block.strip():
            return _raise(_locate_bad_frame(path, block, first_line, C, T))
        return np.zeros((0, C))
    if C == 0:
        # nothing to read: the frame count must still agree with the (empty) frame lines there
        if _NONBLANK_LINE.search(block) is not None or _count_frame_lines(block, 0) < T:
            raise _zero_channel_error(path, block, first_line, T)
        return np.zeros((T, 0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.loadtxt(io.StringIO(block), dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        raise _locate_bad_frame(path, block, first_line, C, T) from None
    if values.shape != (T, C):
        raise _locate_bad_frame(path, block, first_line, C, T)
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(1))[0])
        raise FormatError(path, f"frame {row} has a NaN or infinite value", first_line + row)
    return values


def _raise(err):
    raise err


# ---------------------------------------------------------------------------------------------
# Building the Motion
# ---------------------------------------------------------------------------------------------
def _skeleton(h: _Header) -> Skeleton:
    return Skeleton(
        h.names, np.asarray(h.parents), np.asarray(h.offsets, dtype=np.float64), h.channels,
        {j: np.asarray(v) for j, v in h.end_sites.items()},
    )


def _axes_quat(angles_deg: np.ndarray, axes: str) -> np.ndarray:
    """Intrinsic rotation about the axis sequence ``axes`` (1-3 letters, any sequence)."""
    if len(axes) == 3 and axes in EULER_ORDERS:
        return np_euler_to_quat(angles_deg, axes, degrees=True)
    half = np.deg2rad(angles_deg) * 0.5
    q = np.zeros(angles_deg.shape[:-1] + (4,))
    q[..., 3] = 1.0
    for k, axis in enumerate(axes):
        a = "XYZ".index(axis)
        qa = np.zeros_like(q)
        qa[..., a] = np.sin(half[..., k])
        qa[..., 3] = np.cos(half[..., k])
        # q = q * qa
        v, w = q[..., :3], q[..., 3:]
        va, wa = qa[..., :3], qa[..., 3:]
        q = np.concatenate([w * va + wa * v + np.cross(v, va), w * wa - (v * va).sum(-1, keepdims=True)], -1)
    return q


class _Layout:
    """Column bookkeeping derived once per hierarchy (cached with the header)."""

    def __init__(self, h: _Header):
        self.skeleton = _skeleton(h)
        starts = np.cumsum([0] + [len(c) for c in h.channels])
        self.num_channels = int(starts[-1])
        groups: dict[str, tuple[list[int], list[list[int]]]] = {}
        pos_joint, pos_axis, pos_col = [], [], []
        for j, chans in enumerate(h.channels):
            order = "".join(c[0] for c in chans if c in ROTATION_CHANNELS)
            if order:
                joints, cols = groups.setdefault(order, ([], []))
                joints.append(j)
                cols.append([int(starts[j]) + k for k, c in enumerate(chans) if c in ROTATION_CHANNELS])
            for k, c in enumerate(chans):
                if c in POSITION_CHANNELS:
                    pos_joint.append(j)
                    pos_axis.append("XYZ".index(c[0]))
                    pos_col.append(int(starts[j]) + k)
        #: Euler order -> (joint indices, (n, k) column indices)
        self.rotation_groups = [(o, np.asarray(j), np.asarray(c)) for o, (j, c) in groups.items()]
        self.pos_joint, self.pos_axis, self.pos_col = map(np.asarray, (pos_joint, pos_axis, pos_col))
        self.animated = bool((self.pos_joint > 0).any()) if len(pos_joint) else False


def _build_motion(layout: _Layout, frame_time: float, values: np.ndarray, name: str) -> Motion:
    skeleton = layout.skeleton.copy()  # the cached layout's skeleton is shared: never hand it out
    T, J = values.shape[0], skeleton.num_joints
    rotations = np.zeros((T, J, 4))
    rotations[..., 3] = 1.0
    for order, joints, cols in layout.rotation_groups:
        rotations[:, joints] = _axes_quat(values[:, cols], order)
    # position channels replace the offset component they animate
    local = np.empty((T, J, 3))
    local[:] = skeleton.offsets
    if len(layout.pos_col):
        local[:, layout.pos_joint, layout.pos_axis] = values[:, layout.pos_col]
    translations = local if layout.animated else None
    return Motion(skeleton, rotations, local[:, 0].copy(), 1.0 / frame_time, translations, name)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except IsADirectoryError:
        raise FormatError(path, "is a directory, not a BVH file") from None
    if b"\x00" in data[:4096]:
        raise FormatError(path, "binary data: not a text BVH file", 1)
    return data.decode("utf-8", errors="replace")


def loads(text: str, path: str | os.PathLike = "<string>", name: str = "") -> Motion:
    """Parse BVH text (``path`` is only used in error messages)."""
    text = _normalize(text)
    m = _MOTION_LINE.search(text)
    if m is None:  # let the full parser say what is wrong
        _parse_header(path, text.splitlines())
        raise FormatError(path, "no MOTION section", text.count("\n") + 1)
    hierarchy = text[: m.end()]
    h, layout = _header_and_layout(hierarchy, os.fspath(path))
    # 'Frames:' and 'Frame Time:' follow the MOTION line
    rest = text[m.end():]
    first = h.motion_line  # line number of MOTION
    head_lines, body_start, nonblank = [], 0, 0
    while nonblank < 2 and body_start < len(rest):
        nl = rest.find("\n", body_start)
        nl = len(rest) if nl < 0 else nl + 1
        line = rest[body_start:nl]
        head_lines.append(line)
        nonblank += bool(line.strip())
        body_start = nl
    mh = _Header()
    _parse_motion_header(path, [""] * first + head_lines, first, mh)
    block = rest[body_start:]
    values = _parse_frames(path, block, mh.motion_line, layout.num_channels, mh.num_frames)
    _check_motion_size(path, mh.num_frames, layout.skeleton.num_joints, len(block), mh.motion_line)
    return _build_motion(layout, mh.frame_time, values, name)


#: the Motion of a file may need at most this many times the bytes of its frame data (beyond
#: _SIZE_FLOOR): real files are far below (every joint with channels costs a few characters per
#: frame); a header of many channel-less joints over many empty or tiny frame lines is far above.
_SIZE_RATIO = 64
_SIZE_FLOOR = 1 << 30


def _check_motion_size(path, T: int, J: int, data_bytes: int, line: int) -> None:
    """Refuse a Motion far larger than the frame data that describes it (bytes: rotations and
    local offsets, float64, ``(T, J, 4 + 3)``)."""
    need = T * J * 7 * 8
    if need > _SIZE_FLOOR and need > _SIZE_RATIO * max(data_bytes, 1):
        raise FormatError(
            path, f"{T} frames x {J} joints would need {need / 2**30:.1f} GiB, but the file holds only "
                  f"{data_bytes} bytes of frame data (most joints have no channels): refusing to allocate it", line)


_MOTION_LINE = re.compile(r"^[ \t]*MOTION[ \t]*$\n?", re.M | re.I)


@lru_cache(maxsize=32)
def _cached_header(hierarchy_text: str) -> tuple[_Header, _Layout] | None:
    """Files of one dataset share their hierarchy text: parse it once. Malformed hierarchies are
    not cached (they are re-parsed with the real path for the error message)."""
    try:
        h = _parse_header("<cached>", hierarchy_text.splitlines(), motion_header=False)
    except FormatError:
        return None
    return h, _Layout(h)


def _header_and_layout(hierarchy_text: str, path: str) -> tuple[_Header, _Layout]:
    hit = _cached_header(hierarchy_text)
    if hit is None:
        _parse_header(path, hierarchy_text.splitlines(), motion_header=False)  # raises, naming the file
        raise FormatError(path, "could not parse the hierarchy")
    return hit


def load(path: str | os.PathLike, up: str = "y", root_offset: str = "auto") -> Motion:
    """Read a BVH file into a :class:`Motion` (quaternions xyzw, file units).

    Args:
        path: the ``.bvh`` file.
        up: the file's up axis: ``"y"`` (default, BVH's convention: nothing is changed), ``"z"``
            (convert a Z-up file to Y-up), or ``"auto"`` (detect from the first frame's pose).
        root_offset: how the root's OFFSET combines with its position channels, where the two
            differ (most files have a zero root OFFSET, and then all readings are the same):
            ``"replace"``: the channels replace the OFFSET (Blender, three.js, this loader before);
            ``"add"``: the channels are added to the OFFSET (MotionBuilder-style readers; iClone
            Character Creator exports, whose root ``CC_Base_Hip`` has OFFSET y=105 and a Y
            position channel around 5, need it); ``"auto"`` (default): ``"replace"`` unless the
            lowest foot point over the clip is much nearer y=0 (the floor) with ``"add"`` (the two
            floors differ by more than a quarter of the body height); a warning naming the file
            says which reading was taken whenever the choice matters.
    Raises:
        FormatError: naming the file and line, for any malformed content.
        ValueError: for an unknown ``up`` or ``root_offset``.
    """
    if root_offset not in ROOT_OFFSET_READINGS:
        raise ValueError(f"root_offset must be one of {ROOT_OFFSET_READINGS}, got {root_offset!r}")
    path = Path(path)
    motion = loads(_read_text(path), path, name=path.stem)
    up = up.lower()
    if up == "auto":
        up = detect_up_axis(motion)  # a pose test: the same for both readings (they differ by a shift)
    added = _with_root_offset_added(motion) if root_offset != "replace" else None
    if added is not None and root_offset == "add":
        motion = added
    elif added is not None:
        motion = _choose_reading(path, to_y_up(motion, up), to_y_up(added, up))
        up = "y"
    return to_y_up(motion, up) if up != "y" else motion


def _with_root_offset_added(motion: Motion) -> Motion | None:
    """The clip with the root OFFSET added to the root's position channels (the axes without a
    channel keep the OFFSET either way), or ``None`` when this changes nothing."""
    sk = motion.skeleton
    animated = np.array([f"{a}position" in sk.channels[0] for a in "XYZ"])
    shift = np.where(animated, sk.offsets[0], 0.0)
    if not shift.any() or motion.num_frames == 0:
        return None
    root = motion.root_positions + shift
    tr = None if motion.translations is None else motion.translations.copy()
    return motion.replace(root_positions=root, translations=tr)


def _choose_reading(path: Path, replaced: Motion, added: Motion) -> Motion:
    """Under ``root_offset="auto"``: the reading whose lowest foot point over the clip is nearer
    y=0, when the two floors differ by more than :data:`_ROOT_OFFSET_MATTERS` of the body height;
    ``replaced`` otherwise. Both are Y-up."""
    floor_r, floor_a = floor_height(replaced), floor_height(added)
    height = replaced.skeleton.height()
    if not (height > 0) or abs(floor_a - floor_r) <= _ROOT_OFFSET_MATTERS * height:
        return replaced
    use_add = abs(floor_a) < abs(floor_r)
    chosen, other = (("add", floor_a), ("replace", floor_r)) if use_add else (("replace", floor_r), ("add", floor_a))
    warnings.warn(
        f"{path}: the root {replaced.skeleton.names[0]!r} has a non-zero OFFSET and position channels; "
        f"read with root_offset={chosen[0]!r} (the OFFSET {'added to' if use_add else 'replaced by'} the "
        f"channels: lowest foot {_height_words(chosen[1])}) rather than {other[0]!r} (lowest foot "
        f"{_height_words(other[1])}); pass root_offset='replace' or 'add' to choose", stacklevel=3)
    return added if use_add else replaced


def _height_words(y: float) -> str:
    return f"{abs(y):.1f} {'above' if y >= 0 else 'below'} y=0"


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def _full_order(rot_axes: str) -> str:
    """A joint's 1-3 rotation axes completed to a full Euler order (missing axes in ZXY order)."""
    return rot_axes if len(rot_axes) == 3 else (rot_axes + "".join(a for a in "ZXY" if a not in rot_axes))[:3]


def _save_channels(motion: Motion) -> list[tuple[str, ...]]:
    """The skeleton's channels, widened where the motion needs more than the file had: a full
    rotation order (ZXY) where a joint with fewer than 3 rotation channels rotates about other
    axes, and XYZ position channels where a joint's translation moves off its offset along an
    axis that has no channel. Vectorised over joints (one call per distinct channel layout)."""
    sk = motion.skeleton
    out = [tuple(c) for c in sk.channels]
    if motion.num_frames == 0:
        return out
    rot_axes = ["".join(c[0] for c in chans if c in ROTATION_CHANNELS) for chans in out]
    widen = np.zeros(sk.num_joints, bool)
    # rotations about axes without a channel; joints grouped by their (partial) rotation axes
    groups: dict[str, list[int]] = {}
    for j, axes in enumerate(rot_axes):
        if len(axes) < 3:
            groups.setdefault(axes, []).append(j)
    for axes, js in groups.items():
        q = motion.rotations[:, js]  # (T, n, 4)
        if axes:
            angles = np_quat_to_euler(q, _full_order(axes), True)[..., : len(axes)]
            ok = np.isclose(np.abs((_axes_quat(angles, axes) * q).sum(-1)), 1.0, atol=1e-9).all(0)
        else:
            ok = np.isclose(np.abs(q[..., 3]), 1.0, atol=1e-9).all(0)
        widen[np.asarray(js)[~ok]] = True
    widen_rot = widen.copy()
    # translations off the offset along an axis without a position channel
    has_pos = np.array([[f"{a}position" in chans for a in "XYZ"] for chans in out], bool)  # (J, 3)
    target = np.array(motion.local_offsets())  # (T, J, 3)
    target[:, 0] = motion.root_positions
    moved = ~np.isclose(target, sk.offsets, atol=1e-9).all(0)  # (J, 3)
    widen_pos = (moved & ~has_pos).any(1)
    for j in np.flatnonzero(widen_rot | widen_pos):
        pos = tuple(c for c in out[j] if c in POSITION_CHANNELS)
        rot = tuple(c for c in out[j] if c in ROTATION_CHANNELS)
        out[j] = (POSITION_CHANNELS if widen_pos[j] else pos) + (("Zrotation", "Xrotation", "Yrotation")
                                                                 if widen_rot[j] else rot)
    return out


def _fmt(v) -> str:
    return f"{float(v):.6f}"


#: deeper joints are indented like this depth: BVH readers ignore indentation, and a long chain
#: indented by its depth would make the file quadratic in the number of joints
_MAX_INDENT = 32


def dumps(motion: Motion, precision: int = 6) -> str:
    """BVH text for ``motion`` (see :func:`save`). Linear in joints and frames: the hierarchy is
    walked with an explicit stack (no recursion per joint) and the frame data is written by one
    numpy call."""
    sk = motion.skeleton
    J = sk.num_joints
    channels = _save_channels(motion)
    children: list[list[int]] = [[] for _ in range(J)]
    for j, p in enumerate(sk.parents.tolist()[1:], start=1):
        children[p].append(j)
    tabs = ["\t" * d for d in range(_MAX_INDENT + 3)]
    lines = ["HIERARCHY"]
    order: list[int] = []
    stack: list[tuple[int, int, bool]] = [(0, 0, False)]  # (joint, depth, closing its block)
    while stack:
        j, depth, closing = stack.pop()
        d = min(depth, _MAX_INDENT)
        ind, ind1 = tabs[d], tabs[d + 1]
        if closing:
            if j in sk.end_sites:
                lines.append(f"{ind1}End Site")
                lines.append(f"{ind1}{{")
                lines.append(f"{tabs[d + 2]}OFFSET {' '.join(_fmt(v) for v in sk.end_sites[j])}")
                lines.append(f"{ind1}}}")
            lines.append(f"{ind}}}")
            continue
        lines.append(f"{ind}{'ROOT' if j == 0 else 'JOINT'} {sk.names[j]}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind1}OFFSET {' '.join(_fmt(v) for v in sk.offsets[j])}")
        lines.append(f"{ind1}CHANNELS {len(channels[j])}" + "".join(" " + c for c in channels[j]))
        order.append(j)
        stack.append((j, depth, True))
        stack.extend((c, depth + 1, False) for c in reversed(children[j]))
    if order != list(range(J)):
        raise ValueError("skeleton joints are not in depth-first order; cannot write BVH channel columns")
    T = motion.num_frames
    lines += ["MOTION", f"Frames: {T}", f"Frame Time: {1.0 / motion.fps:.8g}"]
    # every channel's column, gathered from (T, J, 3) positions and (T, J, 3) Euler angles
    pos = np.array(motion.local_offsets())
    pos[:, 0] = motion.root_positions
    euler = np.zeros((T, J, 3))
    by_order: dict[str, list[int]] = {}
    rot_axes = ["".join(c[0] for c in chans if c in ROTATION_CHANNELS) for chans in channels]
    for j, axes in enumerate(rot_axes):
        if axes:
            by_order.setdefault(_full_order(axes), []).append(j)
    if T:
        for full, js in by_order.items():
            euler[:, js] = np_quat_to_euler(motion.rotations[:, js], full, degrees=True)
    cols: list[int] = []  # into the (T, 2 * J * 3) table [positions | Euler angles]
    for j, chans in enumerate(channels):
        r = 0
        for c in chans:
            if c in POSITION_CHANNELS:
                cols.append(3 * j + "XYZ".index(c[0]))
            else:
                cols.append(3 * J + 3 * j + r)
                r += 1
    if T:
        if cols:
            data = np.concatenate([pos.reshape(T, -1), euler.reshape(T, -1)], axis=1)[:, cols]
            data = np.where(np.abs(data) < 0.5 * 10.0 ** -precision, 0.0, data)  # no "-0.000000"
            buf = io.StringIO()
            np.savetxt(buf, data, fmt=f"%.{precision}f", delimiter=" ")
            lines.append(buf.getvalue().rstrip("\n"))
        else:
            lines += [""] * T  # a frame without channels is an empty line
    return "\n".join(lines) + "\n"


def save(motion: Motion, path: str | os.PathLike, precision: int = 6) -> Path:
    """Write ``motion`` as a BVH file that DCC tools (Blender, MotionBuilder, Maya) open.

    Each joint keeps its channel layout and Euler order from the skeleton; channels are added
    only where the motion needs them (see ``_save_channels``). ``load(save(m))`` equals ``m`` to
    about ``10**-precision`` in degrees and file units. The text is built first and written under a
    temporary name that is renamed onto ``path`` when complete (:func:`motion3d.outputs.atomic_output`),
    so an interrupted save never leaves a truncated file. Whether an existing file may be replaced
    is the caller's decision (the tools check with :func:`motion3d.outputs.check_output`).
    """
    path = Path(path)
    text = dumps(motion, precision)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        tmp.write_text(text)
    return path
