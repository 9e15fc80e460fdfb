"""Acclaim ASF/AMC (the CMU motion-capture format): skeleton ``.asf`` + motion ``.amc``.

Conventions of the format, as the CMU files and the Acclaim specification use them:

* ASF ``direction`` vectors are in the **world** frame of the rest pose; a bone's vector is
  ``direction * length``. Bones hanging from the root start at the root.
* A bone's ``axis ax ay az ORDER`` gives its local frame ``C`` (Euler angles, applied in the
  order written, about fixed axes: ``"XYZ"`` means ``C = Rz(az) Ry(ay) Rx(ax)``). The AMC values
  of a bone are rotations about the axes of ``C`` in its ``dof`` order, applied in that order
  (``dof rx ry rz``: ``M = Rz Ry Rx``; missing axes are zero). The bone's rotation relative to its
  parent in the world-aligned rest frame is ``L = C M C^-1``.
* The root's ``order`` lists its AMC channels (``TX TY TZ RX RY RZ``); its rotation is built the
  same way with ``C`` from ``orientation`` (in the root's ``axis`` order). AMC root translations are
  absolute positions; the ASF ``position`` is the root's rest position.
* ``:units`` ``length`` is kept as metadata: lengths stay in file units (``Asf.meters_per_unit``
  converts under the Acclaim convention that ``length`` scales inches); ``angle deg|rad`` sets
  the unit of ``axis``/``orientation``/``limits``. An AMC's ``:DEGREES``/``:RADIANS`` sets the unit
  of its values (the ASF's angle unit when absent).

Mapping to :class:`motion3d.Skeleton` (the one used by CMU's own BVH conversions): joint 0 is
``root``; every ASF bone is a joint **at the start of the bone**, rotating by ``L``. A joint's
offset is its parent bone's vector (zero for bones hanging from the root, whose start is the
root); a leaf bone's vector is its End Site. Joints are in depth-first order of the hierarchy
(so the skeleton also saves as BVH). Skeleton channels are BVH-style: the root
``Xposition Yposition Zposition Zrotation Yrotation Xrotation``, a bone with dofs
``Zrotation Yrotation Xrotation`` (intrinsic ZYX = the ASF ``rx ry rz`` order when ``C = I``),
a bone without dofs none.

Frame rate: AMC files do not store it; CMU captures are 120 fps (``fps`` argument).
Every problem raises :class:`motion3d.io.FormatError` with the file and line: NaN or infinite
numbers (limits may be ``inf``), an ASF without sections, an AMC without frames, frame numbers
that do not count up by one, and a motion far larger than the AMC data that describes it.
"""
from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motion3d.geometry.rotations import np_euler_to_quat, np_quat_mul, np_quat_to_euler
from motion3d.io import FormatError
from motion3d.motion import Motion
from motion3d.skeleton import Skeleton

__all__ = ["Asf", "AsfBone", "read_asf", "load_asf", "load", "save", "write_asf", "asf_from_skeleton",
           "find_asf"]

_ROT_DOFS = ("rx", "ry", "rz")
_ROOT_CHANNELS = ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation")
_BONE_CHANNELS = ("Zrotation", "Yrotation", "Xrotation")
_CONJ = np.array([-1.0, -1.0, -1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# The ASF description
# ---------------------------------------------------------------------------------------------
@dataclass(eq=False)
class AsfBone:
    """One ASF bone. ``direction`` (3,) unit vector in the world rest frame; ``axis`` (3,)
    degrees with its ``axis_order`` (e.g. ``"XYZ"``); ``dof`` the rotation channels in AMC order
    (subset of ``rx ry rz``); ``limits`` one ``(lo, hi)`` pair per dof (degrees) when given."""

    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray = field(default_factory=lambda: np.zeros(3))
    axis_order: str = "XYZ"
    dof: tuple[str, ...] = ()
    limits: list[tuple[float, float]] = field(default_factory=list)
    parent: str = "root"
    id: int = 0

    @property
    def vector(self) -> np.ndarray:
        """``(3,)`` the bone from its start to its end, file units."""
        return self.direction * self.length


@dataclass(eq=False)
class Asf:
    """A parsed ASF file. ``bones`` are in depth-first hierarchy order; angles are in degrees."""

    name: str = "VICON"
    version: str = "1.10"
    mass: float = 1.0
    length_unit: float = 1.0
    angle_unit: str = "deg"
    root_order: tuple[str, ...] = ("TX", "TY", "TZ", "RX", "RY", "RZ")
    root_axis: str = "XYZ"
    root_position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    root_orientation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    bones: list[AsfBone] = field(default_factory=list)
    documentation: str = ""

    @property
    def meters_per_unit(self) -> float:
        """Metres per file unit under the Acclaim convention (``length`` scales inches):
        ``0.0254 / length`` (CMU: 1 unit = 1/0.45 inch = 5.64 cm)."""
        return 0.0254 / self.length_unit

    def bone(self, name: str) -> AsfBone:
        for b in self.bones:
            if b.name == name:
                return b
        raise KeyError(f"no bone named {name!r}")

    def root_dofs(self) -> tuple[str, ...]:
        """The root's rotation channels in AMC order, e.g. ``("rx", "ry", "rz")``."""
        return tuple(c.lower() for c in self.root_order if c.upper().startswith("R"))

    def skeleton(self) -> Skeleton:
        """The :class:`Skeleton` of this ASF (see the module docstring for the mapping)."""
        names = ["root"] + [b.name for b in self.bones]
        index = {n: i for i, n in enumerate(names)}
        parents = [-1] + [index[b.parent] for b in self.bones]
        vectors = [np.zeros(3)] + [b.vector for b in self.bones]
        offsets = np.zeros((len(names), 3))
        offsets[0] = self.root_position
        for j in range(1, len(names)):
            offsets[j] = vectors[parents[j]]  # the root's "vector" is zero: its bones start at it
        has_child = set(parents[1:])
        ends = {j: vectors[j] for j in range(1, len(names)) if j not in has_child}
        channels = [_ROOT_CHANNELS] + [_BONE_CHANNELS if b.dof else () for b in self.bones]
        return Skeleton(names, np.array(parents), offsets, channels, ends)


def _axis_quat(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """ASF ``axis``/``orientation``: ``(3,)`` degrees about X, Y and Z (in that order, whatever
    ``order`` is), applied in ``order`` about fixed axes -> ``(4,)`` xyzw."""
    a = np.asarray(angles_deg, dtype=np.float64)
    return np_euler_to_quat(a[["XYZ".index(c) for c in order.upper()]], order.lower(), degrees=True)


def _full_order(dof: tuple[str, ...]) -> str:
    """Rotation dofs in AMC order -> a full extrinsic order string (missing axes appended)."""
    axes = "".join(d[1] for d in dof)
    return axes + "".join(a for a in "xyz" if a not in axes)


def _dof_quat(values: np.ndarray, dof: tuple[str, ...], degrees: bool) -> np.ndarray:
    """``(T, k)`` dof values -> ``(T, 4)`` quaternions of ``M`` (applied in dof order)."""
    T = values.shape[0]
    angles = np.zeros((T, 3))
    angles[:, : len(dof)] = values
    return np_euler_to_quat(angles, _full_order(dof), degrees=degrees)


# ---------------------------------------------------------------------------------------------
# ASF parsing
# ---------------------------------------------------------------------------------------------
def _read_text(path: Path, what: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FormatError(path, f"no such {what} file") from None
    except IsADirectoryError:
        raise FormatError(path, f"is a directory, not an {what} file") from None
    if b"\x00" in data[:4096]:
        raise FormatError(path, f"binary data: not a text {what} file", 1)
    return data.decode("utf-8", errors="replace")


def _nums(path, lineno, tokens, n, what) -> list[float]:
    """The first ``n`` tokens as finite floats."""
    if len(tokens) < n:
        raise FormatError(path, f"{what} needs {n} numbers, found {len(tokens)}", lineno)
    try:
        vals = [float(t) for t in tokens[:n]]
    except ValueError:
        raise FormatError(path, f"{what} has a value that is not a number: {' '.join(tokens)!r}", lineno) from None
    if not all(math.isfinite(v) for v in vals):
        raise FormatError(path, f"{what} has a NaN or infinite value: {' '.join(tokens)!r}", lineno)
    return vals


def _check_order(path, lineno, order: str) -> str:
    order = order.upper()
    if sorted(order) != ["X", "Y", "Z"]:
        raise FormatError(path, f"rotation order {order!r} must be a permutation of XYZ", lineno)
    return order


def read_asf(path: str | os.PathLike) -> Asf:
    """Parse an ASF file into an :class:`Asf` (angles converted to degrees)."""
    path = Path(path)
    lines = _read_text(path, "ASF").splitlines()
    asf = Asf()
    angle_scale = 1.0  # to degrees
    section = None
    bone: dict | None = None
    raw_bones: list[dict] = []
    hierarchy: list[tuple[int, list[str]]] = []
    docs: list[str] = []
    in_limits = False
    sections: set[str] = set()
    for i, raw in enumerate(lines):
        lineno = i + 1
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = line.split()
        key = tokens[0].lower()
        if key.startswith(":"):
            section = key
            sections.add(key)
            in_limits = False
            if key == ":version" and len(tokens) > 1:
                asf.version = tokens[1]
            elif key == ":name" and len(tokens) > 1:
                asf.name = " ".join(tokens[1:])
            elif key not in (":units", ":documentation", ":root", ":bonedata", ":hierarchy",
                             ":version", ":name", ":skin"):
                raise FormatError(path, f"unknown ASF section {tokens[0]!r}", lineno)
            continue
        if section == ":documentation":
            docs.append(raw.strip())
        elif section == ":units":
            if key == "mass":
                asf.mass = _nums(path, lineno, tokens[1:], 1, "mass")[0]
            elif key == "length":
                asf.length_unit = _nums(path, lineno, tokens[1:], 1, "length")[0]
                if not asf.length_unit > 0:
                    raise FormatError(path, f"length unit must be positive, got {asf.length_unit}", lineno)
            elif key == "angle":
                unit = tokens[1].lower() if len(tokens) > 1 else ""
                if unit not in ("deg", "rad"):
                    raise FormatError(path, f"angle unit must be 'deg' or 'rad', got {unit!r}", lineno)
                angle_scale = 1.0 if unit == "deg" else 180.0 / np.pi
                asf.angle_unit = unit
            else:
                raise FormatError(path, f"unknown unit {tokens[0]!r}", lineno)
        elif section == ":root":
            if key == "order":
                order = tuple(t.upper() for t in tokens[1:])
                bad = [t for t in order if t not in ("TX", "TY", "TZ", "RX", "RY", "RZ")]
                if bad or len(set(order)) != len(order):
                    raise FormatError(path, f"bad root order {' '.join(tokens[1:])!r}", lineno)
                asf.root_order = order
            elif key == "axis":
                asf.root_axis = _check_order(path, lineno, tokens[1] if len(tokens) > 1 else "")
            elif key == "position":
                asf.root_position = np.array(_nums(path, lineno, tokens[1:], 3, "root position"))
            elif key == "orientation":
                asf.root_orientation = np.array(_nums(path, lineno, tokens[1:], 3, "root orientation")) * angle_scale
            else:
                raise FormatError(path, f"unknown root field {tokens[0]!r}", lineno)
        elif section == ":bonedata":
            if key == "begin":
                if bone is not None:
                    raise FormatError(path, "'begin' inside a bone block (missing 'end')", lineno)
                bone = {"line": lineno, "limits": []}
                in_limits = False
            elif key == "end":
                if bone is None:
                    raise FormatError(path, "'end' without 'begin'", lineno)
                raw_bones.append(bone)
                bone = None
            elif bone is None:
                raise FormatError(path, f"{tokens[0]!r} outside a bone's begin/end block", lineno)
            elif key == "id":
                bone["id"] = int(_nums(path, lineno, tokens[1:], 1, "id")[0])  # finite: int() cannot fail
            elif key == "name":
                if len(tokens) < 2:
                    raise FormatError(path, "bone without a name", lineno)
                bone["name"] = tokens[1]
            elif key == "direction":
                bone["direction"] = np.array(_nums(path, lineno, tokens[1:], 3, "direction"))
            elif key == "length":
                bone["length"] = _nums(path, lineno, tokens[1:], 1, "length")[0]
            elif key == "axis":
                bone["axis"] = np.array(_nums(path, lineno, tokens[1:], 3, "axis")) * angle_scale
                bone["axis_order"] = _check_order(path, lineno, tokens[4] if len(tokens) > 4 else "XYZ")
            elif key == "dof":
                dof = tuple(t.lower() for t in tokens[1:])
                trans = [d for d in dof if d not in _ROT_DOFS]
                if trans:
                    raise FormatError(path, f"dof {' '.join(trans)} not supported (rotation dofs only: rx ry rz)",
                                      lineno)
                if len(set(dof)) != len(dof):
                    raise FormatError(path, f"repeated dof in {' '.join(tokens[1:])!r}", lineno)
                bone["dof"] = dof
            elif key == "limits" or (in_limits and line.startswith("(")):
                text = line[len("limits"):] if key == "limits" else line
                for lo, hi in re.findall(r"\(\s*(\S+)\s+(\S+?)\s*\)", text):
                    try:
                        pair = (float(lo) * angle_scale, float(hi) * angle_scale)
                    except ValueError:
                        raise FormatError(path, f"bad limits {text.strip()!r}", lineno) from None
                    if math.isnan(pair[0]) or math.isnan(pair[1]):  # inf is an open limit, NaN nothing
                        raise FormatError(path, f"limits with a NaN value: {text.strip()!r}", lineno)
                    bone["limits"].append(pair)
                in_limits = True
                continue
            elif key == "bodymass" or key == "cofmass":
                pass
            else:
                raise FormatError(path, f"unknown bone field {tokens[0]!r}", lineno)
            in_limits = False
        elif section == ":hierarchy":
            if key in ("begin", "end"):
                continue
            hierarchy.append((lineno, tokens))
        elif section == ":skin":
            continue
        else:
            raise FormatError(path, f"unexpected {tokens[0]!r} outside of any ASF section", lineno)
    if bone is not None:
        raise FormatError(path, "the file ends inside a bone block (truncated?)", len(lines))
    if not sections & {":root", ":bonedata"}:
        raise FormatError(path, "empty or not an ASF file: no ':root' or ':bonedata' section", max(len(lines), 1))
    asf.documentation = "\n".join(docs)
    asf.bones = _resolve_bones(path, raw_bones, hierarchy, len(lines))
    return asf


def _resolve_bones(path, raw_bones: list[dict], hierarchy: list[tuple[int, list[str]]], nlines: int) -> list[AsfBone]:
    """Check the parsed bone blocks against the ``:hierarchy`` and order them depth-first."""
    by_name: dict[str, dict] = {}
    for b in raw_bones:
        for k in ("name", "direction", "length"):
            if k not in b:
                raise FormatError(path, f"bone block without '{k}'", b["line"])
        if b["name"] in by_name or b["name"] == "root":
            raise FormatError(path, f"bone name {b['name']!r} appears twice", b["line"])
        if b.get("limits") and len(b["limits"]) != len(b.get("dof", ())):
            raise FormatError(path, f"bone {b['name']!r} has {len(b['limits'])} limits for "
                                    f"{len(b.get('dof', ()))} dofs", b["line"])
        by_name[b["name"]] = b
    children: dict[str, list[str]] = {}
    parent_of: dict[str, str] = {}
    for lineno, tokens in hierarchy:
        p = tokens[0]
        if p != "root" and p not in by_name:
            raise FormatError(path, f"hierarchy names unknown bone {p!r}", lineno)
        for c in tokens[1:]:
            if c not in by_name:
                raise FormatError(path, f"hierarchy names unknown bone {c!r}", lineno)
            if c in parent_of:
                raise FormatError(path, f"bone {c!r} has two parents in the hierarchy", lineno)
            parent_of[c] = p
            children.setdefault(p, []).append(c)
    orphans = [n for n in by_name if n not in parent_of]
    if orphans:
        raise FormatError(path, f"bones missing from the :hierarchy: {', '.join(orphans)}", nlines)
    order: list[str] = []
    stack = list(reversed(children.get("root", [])))
    while stack:
        n = stack.pop()
        order.append(n)
        stack.extend(reversed(children.get(n, [])))
    if len(order) != len(by_name):
        cyc = sorted(set(by_name) - set(order))
        raise FormatError(path, f"bones not reachable from the root (cycle?): {', '.join(cyc)}", nlines)
    bones = []
    for n in order:
        b = by_name[n]
        d = b["direction"]
        norm = np.linalg.norm(d)
        bones.append(AsfBone(
            name=n, direction=d / norm if norm > 0 else d, length=float(b["length"]),
            axis=b.get("axis", np.zeros(3)), axis_order=b.get("axis_order", "XYZ"),
            dof=b.get("dof", ()), limits=b["limits"], parent=parent_of[n], id=b.get("id", 0),
        ))
    return bones


def load_asf(path: str | os.PathLike) -> Skeleton:
    """The :class:`Skeleton` of an ASF file (file length units)."""
    return read_asf(path).skeleton()


def find_asf(amc_path: str | os.PathLike) -> Path:
    """The ASF next to an AMC: ``01_01.amc -> 01.asf`` (subject prefix before the last ``_``),
    else ``01_01.asf``, else the only ``.asf`` in the folder."""
    amc_path = Path(amc_path)
    stem = amc_path.stem
    candidates = []
    if "_" in stem:
        candidates.append(amc_path.with_name(stem.rsplit("_", 1)[0] + ".asf"))
    candidates.append(amc_path.with_suffix(".asf"))
    for c in candidates:
        if c.exists():
            return c
    others = sorted(amc_path.parent.glob("*.asf"))
    if len(others) == 1:
        return others[0]
    raise FormatError(amc_path, "no skeleton file found: looked for "
                      + ", ".join(str(c) for c in candidates) + "; pass asf_path=")


# ---------------------------------------------------------------------------------------------
# AMC parsing
# ---------------------------------------------------------------------------------------------
_NAME = re.compile(r"^[ \t]*([A-Za-z_][^\s]*)", re.M)
_HEADER_END = re.compile(r"^[ \t]*\d+[ \t]*\r?$", re.M)


#: a Motion may need at most this many times the characters of its AMC (beyond _SIZE_FLOOR bytes):
#: real takes list every bone in every frame and stay far below
_SIZE_RATIO = 64
_SIZE_FLOOR = 1 << 30


def _parse_amc_fast(text: str, asf: Asf, default_degrees: bool):
    """The vectorised path for regular files (every frame lists the same bones in the same
    order, frames numbered 1..T): bone names are located by one regular expression and all
    numbers are read by one numpy call. Returns ``None`` when the file is not regular (the
    line-oriented parser then finds and reports the problem)."""
    m = _HEADER_END.search(text)
    if m is None:
        return None
    header, body = text[: m.start()], text[m.start():]
    degrees = default_degrees
    for line in header.splitlines():
        s = line.strip()
        if not s or s[0] == "#":
            continue
        kw = s.split()[0].upper()
        if kw == ":DEGREES":
            degrees = True
        elif kw == ":RADIANS":
            degrees = False
        elif kw != ":FULLY-SPECIFIED":
            return None
    if "#" in body or ":" in body:
        return None
    names = _NAME.findall(body)
    dof_count = {b.name: len(b.dof) for b in asf.bones}
    dof_count["root"] = len(asf.root_order)
    if not names:
        return None
    first = names.index(names[0], 1) if names.count(names[0]) > 1 else len(names)
    order = names[:first]
    if len(set(order)) != len(order) or any(n not in dof_count for n in order):
        return None
    T = len(names) // len(order)
    if names != order * T:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a non-number stops the C parser early: caught by the size check
        try:
            numbers = np.fromstring(_NAME.sub(" ", body), sep=" ")
        except ValueError:
            return None
    C = sum(dof_count[n] for n in order)
    if numbers.size != T * (1 + C):
        return None
    table = numbers.reshape(T, 1 + C)
    if not np.array_equal(table[:, 0], np.arange(1, T + 1)) or not np.isfinite(table).all():
        return None
    out, c = {}, 1
    for n in order:
        out[n] = table[:, c: c + dof_count[n]]
        c += dof_count[n]
    return degrees, out, T


def _parse_amc(path: Path, text: str, asf: Asf, default_degrees: bool, asf_name: str = "the ASF"):
    """Returns ``(degrees, {bone name: (T, k) values}, T)`` with ``root`` included; ``T >= 1``.
    Frame numbers must count up by one (from any first number)."""
    fast = _parse_amc_fast(text, asf, default_degrees)
    if fast is not None:
        return fast
    lines = text.splitlines()
    dof_count = {b.name: len(b.dof) for b in asf.bones}
    dof_count["root"] = len(asf.root_order)
    degrees = default_degrees
    values: dict[str, list[list[str]]] = {}
    rows_at: dict[str, list[int]] = {}  # line number of each row
    reference: list[str] | None = None  # the bones listed in the first frame
    frame_bones: list[str] = []
    frame_start = 0
    num_frames = 0
    frame_number = 0  # the number written on the current frame's line

    def close_frame(lineno):
        nonlocal reference
        if num_frames == 0:
            return
        if reference is None:
            reference = list(frame_bones)
            return
        if len(frame_bones) != len(reference) or set(frame_bones) != set(reference):
            missing = [b for b in reference if b not in frame_bones]
            extra = [b for b in frame_bones if b not in reference]
            what = f"lacks {', '.join(missing)}" if missing else f"has bones the first frame lacks: {', '.join(extra)}"
            raise FormatError(path, f"frame {num_frames} {what}", frame_start)

    last = 0
    for i, raw in enumerate(lines):
        lineno = i + 1
        s = raw.strip()
        if not s or s[0] == "#":
            continue
        if s[0] == ":":
            if num_frames:
                raise FormatError(path, f"header keyword {s.split()[0]!r} after the first frame", lineno)
            kw = s.split()[0].upper()
            if kw == ":DEGREES":
                degrees = True
            elif kw == ":RADIANS":
                degrees = False
            elif kw not in (":FULLY-SPECIFIED",):
                raise FormatError(path, f"unknown AMC keyword {s.split()[0]!r}", lineno)
            continue
        last = lineno
        tokens = s.split()
        if len(tokens) == 1 and tokens[0].isascii() and tokens[0].isdigit():
            number = int(tokens[0])
            if num_frames and number != frame_number + 1:
                raise FormatError(path, f"frame number {number} follows frame {frame_number}: AMC frames are "
                                        f"numbered consecutively (expected {frame_number + 1})", lineno)
            frame_number = number
            close_frame(lineno - 1)
            num_frames += 1
            frame_bones = []
            frame_start = lineno
            continue
        if num_frames == 0:
            raise FormatError(path, f"bone data {tokens[0]!r} before the first frame number", lineno)
        name = tokens[0]
        if name not in dof_count:
            raise FormatError(path, f"unknown bone {name!r} (not in the skeleton of {asf_name})", lineno)
        if len(tokens) - 1 != dof_count[name]:
            raise FormatError(path, f"bone {name!r} has {len(tokens) - 1} values but {dof_count[name]} dofs in the ASF",
                              lineno)
        if name in frame_bones:
            raise FormatError(path, f"bone {name!r} appears twice in frame {num_frames}", lineno)
        frame_bones.append(name)
        values.setdefault(name, []).append(tokens[1:])
        rows_at.setdefault(name, []).append(lineno)
    if num_frames == 0:
        raise FormatError(path, "no frames: the AMC holds no frame number (empty or truncated file?)",
                          max(len(lines), 1))
    if num_frames and reference is not None:
        if len(frame_bones) < len(reference) and set(frame_bones) <= set(reference):
            missing = [b for b in reference if b not in frame_bones]
            raise FormatError(path, f"truncated: the last frame ({num_frames}) lacks {', '.join(missing)}", last)
        close_frame(last)
    out = {}
    for name, rows in values.items():
        try:
            arr = np.array(rows, dtype=np.float64).reshape(num_frames, dof_count[name])
        except ValueError:
            for k, row in enumerate(rows):
                for t in row:
                    try:
                        float(t)
                    except ValueError:
                        raise FormatError(path, f"bone {name!r} in frame {k + 1}: {t!r} is not a number",
                                          rows_at[name][k]) from None
            raise FormatError(path, f"bone {name!r}: could not read its values", rows_at[name][0]) from None
        if not np.isfinite(arr).all():
            k = int(np.flatnonzero(~np.isfinite(arr).all(1))[0])
            raise FormatError(path, f"bone {name!r} has a NaN or infinite value in frame {k + 1}", rows_at[name][k])
        out[name] = arr
    return degrees, out, num_frames


def load(amc_path: str | os.PathLike, asf_path: str | os.PathLike | Asf | None = None,
         fps: float = 120.0, up: str = "y", to_meters: bool = False) -> Motion:
    """Read an AMC motion on its ASF skeleton into a :class:`Motion` (file length units).

    Args:
        amc_path: the ``.amc`` file.
        asf_path: the ``.asf`` file (or a parsed :class:`Asf`); default: found next to the AMC by
            subject prefix (``01_01.amc -> 01.asf``, see :func:`find_asf`).
        fps: frames per second (AMC does not store it; CMU is 120).
        up: the file's up axis (``"y"`` for CMU; ``"z"``/``"auto"`` convert to Y-up).
        to_meters: scale lengths by :attr:`Asf.meters_per_unit` (default: file units, as CMU's
            BVH conversions use them).
    Returns:
        A Motion with ``(T, J, 4)`` local rotations ``C M C^-1`` per bone and ``(T, 3)`` root
        positions, J = 1 + number of bones. Bones with dofs that the AMC never lists stay at
        identity.
    """
    amc_path = Path(amc_path)
    if isinstance(asf_path, Asf):
        asf, asf_name = asf_path, f"the Asf {asf_path.name!r}"
    else:
        source = Path(asf_path) if asf_path is not None else find_asf(amc_path)
        asf, asf_name = read_asf(source), str(source)
    text = _read_text(amc_path, "AMC")
    degrees, values, T = _parse_amc(amc_path, text, asf, default_degrees=asf.angle_unit == "deg", asf_name=asf_name)
    skeleton = asf.skeleton()
    J = skeleton.num_joints
    need = T * J * 4 * 8  # the (T, J, 4) float64 rotations
    if need > _SIZE_FLOOR and need > _SIZE_RATIO * len(text):
        raise FormatError(amc_path, f"{T} frames x {J} joints would need {need / 2**30:.1f} GiB, but the AMC holds "
                                    f"only {len(text)} characters (most bones are never listed): refusing to "
                                    "allocate it")
    rotations = np.zeros((T, J, 4))
    rotations[..., 3] = 1.0
    # the root
    root_vals = values.get("root", np.zeros((T, len(asf.root_order))))
    root_positions = np.broadcast_to(asf.root_position, (T, 3)).copy()
    rot_cols = []
    for k, ch in enumerate(asf.root_order):
        if ch.startswith("T"):
            root_positions[:, "XYZ".index(ch[1])] = root_vals[:, k]
        else:
            rot_cols.append(k)
    if rot_cols:
        qc = _axis_quat(asf.root_orientation, asf.root_axis)
        qm = _dof_quat(root_vals[:, rot_cols], asf.root_dofs(), degrees)
        rotations[:, 0] = np_quat_mul(np_quat_mul(qc, qm), qc * _CONJ)
    # the bones: one vectorised conversion per bone
    for j, b in enumerate(asf.bones, start=1):
        if not b.dof or b.name not in values:
            continue
        qc = _axis_quat(b.axis, b.axis_order)
        qm = _dof_quat(values[b.name], b.dof, degrees)
        rotations[:, j] = np_quat_mul(np_quat_mul(qc, qm), qc * _CONJ)
    if to_meters:
        skeleton, root_positions = skeleton.scaled(asf.meters_per_unit), root_positions * asf.meters_per_unit
    motion = Motion(skeleton, rotations, root_positions, fps, name=amc_path.stem)
    if up.lower() != "y":
        from motion3d.ops import to_y_up

        motion = to_y_up(motion, up=up)
    return motion


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def asf_from_skeleton(skeleton: Skeleton, length_unit: float = 1.0) -> Asf:
    """An :class:`Asf` for a bone-shaped skeleton: all children of a joint share one offset (the
    joint's bone vector), the root's children have zero offsets, and every bone gets
    ``axis 0 0 0 XYZ`` and ``dof rx ry rz`` (so any rotation is representable). The CMU skeletons
    (from ASF or CMU's BVH) are bone-shaped.

    Raises:
        ValueError: naming the joint whose children disagree, for other skeletons.
    """
    sk = skeleton
    asf = Asf(length_unit=length_unit, root_position=sk.offsets[0].copy())
    for j in range(1, sk.num_joints):
        kids = sk.children(j)
        if kids:
            offs = sk.offsets[kids]
            if not np.allclose(offs, offs[0], atol=1e-9):
                raise ValueError(f"joint {sk.names[j]!r} has children at different offsets: an ASF bone has "
                                 "one end, so this skeleton cannot be written as ASF")
            vec = offs[0]
        else:
            vec = sk.end_sites.get(j, np.zeros(3))
        length = float(np.linalg.norm(vec))
        direction = vec / length if length > 0 else np.array([0.0, 1.0, 0.0])
        parent = "root" if sk.parents[j] == 0 else sk.names[sk.parents[j]]
        asf.bones.append(AsfBone(sk.names[j], direction, length, dof=_ROT_DOFS, parent=parent, id=j))
    kids = sk.children(0)
    if kids and not np.allclose(sk.offsets[kids], 0.0, atol=1e-9):
        raise ValueError("the root's children must start at the root (zero offsets) to be written as ASF bones")
    return asf


def _fmt(v: float) -> str:
    return f"{float(v):.9g}"


def write_asf(asf: Asf, path: str | os.PathLike) -> Path:
    """Write an :class:`Asf` (degrees, file length units)."""
    path = Path(path)
    out = [
        "# ASF written by motion3d",
        f":version {asf.version}",
        f":name {asf.name}",
        ":units",
        f"  mass {_fmt(asf.mass)}",
        f"  length {_fmt(asf.length_unit)}",
        "  angle deg",
    ]
    if asf.documentation:
        out.append(":documentation")
        out += ["   " + d for d in asf.documentation.splitlines()]
    out += [
        ":root",
        "   order " + " ".join(asf.root_order),
        f"   axis {asf.root_axis}",
        "   position " + " ".join(_fmt(v) for v in asf.root_position),
        "   orientation " + " ".join(_fmt(v) for v in asf.root_orientation),
        ":bonedata",
    ]
    for k, b in enumerate(asf.bones, start=1):
        out += [
            "  begin",
            f"     id {b.id or k}",
            f"     name {b.name}",
            "     direction " + " ".join(_fmt(v) for v in b.direction),
            f"     length {_fmt(b.length)}",
            "     axis " + " ".join(_fmt(v) for v in b.axis) + f"  {b.axis_order}",
        ]
        if b.dof:
            out.append("    dof " + " ".join(b.dof))
            if b.limits:
                lim = [f"({_fmt(lo)} {_fmt(hi)})" for lo, hi in b.limits]
                out.append("    limits " + lim[0])
                out += ["           " + x for x in lim[1:]]
        out.append("  end")
    out += [":hierarchy", "  begin"]
    children: dict[str, list[str]] = {}
    for b in asf.bones:
        children.setdefault(b.parent, []).append(b.name)
    for p in ["root"] + [b.name for b in asf.bones]:
        if p in children:
            out.append(f"    {p} " + " ".join(children[p]))
    out.append("  end")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")
    return path


def _dof_values(q_local: np.ndarray, qc: np.ndarray, dof: tuple[str, ...], what: str) -> np.ndarray:
    """Invert ``L = C M C^-1``: ``(T, 4)`` local rotations -> ``(T, k)`` dof values in degrees."""
    qm = np_quat_mul(np_quat_mul(qc * _CONJ, q_local), qc)
    order = _full_order(dof)
    angles = np_quat_to_euler(qm, order, degrees=True) if len(qm) else np.zeros((0, 3))
    k = len(dof)
    if k < 3 and len(qm):
        back = np_euler_to_quat(np.concatenate([angles[:, :k], np.zeros((len(qm), 3 - k))], 1), order)
        if not np.allclose(np.abs((back * qm).sum(-1)), 1.0, atol=1e-8):
            raise ValueError(f"{what}: the motion rotates about axes that its dofs ({' '.join(dof) or 'none'}) "
                             "cannot express; save with a skeleton from asf_from_skeleton()")
    return angles[:, :k]


def save(motion: Motion, amc_path: str | os.PathLike, asf_path: str | os.PathLike | None = None,
         asf: Asf | str | os.PathLike | None = None) -> Path:
    """Write ``motion`` as AMC (degrees, ``:FULLY-SPECIFIED``) and, when ``asf_path`` is given, its ASF.

    Args:
        motion: a Motion on an ASF-shaped skeleton (joint 0 the root, joint j at the start of
            bone j; see :func:`asf_from_skeleton`).
        amc_path: the ``.amc`` to write.
        asf_path: where to write the skeleton (omit when the ASF already exists).
        asf: the :class:`Asf` (or ASF file) whose bone frames and dofs to write the values in,
            e.g. the file the motion came from; default: :func:`asf_from_skeleton` (identity
            axes, three dofs per bone).
    ``load(amc, asf)`` of the result equals ``motion`` (rotations and positions) to about 1e-6.

    Raises:
        ValueError: when the motion does not fit the skeleton (joint names, per-joint
            translations, rotations its dofs cannot express) or has no frames.
    """
    amc_path = Path(amc_path)
    if asf is None:
        asf = asf_from_skeleton(motion.skeleton)
    elif not isinstance(asf, Asf):
        asf = read_asf(asf)
    names = ["root"] + [b.name for b in asf.bones]
    if names[1:] != motion.skeleton.names[1:] or len(names) != motion.num_joints:
        raise ValueError(f"motion joints {motion.skeleton.names[:4]}... do not match the ASF bones {names[:4]}...")
    if motion.translations is not None and not np.allclose(
            motion.translations[:, 1:], motion.skeleton.offsets[1:], atol=1e-9):
        raise ValueError("AMC cannot store per-joint translations (animated offsets)")
    T = motion.num_frames
    if T == 0:
        raise ValueError("an AMC file cannot hold a motion without frames (a file without frames is refused "
                         "as empty when read)")
    cols: list[np.ndarray] = []
    line_fmt = ["%d"]
    root_fields = []
    root_rot = [k for k, c in enumerate(asf.root_order) if c.startswith("R")]
    root_angles = _dof_values(motion.rotations[:, 0], _axis_quat(asf.root_orientation, asf.root_axis),
                              asf.root_dofs(), "root") if root_rot else np.zeros((T, 0))
    r = 0
    for c in asf.root_order:
        if c.startswith("T"):
            cols.append(motion.root_positions[:, "XYZ".index(c[1])])
        else:
            cols.append(root_angles[:, r])
            r += 1
        root_fields.append("%.9g")
    line_fmt.append("root " + " ".join(root_fields))
    for j, b in enumerate(asf.bones, start=1):
        if not b.dof:
            if not np.allclose(np.abs(motion.rotations[:, j, 3]), 1.0, atol=1e-8):
                raise ValueError(f"bone {b.name!r} has no dofs but the motion rotates it")
            continue
        vals = _dof_values(motion.rotations[:, j], _axis_quat(b.axis, b.axis_order), b.dof, f"bone {b.name!r}")
        cols += list(vals.T)
        line_fmt.append(f"{b.name} " + " ".join(["%.9g"] * len(b.dof)))
    data = np.column_stack([np.arange(1, T + 1)] + cols) if T else np.zeros((0, 1 + len(cols)))
    asf_name = Path(asf_path).name if asf_path is not None else _asf_name(amc_path)
    header = f"#!OML:ASF {asf_name}\n# AMC written by motion3d\n:FULLY-SPECIFIED\n:DEGREES\n"
    lines = "\n".join(line_fmt)
    body = "".join(lines % tuple(row) + "\n" for row in data.tolist())
    amc_path.parent.mkdir(parents=True, exist_ok=True)
    amc_path.write_text(header + body)
    if asf_path is not None:
        write_asf(asf, asf_path)
    return amc_path


def _asf_name(amc_path: Path) -> str:
    """The ASF file name that :func:`find_asf` looks for first."""
    stem = amc_path.stem
    return (stem.rsplit("_", 1)[0] if "_" in stem else stem) + ".asf"
