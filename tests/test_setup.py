"""Set-up on a fresh machine: the one system-package list, `make system-packages` as root and not,
and the Open3D requirement of the tests (skip outside CI, fail under CI)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_open3d

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_FILE = ROOT / "system-packages.txt"

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def listed_packages(path: Path = PACKAGE_FILE) -> list[str]:
    words = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [w for w in words if w]


def fake_bin(tmp_path: Path, uid: int, installed: list[str], dpkg: bool = True) -> Path:
    """A folder of stand-ins: ``id`` (uid), ``dpkg-query`` (knows ``installed``), ``apt-get`` (logs)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "id": f'#!/bin/sh\n[ "$1" = -u ] && echo {uid} && exit 0\nexec /usr/bin/id "$@"\n',
        "apt-get": f'#!/bin/sh\necho "$*" >> {tmp_path / "apt.log"}\n',
    }
    if dpkg:
        scripts["dpkg-query"] = (
            "#!/bin/sh\n"  # dpkg-query -W -f=FORMAT PKG: 'ii ' when installed, else an error
            f'for p in {" ".join(installed)}; do [ "$3" = "$p" ] && echo "ii " && exit 0; done\n'
            'echo "dpkg-query: no packages found matching $3" >&2; exit 1\n')
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def make_system_packages(tmp_path, uid, installed, package_file=PACKAGE_FILE, dpkg=True):
    bin_dir = fake_bin(tmp_path, uid, installed, dpkg)
    if dpkg:
        path = f"{bin_dir}:{os.environ['PATH']}"
    else:  # a machine without dpkg: only the tools the recipe needs
        for tool in ("sed", "grep"):
            (bin_dir / tool).symlink_to(shutil.which(tool))
        path = str(bin_dir)
    env = {**os.environ, "PATH": path}
    res = subprocess.run([MAKE, "-s", "--no-print-directory", "system-packages",
                          f"SYSTEM_PACKAGES_FILE={package_file}"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    log = tmp_path / "apt.log"
    return res, (log.read_text().splitlines() if log.exists() else [])


def test_package_list_is_one_file_read_by_make_and_ci():
    pkgs = listed_packages()
    assert "libusb-1.0-0" in pkgs and "libegl1" in pkgs and len(pkgs) == len(set(pkgs))
    makefile = (ROOT / "Makefile").read_text()
    assert "system-packages.txt" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make system-packages" in ci
    for pkg in pkgs:  # no second copy of the list
        assert pkg not in ci, pkg
        assert pkg not in makefile, pkg


@needs_make
def test_non_root_prints_the_exact_apt_line_with_the_files_packages(tmp_path):
    res, apt = make_system_packages(tmp_path, uid=1000, installed=["libgomp1"])
    assert res.returncode == 0, res.stderr
    assert apt == []  # never calls apt-get without root
    missing = [p for p in listed_packages() if p != "libgomp1"]
    line = "sudo apt-get update && sudo apt-get install -y --no-install-recommends " + " ".join(missing)
    assert line in res.stdout.splitlines()[-1], res.stdout
    assert "system packages missing: " + " ".join(missing) in res.stdout


@needs_make
def test_root_installs_only_what_is_missing(tmp_path):
    pkgs = tmp_path / "pkgs.txt"
    pkgs.write_text("# comment\nlibusb-1.0-0\nlibvulkan1  # trailing comment\n\nlibegl1\n")
    res, apt = make_system_packages(tmp_path, uid=0, installed=["libvulkan1"], package_file=pkgs)
    assert res.returncode == 0, res.stderr
    assert apt == ["update -qq", "install -y --no-install-recommends -qq libusb-1.0-0 libegl1"]
    assert "installing system packages: libusb-1.0-0 libegl1" in res.stdout


@needs_make
def test_root_with_everything_installed_is_quiet_and_calls_no_apt(tmp_path):
    res, apt = make_system_packages(tmp_path, uid=0, installed=listed_packages())
    assert (res.returncode, res.stdout, apt) == (0, "", [])


@needs_make
def test_without_dpkg_says_what_to_install_and_goes_on(tmp_path):
    res, apt = make_system_packages(tmp_path, uid=0, installed=[], dpkg=False)
    assert res.returncode == 0, res.stderr
    assert apt == []
    assert "not Debian/Ubuntu" in res.stdout and " ".join(listed_packages()) in res.stdout


def make_install_with(tmp_path, python3_script: str, venv: Path | None = None):
    """``make install`` into ``tmp_path/venv`` with the system packages all there and ``python3``
    replaced by ``python3_script`` (called as ``python3 -m venv DIR``)."""
    tmp_path.mkdir(exist_ok=True)
    bin_dir = fake_bin(tmp_path, uid=1000, installed=listed_packages())
    python3 = bin_dir / "python3"
    python3.write_text(python3_script)
    python3.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    venv = venv or tmp_path / "venv"
    res = subprocess.run([MAKE, "-s", "--no-print-directory", "install", f"VENV={venv}",
                          f"PYTHON3={python3}"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return res, venv


@needs_make
def test_venv_without_debians_venv_package_says_what_to_install_and_leaves_no_half_venv(tmp_path):
    # what Debian's python3 does without python3-venv: a venv folder with bin/python, no pip, exit 1
    res, venv = make_install_with(tmp_path, (
        '#!/bin/sh\nmkdir -p "$3/bin" && ln -s /bin/true "$3/bin/python"\n'
        'echo "The virtual environment was not created successfully because ensurepip is not available."\n'
        "exit 1\n"))
    assert res.returncode != 0
    pkg = [p for p in listed_packages() if p.endswith("-venv")]
    assert pkg == ["python3-venv"]
    assert "ensurepip is not available" in res.stdout  # Python's own message stays
    assert ("sudo apt-get update && sudo apt-get install -y --no-install-recommends python3-venv"
            in res.stdout.splitlines()[-1]), res.stdout
    assert not venv.exists()  # the next run makes the venv again instead of using a pip-less one


@needs_make
def test_install_makes_the_venv_then_torch_then_the_package_preferring_wheels(tmp_path):
    log = tmp_path / "python.log"
    fake_python = tmp_path / "fake_python"
    # the venv's python: logs its arguments; "import torch" fails, so the CPU torch gets installed
    fake_python.write_text(f'#!/bin/sh\necho "$*" >> {log}\n[ "$1" = -c ] && exit 1\nexit 0\n')
    fake_python.chmod(0o755)
    res, venv = make_install_with(
        tmp_path, f'#!/bin/sh\nmkdir -p "$3/bin" && ln -s {fake_python} "$3/bin/python"\n')
    assert res.returncode == 0, res.stdout + res.stderr
    calls = log.read_text().splitlines()
    assert calls == ["-m pip install -q --upgrade pip", "-c import torch",
                     "-m pip install -q torch==2.13.0",
                     "-m pip install -q --prefer-binary -e .[all]"]
    assert (venv / ".installed").exists()


@needs_make
def test_a_venv_left_without_pip_gets_it_from_ensurepip_or_says_what_to_install(tmp_path):
    # a venv an older make left behind: bin/python is there, "-m pip" is not
    log = tmp_path / "python.log"
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for ensurepip_rc, make_ok in ((1, False), (0, True)):
        (venv / "bin" / "python").write_text(
            f'#!/bin/sh\necho "$*" >> {log}\ncase "$*" in\n'
            f'  "-m pip --version"|"-c import torch") exit 1;;\n  "-m ensurepip") exit {ensurepip_rc};;\n'
            "esac\nexit 0\n")
        (venv / "bin" / "python").chmod(0o755)
        log.unlink(missing_ok=True)
        res, _ = make_install_with(tmp_path / f"run{ensurepip_rc}", "#!/bin/sh\nexit 1\n", venv=venv)
        calls = log.read_text().splitlines()
        assert calls[:2] == ["-m pip --version", "-m ensurepip"]
        assert venv.exists()  # never removes a venv it did not just make
        if make_ok:
            assert res.returncode == 0, res.stdout + res.stderr
            assert calls[-1] == "-m pip install -q --prefer-binary -e .[all]"
        else:
            assert res.returncode != 0 and len(calls) == 2
            assert "has no pip and ensurepip failed" in res.stdout
            last = res.stdout.splitlines()[-1]
            assert "sudo apt-get install -y --no-install-recommends python3-venv" in last


def test_readme_setup_points_at_the_package_file():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    assert "system-packages.txt" in setup and "make test" in setup and "make demo" in setup
    for pkg in listed_packages():  # the README points at the list, it does not copy it
        assert pkg not in readme, pkg


# ---------------------------------------------------------------------------------------------
# require_open3d: one rule for every test that needs Open3D
# ---------------------------------------------------------------------------------------------

class _BrokenOpen3d:
    """A meta-path finder whose ``open3d`` import fails like a missing shared library does."""

    def __init__(self, err: Exception):
        self.err = err

    def find_spec(self, name, path=None, target=None):
        if name == "open3d":
            raise self.err
        return None


@pytest.fixture
def broken_open3d(monkeypatch):
    def install(err):
        monkeypatch.delitem(sys.modules, "open3d", raising=False)
        monkeypatch.setattr(sys, "meta_path", [_BrokenOpen3d(err), *sys.meta_path])
    return install


@pytest.mark.parametrize("err", [
    ImportError("libusb-1.0.so.0: cannot open shared object file: No such file or directory"),
    OSError("libGL.so.1: cannot open shared object file"),
    ModuleNotFoundError("No module named 'open3d'"),
])
def test_require_open3d_skips_outside_ci_with_the_reason(broken_open3d, monkeypatch, err):
    monkeypatch.delenv("CI", raising=False)
    broken_open3d(err)
    with pytest.raises(pytest.skip.Exception) as info:
        require_open3d()
    msg = str(info.value)
    assert str(err) in msg and type(err).__name__ in msg and "system-packages.txt" in msg


def test_require_open3d_fails_under_ci(broken_open3d, monkeypatch):
    monkeypatch.setenv("CI", "true")
    broken_open3d(ImportError("libusb-1.0.so.0: cannot open shared object file"))
    with pytest.raises(pytest.fail.Exception, match="libusb-1.0.so.0"):
        require_open3d()


def test_require_open3d_returns_the_module_when_it_loads(monkeypatch):
    fake = type(sys)("open3d")
    monkeypatch.setitem(sys.modules, "open3d", fake)
    monkeypatch.setenv("CI", "true")
    assert require_open3d() is fake
