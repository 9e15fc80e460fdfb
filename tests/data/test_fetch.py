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
