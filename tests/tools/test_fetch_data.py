"""tools/fetch_data.py end to end against a local HTTP server (in-process ``main`` for speed, one
run as a real subprocess)."""
from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

from tests.data.http_server import fixture_zip, serve, write_manifest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "fetch_data.py"
_spec = importlib.util.spec_from_file_location("fetch_data_tool", TOOL)
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def run(capsys, *args) -> tuple[int, str, str]:
    code = tool.main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fetch_data_cli(tmp_path, capsys):
    www = tmp_path / "www"
    www.mkdir()
    data = fixture_zip()
    (www / "toy.zip").write_bytes(data)
    with serve(www) as (url, _):
        files = [{"url": "toy.zip", "path": "toy.zip", "sha256": hashlib.sha256(data).hexdigest(), "extract": True}]
        manifest = write_manifest(tmp_path / "m.yaml", url, files)
        code, out, err = run(capsys, "toy", "--dest", tmp_path / "out", "--manifest", manifest, "--no-progress")
        assert code == 0, err
        assert "1 downloaded" in out and (tmp_path / "out" / "data" / "clip_0.txt").is_file()

        bad = write_manifest(tmp_path / "bad.yaml", url, [dict(files[0], sha256="1" * 64)])
        code, out, err = run(capsys, "toy", "--dest", tmp_path / "other", "--manifest", bad, "--no-progress")
        assert code == 1 and "checksum mismatch" in err
        assert (tmp_path / "other" / "toy.zip.bad").is_file() and not (tmp_path / "other" / "toy.zip").exists()

        code, out, _ = run(capsys, "regonly", "--dest", tmp_path / "amass", "--manifest", manifest)
        assert code == 0 and "https://example.org/register" in out and str(tmp_path / "amass") in out

        code, out, _ = run(capsys, "--list", "--manifest", manifest)
        assert code == 0 and "regonly" in out and "registration" in out


def test_project_manifest_as_a_script():
    out = subprocess.run([sys.executable, str(TOOL), "amass", "--dest", "/nonexistent/amass"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "amass.is.tue.mpg.de" in out.stdout and "/nonexistent/amass" in out.stdout
