"""motion3d.outputs: refusing outputs that are inputs or exist, atomic writes, SIGTERM as a clean exit."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from motion3d.outputs import OutputError, atomic_output, check_output, exit_on_sigterm, is_same_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def clip(tmp_path):
    p = tmp_path / "clip.bvh"
    p.write_bytes(b"HIERARCHY original bytes")
    return p


def test_output_onto_an_input_is_refused_in_every_spelling(tmp_path, clip, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    os.symlink(clip, tmp_path / "link.bvh")
    os.link(clip, tmp_path / "hard.bvh")
    for spelling in (clip, "clip.bvh", "./sub/../clip.bvh", tmp_path / "link.bvh", tmp_path / "hard.bvh"):
        for force in (False, True):  # --force never allows writing onto an input
            with pytest.raises(OutputError, match="refusing to write onto an input") as err:
                check_output(spelling, inputs=[clip], force=force)
            assert str(spelling) in str(err.value)
    # the input given by another spelling is caught too
    with pytest.raises(OutputError, match="input"):
        check_output(clip, inputs=[None, "sub/../hard.bvh"], force=True)
    assert clip.read_bytes() == b"HIERARCHY original bytes"


def test_existing_output_needs_force_and_suffix_is_checked(tmp_path, clip):
    out = tmp_path / "out.bvh"
    assert check_output(out, inputs=[clip]) == out  # absent: fine
    out.write_text("earlier result")
    with pytest.raises(OutputError, match=r"out\.bvh: output exists; pass --force"):
        check_output(out, inputs=[clip])
    assert check_output(out, inputs=[clip], force=True) == out
    with pytest.raises(OutputError, match=r"--video must end in \.mp4 or \.gif, got '\.txt'"):
        check_output(tmp_path / "v.txt", suffixes=(".mp4", ".gif"), what="--video")
    assert check_output(tmp_path / "V.MP4", suffixes=(".mp4",)) == tmp_path / "V.MP4"
    with pytest.raises(OutputError, match="existing folder"):
        check_output(tmp_path, force=True)
    assert is_same_file(clip, tmp_path / "missing" / ".." / "clip.bvh")  # lexically the same file
    assert not is_same_file(clip, out)


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_atomic_output_renames_on_success_and_keeps_the_old_file_on_any_exception(tmp_path):
    out = tmp_path / "deep" / "out.mp4"
    with atomic_output(out) as tmp:
        assert tmp.parent == out.parent and tmp.suffix == ".mp4" and tmp != out
        assert not out.exists()
        tmp.write_bytes(b"new")
    assert out.read_bytes() == b"new" and _only(out.parent) == ["out.mp4"]
    for exc in (RuntimeError("boom"), KeyboardInterrupt(), SystemExit(143)):
        with pytest.raises(type(exc)):
            with atomic_output(out) as tmp:
                tmp.write_bytes(b"half-written")
                raise exc
        assert out.read_bytes() == b"new" and _only(out.parent) == ["out.mp4"]


def test_sigterm_becomes_a_clean_exit_that_removes_the_temporary_file(tmp_path):
    out = tmp_path / "out.bin"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from motion3d.outputs import atomic_output, exit_on_sigterm
        exit_on_sigterm()
        with atomic_output({str(out)!r}) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"partial")
                f.flush()
                print("writing", flush=True)
                time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert len(_only(tmp_path)) == 1  # the temporary file
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _only(tmp_path) == []


def test_exit_on_sigterm_is_harmless_outside_the_main_thread():
    import threading

    before = signal.getsignal(signal.SIGTERM)
    t = threading.Thread(target=exit_on_sigterm)
    t.start()
    t.join()
    assert signal.getsignal(signal.SIGTERM) is before


def test_outputs_get_the_mode_of_any_new_file_not_mkstemps_0600(tmp_path):
    out = tmp_path / "clip.bvh"
    old = os.umask(0o027)
    try:
        with atomic_output(out) as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o640       # 0o666 under the umask 0o027
    with atomic_output(tmp_path / "b.bvh") as tmp:
        tmp.write_bytes(b"x")
    assert (tmp_path / "b.bvh").stat().st_mode & 0o777 == 0o666 & ~old
