"""Hostile and broken ASF/AMC files, crafted in each test: NaN/inf, empty files, frame numbers out
of sequence, and an AMC whose motion would be far larger than the file (issue 16)."""
from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from motion3d.io import FormatError, amc
from tests.io.test_amc import SMALL_AMC, SMALL_ASF

MB = 1 << 20


def write_pair(tmp_path, asf: str = SMALL_ASF, amc_text: str = SMALL_AMC):
    (tmp_path / "s.asf").write_text(asf)
    (tmp_path / "s_01.amc").write_text(amc_text)
    return tmp_path / "s_01.amc", tmp_path / "s.asf"


def line_of(text: str, snippet: str) -> int:
    """1-based line number of ``snippet`` (its first character) in ``text``."""
    return text[: text.index(snippet)].count("\n") + 1


@pytest.mark.parametrize("old, new, match", [
    ("length 1.5", "length nan", "length has a NaN or infinite value"),
    ("direction 1 0 0", "direction nan 0 0", "direction has a NaN or infinite value"),
    ("axis 0.1 0.2 0.3 XYZ", "axis 0.1 inf 0.3 XYZ", "axis has a NaN or infinite value"),
    ("position 0 0 0", "position 0 nan 0", "root position has a NaN"),
    ("orientation 0 0 0", "orientation inf 0 0", "root orientation has a NaN"),
    ("length 1.0", "length nan", "length has a NaN"),  # the :units length
    ("id 2", "id nan", "id has a NaN or infinite value"),
    ("id 2", "id 1e999", "id has a NaN or infinite value"),
    ("(-3.0 3.0)", "(nan 3.0)", "limits with a NaN value"),
])
def test_nan_and_inf_in_the_asf_name_the_asf_and_line(tmp_path, old, new, match):
    assert SMALL_ASF.count(old) == 1
    line = line_of(SMALL_ASF, old)
    amc_path, asf_path = write_pair(tmp_path, SMALL_ASF.replace(old, new))
    for fn, arg in ((amc.read_asf, asf_path), (amc.load, amc_path)):
        with pytest.raises(FormatError, match=match) as err:
            fn(arg)
        assert err.value.path == str(asf_path) and err.value.line == line, str(err.value)


def test_infinite_limits_are_open_limits(tmp_path):
    _, asf_path = write_pair(tmp_path, SMALL_ASF.replace("(-3.0 3.0)", "(-inf inf)"))
    a = amc.read_asf(asf_path)
    lo, hi = a.bone("a").limits[0]
    assert lo == -np.inf and hi == np.inf


@pytest.mark.parametrize("old, new, match", [
    ("c -0.2", "c nan", "bone 'c' has a NaN or infinite value in frame 2"),
    ("root 1.5 2 3", "root inf 2 3", "bone 'root' has a NaN or infinite value in frame 2"),
    ("\n2\n", "\n3\n", "frame number 3 follows frame 1: .* \\(expected 2\\)"),
    ("\n2\n", "\n1\n", "frame number 1 follows frame 1"),
])
def test_bad_amc_values_and_frame_numbers_name_the_amc_and_line(tmp_path, old, new, match):
    assert SMALL_AMC.count(old) == 1
    line = line_of(SMALL_AMC, old) + old.startswith("\n")
    amc_path, _ = write_pair(tmp_path, amc_text=SMALL_AMC.replace(old, new))
    with pytest.raises(FormatError, match=match) as err:
        amc.load(amc_path)
    assert err.value.path == str(amc_path) and err.value.line == line, str(err.value)


def test_frames_may_start_at_any_number_but_must_count_up(tmp_path):
    body = SMALL_AMC.replace("\n1\n", "\n0\n").replace("\n2\n", "\n1\n")
    amc_path, _ = write_pair(tmp_path, amc_text=body)
    assert amc.load(amc_path).num_frames == 2
    amc_path, _ = write_pair(tmp_path, amc_text=SMALL_AMC + "4\nroot 0 0 0 0 0 0\na 0 0\nc 0\n")
    with pytest.raises(FormatError, match="frame number 4 follows frame 2") as err:
        amc.load(amc_path)
    assert err.value.line == 11


@pytest.mark.parametrize("asf_text", ["", "# only a comment\n\n", ":version 1.10\n:name nothing\n"])
def test_empty_asf_is_blamed_on_the_asf(tmp_path, asf_text):
    amc_path, asf_path = write_pair(tmp_path, asf_text)
    with pytest.raises(FormatError, match="empty or not an ASF file") as err:
        amc.load(amc_path)
    assert err.value.path == str(asf_path)


def test_bone_missing_from_the_asf_names_the_asf(tmp_path):
    asf = SMALL_ASF.replace("    a b c\n", "    a b\n").replace(SMALL_ASF[SMALL_ASF.index("  begin\n    id 3"):
                                                                       SMALL_ASF.index(":hierarchy")], "")
    amc_path, asf_path = write_pair(tmp_path, asf)
    with pytest.raises(FormatError, match=f"unknown bone 'c' \\(not in the skeleton of {asf_path}\\)") as err:
        amc.load(amc_path)
    assert err.value.path == str(amc_path) and err.value.line == 6


@pytest.mark.parametrize("body, line", [("", 1), ("# nothing here\n", 1), (":FULLY-SPECIFIED\n:RADIANS\n", 2)])
def test_amc_without_frames_is_refused(tmp_path, body, line):
    amc_path, _ = write_pair(tmp_path, amc_text=body)
    with pytest.raises(FormatError, match="no frames") as err:
        amc.load(amc_path)
    assert err.value.path == str(amc_path) and err.value.line == line


def test_saving_a_motion_without_frames_is_refused(tmp_path):
    amc_path, _ = write_pair(tmp_path)
    m = amc.load(amc_path)
    with pytest.raises(ValueError, match="without frames"):
        amc.save(m[:0], tmp_path / "empty.amc", asf=tmp_path / "s.asf")
    assert not (tmp_path / "empty.amc").exists()


def test_motion_far_larger_than_the_amc_is_refused(tmp_path):
    """3,000 bones in the ASF, 12,000 frames listing only the root (300 KB): 1.1 GB of rotations."""
    B, T = 3000, 12_000
    bones = "".join(f"  begin\n    id {k}\n    name b{k}\n    direction 0 1 0\n    length 1\n"
                    f"    axis 0 0 0 XYZ\n    dof rx ry rz\n  end\n" for k in range(1, B + 1))
    asf = (":version 1.10\n:name wide\n:units\n  length 1\n  angle deg\n:root\n  order TX TY TZ RX RY RZ\n"
           "  axis XYZ\n  position 0 0 0\n  orientation 0 0 0\n:bonedata\n" + bones
           + ":hierarchy\n  begin\n    root " + " ".join(f"b{k}" for k in range(1, B + 1)) + "\n  end\n")
    body = ":FULLY-SPECIFIED\n:DEGREES\n" + "".join(f"{k}\nroot 0 0 0 0 0 0\n" for k in range(1, T + 1))
    amc_path, _ = write_pair(tmp_path, asf, body)
    assert amc_path.stat().st_size < 400_000
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(FormatError, match="12000 frames x 3001 joints would need 1.1 GiB") as err:
            amc.load(amc_path)
        elapsed, peak = time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.path == str(amc_path)
    assert elapsed < 5.0 and peak < 200 * MB, (elapsed, peak / MB)
