"""Hostile and broken BVH files, crafted in each test: frame-count bombs refused in under a second
and 200 MB, NaN/inf refused naming file and line, odd line ends and keyword case read, and a
20,000-joint chain loaded and saved in linear time (issue 16)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from tests.security.bounds import refused_within_bounds
from motion3d.io import FormatError, bvh
from tests.conftest import assert_close
from tests.io.test_bvh import SIMPLE

MB = 1 << 20


def zero_channel_bomb(frames: int, joints: int = 40, frame_lines: str = "") -> str:
    """A ~1.5 KB hierarchy with ``CHANNELS 0`` on every joint and a false ``Frames:`` count."""
    lines = ["HIERARCHY", "ROOT j0", "{", "\tOFFSET 0 0 0", "\tCHANNELS 0"]
    for k in range(1, joints):
        lines += [f"JOINT j{k}", "{", "\tOFFSET 0 1 0", "\tCHANNELS 0"]
    lines += ["}"] * joints + ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"]
    return "\n".join(lines) + "\n" + frame_lines


@pytest.mark.parametrize("frames", [3_000_000, 999_999_999])
def test_zero_channel_frame_count_bomb_is_refused(tmp_path, frames):
    p = tmp_path / "bomb.bvh"
    p.write_text(zero_channel_bomb(frames))
    assert p.stat().st_size < 3000
    for fn in (bvh.load, bvh.read_header):
        err = refused_within_bounds(fn, p, match=f"'Frames: {frames}' but the hierarchy has no channels")
        assert err.path == str(p) and err.line is not None
        assert "only 0 (empty) frame lines" in str(err)


def test_zero_channel_file_with_its_frames_loads_and_round_trips(tmp_path):
    p = tmp_path / "static.bvh"
    p.write_text(zero_channel_bomb(3, joints=4, frame_lines="\n\n\n"))
    m = bvh.load(p)
    assert m.num_frames == 3 and m.num_joints == 4 and bvh.read_header(p)[1] == 3
    assert_close(m.rotations[..., 3], 1.0)
    back = bvh.load(bvh.save(m, tmp_path / "back.bvh"))  # the saver writes the 3 empty frame lines
    assert back.num_frames == 3
    with pytest.raises(FormatError, match="no channels, but a frame line holds values") as err:
        p.write_text(zero_channel_bomb(3, joints=4, frame_lines="\n0\n\n"))
        bvh.load(p)
    assert err.value.line == zero_channel_bomb(0, joints=4).count("\n") + 2


@pytest.mark.parametrize("fn", [bvh.load, bvh.read_header])
def test_declared_frames_checked_against_frame_lines(tmp_path, fn):
    head = SIMPLE[: SIMPLE.index("Frames:")]
    row = "0 " * 15
    p = tmp_path / "liar.bvh"
    p.write_text(head + "Frames: 999999999\nFrame Time: 0.04\n" + row + "\n" + row + "\n")
    err = refused_within_bounds(fn, p, match="truncated: 'Frames: 999999999' but only 2 complete frames")
    assert err.path == str(p) and err.line == 29
    p.write_text(head + "Frames: 1\nFrame Time: 0.04\n" + row + "\n" + row + "\n")
    err = refused_within_bounds(fn, p, match="more frames than 'Frames: 1' says")
    assert err.line == 29


def test_motion_far_larger_than_its_frame_data_is_refused(tmp_path):
    """2,000 joints without channels under a root with one channel: 10,000 frame lines of "0"
    (20 KB) would become 1.1 GB of rotations and offsets."""
    J, T = 2000, 10_000
    lines = ["HIERARCHY", "ROOT j0", "{", "OFFSET 0 0 0", "CHANNELS 1 Xposition"]
    for k in range(1, J):
        lines += [f"JOINT j{k}", "{", "OFFSET 0 1 0", "CHANNELS 0"]
    lines += ["}"] * J + ["MOTION", f"Frames: {T}", "Frame Time: 0.01"] + ["0"] * T
    p = tmp_path / "amplifier.bvh"
    p.write_text("\n".join(lines) + "\n")
    assert p.stat().st_size < 200_000
    err = refused_within_bounds(bvh.load, p, match="10000 frames x 2000 joints would need 1.0 GiB")
    assert err.path == str(p)


@pytest.mark.parametrize("old, new, line, match", [
    ("OFFSET 0 10 0", "OFFSET 0 nan 0", 8, "OFFSET has a NaN or infinite value"),
    ("OFFSET 0 5 0", "OFFSET 0 -inf 0", 12, "OFFSET has a NaN or infinite value"),  # an End Site
    ("2.5 -1.0E+01", "2.5 nan", 29, "frame 1 has a NaN or infinite value"),
    ("1 2 3 0 0 90", "1 2 inf 0 0 90", 28, "frame 0 has a NaN or infinite value"),
    ("Frame Time: 0.04", "Frame Time: inf", 27, "Frame Time must be positive and finite"),
    ("Frame Time: 0.04", "Frame Time: 0", 27, "Frame Time must be positive and finite"),
    ("Frame Time: 0.04", "Frame Time: -0.04", 27, "Frame Time must be positive and finite"),
    ("Frame Time: 0.04", "Frame Time: 1e-320", 27, "finite frame rate"),
    ("Frame Time: 0.04", "Frame Time: nan", 27, "Frame Time must be positive and finite"),
])
def test_nan_and_inf_name_file_and_line(tmp_path, old, new, line, match):
    assert SIMPLE.count(old) == 1
    p = tmp_path / "nonfinite.bvh"
    p.write_text(SIMPLE.replace(old, new))
    with pytest.raises(FormatError, match=match) as err:
        bvh.load(p)
    assert err.value.path == str(p) and err.value.line == line, str(err.value)
    if "Frame Time" in old:  # read_header reads the frame rate too
        with pytest.raises(FormatError, match=match):
            bvh.read_header(p)


@pytest.mark.parametrize("variant", ["cr", "crlf", "bom", "lowercase"])
def test_line_ends_bom_and_keyword_case_are_read(tmp_path, variant):
    text = {
        "cr": SIMPLE.replace("\n", "\r"),
        "crlf": SIMPLE.replace("\n", "\r\n"),
        "bom": "\ufeff" + SIMPLE,
        "lowercase": SIMPLE.replace("HIERARCHY", "hierarchy").replace("MOTION", "motion")
                           .replace("Frames", "frames").replace("ROOT", "root"),
    }[variant]
    ref = tmp_path / "ref.bvh"
    ref.write_text(SIMPLE)
    p = tmp_path / "variant.bvh"
    p.write_bytes(text.encode("utf-8"))
    a, b = bvh.load(ref), bvh.load(p)
    assert b.skeleton.names == a.skeleton.names == ["Hips", "Spine", "Leg"]
    assert_close(b.rotations, a.rotations, atol=0)
    assert_close(b.root_positions, a.root_positions, atol=0)
    assert bvh.read_header(p)[1:] == (2, pytest.approx(25.0))


def test_cr_only_truncated_file_names_the_right_line(tmp_path):
    p = tmp_path / "cr.bvh"
    p.write_bytes(SIMPLE.replace("2.5 -1.0E+01", "2.5 abc").replace("\n", "\r").encode())
    with pytest.raises(FormatError, match="not a number") as err:
        bvh.load(p)
    assert err.value.line == 29


def chain_bvh(J: int, frames: int = 2) -> str:
    lines = ["HIERARCHY", "ROOT j0", "{", "OFFSET 0 0 0",
             "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"]
    for k in range(1, J):
        lines += [f"JOINT j{k}", "{", "OFFSET 0 1 0", "CHANNELS 3 Zrotation Xrotation Yrotation"]
    lines += ["End Site", "{", "OFFSET 0 1 0", "}"] + ["}"] * J
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"]
    rng = np.random.default_rng(0)
    lines += [" ".join(f"{v:.3f}" for v in rng.uniform(-20, 20, 3 * J + 3)) for _ in range(frames)]
    return "\n".join(lines) + "\n"


def test_20000_joint_chain_loads_and_saves_in_linear_time(tmp_path):
    """A chain 20,000 joints deep: nothing may recurse per joint (the recursion limit is 1,000)
    and nothing may search a list of names per joint (quadratic: minutes)."""
    J = 20_000
    p = tmp_path / "chain.bvh"
    p.write_text(chain_bvh(J))
    t0 = time.perf_counter()
    m = bvh.load(p)
    out = bvh.save(m, tmp_path / "saved.bvh")
    back = bvh.load(out)
    sk = back.skeleton
    assert all(sk.index(f"j{k}") == k for k in range(0, J, 7))
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0, f"load + save + load of a {J}-joint chain took {elapsed:.1f} s"
    assert m.num_joints == back.num_joints == J and back.num_frames == 2
    assert np.array_equal(sk.parents, np.arange(-1, J - 1))
    assert_close(np.abs((back.rotations * m.rotations).sum(-1)), 1.0, atol=1e-9)
    assert_close(back.root_positions, m.root_positions, atol=1e-6)
    assert list(sk.end_sites) == [J - 1]
    # indentation stops growing: the file stays linear in the joints
    assert out.stat().st_size < 10 * p.stat().st_size


def test_duplicate_joint_name_with_brace_on_the_line(tmp_path):
    text = SIMPLE.replace("JOINT Leg\n\t{", "JOINT Spine {")
    p = tmp_path / "dup.bvh"
    p.write_text(text)
    with pytest.raises(FormatError, match="joint name 'Spine' appears twice") as err:
        bvh.load(p)
    assert err.value.line == 15
