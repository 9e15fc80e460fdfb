"""motion3d.data.fetch against a local HTTP server (nothing here reaches the internet)."""
from __future__ import annotations

import hashlib

import pytest

from motion3d.data.fetch import ChecksumError, FetchError, download, fetch_dataset, load_manifest
from tests.data.http_server import fixture_zip, serve, write_manifest


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture()
def site(tmp_path):
    """A served folder with a zip archive and a label file; yields (folder, base_url, log)."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "toy.zip").write_bytes(fixture_zip())
    (www / "labels.txt").write_bytes(b"dataset-1_walk\ndataset-1_run")
    with serve(www) as (url, log):
        yield www, url, log


def toy_files(www, zip_sha=None, labels_sha=None):
    return [
        {"url": "toy.zip", "path": "toy.zip", "sha256": zip_sha or sha((www / "toy.zip").read_bytes()), "extract": True},
        {"url": "labels.txt", "path": "cfg/content_label.txt", "sha256": labels_sha or sha((www / "labels.txt").read_bytes())},
    ]


def test_download_checksum_and_extract(site, tmp_path):
    www, url, log = site
    manifest = write_manifest(tmp_path / "manifest.yaml", url, toy_files(www))
    dest = tmp_path / "out"
    result = fetch_dataset("toy", dest, manifest, progress=False)
    assert not result.registration and len(result.downloaded) == 2
    assert (dest / "toy.zip").read_bytes() == (www / "toy.zip").read_bytes()
    assert (dest / "cfg" / "content_label.txt").read_bytes() == b"dataset-1_walk\ndataset-1_run"
    assert (dest / "data" / "clip_2.txt").read_text().startswith("clip 2")
    assert not list(dest.rglob("*.part")) and not list(dest.rglob("*.bad"))
    # a second run verifies what is there and downloads nothing
    n = len(log)
    again = fetch_dataset("toy", dest, manifest, progress=False)
    assert len(again.skipped) == 2 and not again.downloaded and not again.extracted
    assert len(log) == n


def test_resume_from_a_partial_file(site, tmp_path):
    www, url, log = site
    data = (www / "toy.zip").read_bytes()
    target = tmp_path / "out" / "toy.zip"
    target.parent.mkdir()
    (target.parent / "toy.zip.part").write_bytes(data[:1000])
    got = download(f"{url}/toy.zip", target, sha(data), progress=False)
    assert got == sha(data) and target.read_bytes() == data
    assert log[-1] == ("/toy.zip", "bytes=1000-")
    assert not (target.parent / "toy.zip.part").exists()
    # a .part that is already complete: the server answers 416, the file is verified and kept
    target.unlink()
    (target.parent / "toy.zip.part").write_bytes(data)
    assert download(f"{url}/toy.zip", target, sha(data), progress=False) == sha(data)
    assert target.read_bytes() == data


def test_checksum_mismatch_keeps_good_files(site, tmp_path):
    www, url, log = site
    dest = tmp_path / "out"
    good = toy_files(www)
    fetch_dataset("toy", dest, write_manifest(tmp_path / "good.yaml", url, good), progress=False)
    before = {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    # the label file changes upstream; the manifest still has the old hash
    (www / "labels.txt").write_bytes(b"tampered")
    (dest / "cfg" / "content_label.txt").unlink()
    manifest = write_manifest(tmp_path / "m.yaml", url, good)
    with pytest.raises(ChecksumError, match="content_label.txt") as err:
        fetch_dataset("toy", dest, manifest, progress=False)
    assert err.value.actual == sha(b"tampered")
    bad = dest / "cfg" / "content_label.txt.bad"
    assert bad.read_bytes() == b"tampered" and err.value.bad_path == bad
    assert not (dest / "cfg" / "content_label.txt").exists()
    for p, b in before.items():  # nothing that was good has been touched
        if p.name != "content_label.txt":
            assert p.read_bytes() == b
    # a mismatch on a file that is already in place leaves it in place
    (www / "labels.txt").write_bytes(b"dataset-1_walk\ndataset-1_run")
    fetch_dataset("toy", dest, manifest, progress=False)
    target = dest / "toy.zip"
    with pytest.raises(ChecksumError):
        download(f"{url}/labels.txt", target, "0" * 64, progress=False)
    assert target.read_bytes() == (www / "toy.zip").read_bytes()


def test_unknown_hash_is_reported_not_invented(site, tmp_path):
    www, url, _ = site
    files = [{"url": "labels.txt", "path": "labels.txt", "sha256": None}]
    result = fetch_dataset("toy", tmp_path / "out", write_manifest(tmp_path / "m.yaml", url, files), progress=False)
    assert result.unverified == {str(tmp_path / "out" / "labels.txt"): sha((www / "labels.txt").read_bytes())}
    assert "not verified" in result.message


def test_registration_only_and_errors(site, tmp_path):
    www, url, _ = site
    manifest = write_manifest(tmp_path / "m.yaml", url, toy_files(www))
    result = fetch_dataset("regonly", tmp_path / "amass", manifest, progress=False)
    assert result.registration and not result.downloaded
    assert "https://example.org/register" in result.message and str(tmp_path / "amass") in result.message
    assert not (tmp_path / "amass").exists()
    with pytest.raises(FetchError, match="no dataset 'nope'"):
        fetch_dataset("nope", tmp_path, manifest)
    with pytest.raises(FetchError, match="HTTP 404"):
        download(f"{url}/missing.zip", tmp_path / "x.zip", progress=False)


def test_project_manifest_is_well_formed():
    datasets = load_manifest()
    for name in ("bandai-namco-1", "bandai-namco-2", "cmu-mocap-bvh", "amass"):
        assert name in datasets
    for name, entry in datasets.items():
        if name in ("bandai-namco-1", "bandai-namco-2", "cmu-mocap-bvh", "cmu-mocap-sample", "amass"):
            assert entry.get("licence") and entry.get("homepage") and entry.get("layout"), name
        if entry.get("access") == "registration":
            assert entry.get("register"), name
            continue
        for f in entry["files"]:
            assert f["url"].startswith("http"), name
            assert f.get("sha256") is None or len(f["sha256"]) == 64, name


# --------------------------------------------------------------------------- hostile archives and manifests
def _zip_bomb(path, mib=300):
    """A ~300 KB zip that unpacks to ``mib`` MiB of zeros, written in 1 MiB pieces."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("data/bomb.bin", "w") as f:
            for _ in range(mib):
                f.write(bytes(1 << 20))
    return path


def test_zip_bomb_refused_fast_and_small(tmp_path):
    import time
    import tracemalloc

    from motion3d.data.fetch import extract_archive

    bomb = _zip_bomb(tmp_path / "bomb.zip")
    assert bomb.stat().st_size < 400_000
    dest = tmp_path / "out"
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(FetchError, match=r"bomb\.zip: unpacks to 314572800 bytes, more than the limit"):
        extract_archive(bomb, dest)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 200 << 20
    assert not list(dest.rglob("*"))
    # an explicit limit (the manifest's max_extracted_size) lets a genuine large archive through
    small = tmp_path / "small.zip"
    small.write_bytes(fixture_zip())
    assert extract_archive(small, tmp_path / "ok", max_bytes=10**6) == [tmp_path / "ok" / "data"]
    with pytest.raises(FetchError, match="more than the limit of 1000 bytes"):
        extract_archive(small, tmp_path / "no", max_bytes=1000)


def test_zip_member_inflating_past_its_header_is_stopped(tmp_path):
    import struct
    import zipfile

    from motion3d.data.fetch import extract_archive

    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data/ok.txt", b"fine\n")
        z.writestr("data/liar.bin", bytes(5 << 20))
    raw = bytearray(path.read_bytes())
    # declare 100 bytes for the 5 MiB member in its local header and its central directory entry
    local = raw.index(b"PK\x03\x04data/liar.bin"[:4], raw.index(b"data/liar.bin") - 30)
    struct.pack_into("<I", raw, local + 22, 100)
    central = raw.index(b"PK\x01\x02", raw.index(b"PK\x01\x02") + 4)  # the second entry
    struct.pack_into("<I", raw, central + 24, 100)
    path.write_bytes(bytes(raw))
    assert zipfile.ZipFile(path).getinfo("data/liar.bin").file_size == 100
    dest = tmp_path / "out"
    with pytest.raises(FetchError, match="liar"):
        extract_archive(path, dest)
    assert not [p for p in dest.rglob("*") if p.is_file()]  # what was written is removed


def test_zip_member_outside_the_destination_is_refused(tmp_path):
    import zipfile

    from motion3d.data.fetch import extract_archive

    for name in ("../evil.txt", "/tmp/evil_abs.txt", "data/../../evil.txt"):
        path = tmp_path / "evil.zip"
        with zipfile.ZipFile(path, "w") as z:
            zi = zipfile.ZipInfo("data/ok.txt")
            z.writestr(zi, b"ok")
            zi = zipfile.ZipInfo("x")
            zi.filename = name  # ZipInfo normalises; set the raw name the way a hostile tool would
            z.writestr(zi, b"evil")
        with pytest.raises(FetchError, match="outside"):
            extract_archive(path, tmp_path / "out")
        assert not (tmp_path / "evil.txt").exists() and not list((tmp_path / "out").rglob("*.txt"))


def test_tar_members_lose_setuid_and_foreign_owners_and_cannot_escape(tmp_path):
    import io
    import os
    import stat
    import tarfile

    from motion3d.data.fetch import extract_archive

    def tar(path, members):
        with tarfile.open(path, "w:gz") as t:
            for name, mode, uid, data in members:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.uid, info.gid = len(data), mode, uid, uid
                info.uname = info.gname = "someone"
                t.addfile(info, io.BytesIO(data))
        return path

    good = tar(tmp_path / "a.tar.gz", [("data/run.sh", 0o6777, 12345, b"#!/bin/sh\n")])
    assert extract_archive(good, tmp_path / "out") == [tmp_path / "out" / "data"]
    st = (tmp_path / "out" / "data" / "run.sh").stat()
    assert not st.st_mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWOTH)
    assert st.st_uid == os.getuid() and st.st_gid == os.getgid()
    for name in ("../escape.txt", "/tmp/motion3d_abs_escape.txt"):
        bad = tar(tmp_path / "b.tar.gz", [("data/ok.txt", 0o644, 0, b"ok"), (name, 0o644, 0, b"evil")])
        with pytest.raises(FetchError, match="outside"):
            extract_archive(bad, tmp_path / "out2")
        assert not (tmp_path / "escape.txt").exists() and not os.path.exists("/tmp/motion3d_abs_escape.txt")
    with tarfile.open(tmp_path / "d.tar", "w") as t:        # links are never extracted
        link = tarfile.TarInfo("data/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(link)
        t.addfile(tarfile.TarInfo("data/empty.txt"), io.BytesIO(b""))
    extract_archive(tmp_path / "d.tar", tmp_path / "out4")
    assert not os.path.lexists(tmp_path / "out4" / "data" / "passwd")
    assert (tmp_path / "out4" / "data" / "empty.txt").stat().st_size == 0
    bomb = tar(tmp_path / "c.tar.gz", [("data/zeros.bin", 0o644, 0, bytes(2 << 20))])
    with pytest.raises(FetchError, match="more than the limit"):
        extract_archive(bomb, tmp_path / "out3", max_bytes=1 << 20)


@pytest.mark.parametrize("rel", ["../../outside/x.zip", "/tmp/motion3d_outside/x.zip", "sub/../../x.zip"])
def test_manifest_path_outside_the_dataset_folder_is_refused(site, tmp_path, rel):
    www, url, log = site
    files = [{"url": "toy.zip", "path": rel, "sha256": None, "extract": True}]
    manifest = write_manifest(tmp_path / "m.yaml", url, files)
    dest = tmp_path / "a" / "b" / "toy"
    with pytest.raises(FetchError, match=r"path .* would be written outside"):
        fetch_dataset("toy", dest, manifest, progress=False)
    assert not log  # refused before any download
    assert not (tmp_path / "a" / "outside").exists() and not (tmp_path / "a" / "b" / "x.zip").exists()
    files = [{"url": "toy.zip", "path": "toy.zip", "sha256": None, "extract": True, "extract_to": "../.."}]
    with pytest.raises(FetchError, match="extract_to '../..' would be written outside"):
        fetch_dataset("toy", dest, write_manifest(tmp_path / "m2.yaml", url, files), progress=False)


def test_download_stops_past_its_size(site, tmp_path):
    www, url, _ = site
    target = tmp_path / "toy.zip"
    with pytest.raises(FetchError, match="more than the 1000 bytes"):
        download(f"{url}/toy.zip", target, max_size=1000, progress=False)
    assert not target.exists() and not (tmp_path / "toy.zip.part").exists()
