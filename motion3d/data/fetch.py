"""Download and verify a dataset listed in ``data/manifest.yaml``.

A manifest entry (see ``data/README.md``) either lists ``files`` to download (``url``, ``path``
under the dataset folder, ``sha256`` or ``null``, ``extract`` for zip/tar archives), or says
``access: registration`` with ``register`` (where to sign up) and ``instructions`` (where to put
the files): :func:`fetch_dataset` then downloads nothing and returns those instructions.

Downloads go to ``<target>.part`` and resume from its size with an HTTP ``Range`` request. A file
whose sha256 differs from the manifest raises :class:`ChecksumError`; the download is kept aside
as ``<target>.bad`` and nothing already in place is touched. A target already present with the
right checksum is not downloaded again; archives are extracted once (a ``.<name>.extracted``
stamp records the archive's sha256).

Nothing from a manifest or an archive may write outside the dataset folder:

* a manifest ``path`` (or ``extract_to``) that is absolute or climbs out with ``..`` is refused;
* only regular files and folders are extracted from zip and tar archives (no links, devices or
  fifos), each member's path must stay inside the destination, and the files are written by this
  process (so owned by the user, mode 0o644, or 0o755 for executables, under the umask: no
  setuid/setgid/sticky bits, no foreign ownership). This does not depend on
  :func:`tarfile.data_filter`, which Python 3.11.2 (Debian bookworm) lacks;
* the total extracted size is bounded (archive bombs): by ``max_extracted_size`` (bytes) of the
  manifest entry when given, else :data:`EXTRACT_RATIO` times the archive's size but at least
  :data:`EXTRACT_FLOOR`. The members' declared sizes are summed before anything is written, and the
  bytes actually written are counted while streaming, so a member that inflates past its declared
  size stops the extraction; the files written so far are then removed;
* a download that sends more bytes than its ``Content-Length`` is stopped.
"""
from __future__ import annotations

import hashlib
import os
import tarfile
import urllib.error
import urllib.request
import zipfile
from zlib import error as zlib_error
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from motion3d.paths import REPO_ROOT, data_root

__all__ = [
    "DEFAULT_MANIFEST", "FetchError", "ChecksumError", "FetchResult",
    "load_manifest", "fetch_dataset", "download", "sha256_file", "extract_archive", "extract_limit",
    "EXTRACT_RATIO", "EXTRACT_FLOOR",
]

DEFAULT_MANIFEST = REPO_ROOT / "data" / "manifest.yaml"
_CHUNK = 1 << 16
#: default bound on extracted bytes: this many times the archive's size ...
EXTRACT_RATIO = 20
#: ... but never less than this (64 MiB)
EXTRACT_FLOOR = 64 << 20


class FetchError(RuntimeError):
    """A dataset could not be fetched (the message names the URL or file)."""


class ChecksumError(FetchError):
    """A download's sha256 is not the manifest's; the bytes are kept in ``bad_path``."""

    def __init__(self, url: str, target: Path, expected: str, actual: str, bad_path: Path):
        self.url, self.target, self.expected, self.actual, self.bad_path = url, target, expected, actual, bad_path
        super().__init__(
            f"checksum mismatch for {target.name} from {url}: expected sha256 {expected}, got {actual}; "
            f"the download is kept as {bad_path} and nothing else was changed"
        )


@dataclass
class FetchResult:
    """What :func:`fetch_dataset` did: ``dest`` folder, ``downloaded`` / ``skipped`` /
    ``extracted`` paths, ``unverified`` (no sha256 in the manifest: ``{path: computed sha256}``),
    and ``message`` (registration instructions, or a summary)."""

    name: str
    dest: Path
    downloaded: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    extracted: list[Path] = field(default_factory=list)
    unverified: dict[str, str] = field(default_factory=dict)
    registration: bool = False
    message: str = ""


def load_manifest(path: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """``{name: entry}`` of the manifest (default ``data/manifest.yaml``)."""
    path = Path(path) if path is not None else DEFAULT_MANIFEST
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise FetchError(f"{path}: cannot read the dataset manifest: {e}") from None
    datasets = (data or {}).get("datasets")
    if not isinstance(datasets, dict):
        raise FetchError(f"{path}: expected a top-level 'datasets:' mapping of name -> entry")
    return datasets


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress(total: int | None, initial: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                disable=not enabled, leave=False)


def download(url: str, target: Path, sha256: str | None = None, progress: bool = True,
             timeout: float = 60.0, max_size: int | None = None) -> str:
    """Download ``url`` to ``target`` through ``target.part`` (resumed with ``Range`` when it
    exists), check its sha256 and move it into place. Returns the sha256.

    The transfer stops when the server sends more bytes than its ``Content-Length`` said or the
    file grows past ``max_size``, and the ``.part`` is removed.

    Raises:
        ChecksumError: the file is moved to ``target.bad``; ``target`` is left as it was.
        FetchError: HTTP or network failure (the ``.part`` is kept for a later resume).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "motion3d-fetch"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            if have and status != 206:  # the server ignored the range: start again
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            limit = min(x for x in (total, max_size, float("inf")) if x is not None)
            got = have
            with open(part, "ab" if have else "wb") as out, _progress(total, have, target.name, progress) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    got += len(chunk)
                    if got > limit:
                        out.close()
                        part.unlink()
                        raise FetchError(f"download of {url} stopped: more than the {int(limit)} bytes announced "
                                         f"({'Content-Length' if limit == total else 'max_size'})")
                    out.write(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as e:
        if not (e.code == 416 and have):  # 416 with a .part: it is already complete
            raise FetchError(f"download of {url} failed: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        raise FetchError(f"download of {url} failed: {e} (partial data kept in {part}; run again to resume)") from None
    actual = sha256_file(part)
    if sha256 is not None and actual.lower() != sha256.lower():
        bad = target.with_name(target.name + ".bad")
        os.replace(part, bad)
        raise ChecksumError(url, target, sha256.lower(), actual, bad)
    os.replace(part, target)
    return actual


def _inside(folder: Path, rel: str | os.PathLike, what: str) -> Path:
    """``folder / rel``, refused when ``rel`` is absolute or leads outside ``folder``."""
    rel_s = os.fspath(rel)
    root = folder.resolve()
    p = (folder / rel_s).resolve()
    if Path(rel_s).is_absolute() or Path(rel_s).drive or (p != root and root not in p.parents):
        raise FetchError(f"{what} {rel_s!r} would be written outside {folder}")
    return folder / rel_s


def extract_limit(archive: Path, max_bytes: int | None = None) -> int:
    """Bytes an archive may unpack to: ``max_bytes`` when given, else ``EXTRACT_RATIO`` times its size,
    at least ``EXTRACT_FLOOR``."""
    if max_bytes is not None:
        return int(max_bytes)
    return max(EXTRACT_RATIO * Path(archive).stat().st_size, EXTRACT_FLOOR)


def _too_big(archive: Path, declared: int, limit: int) -> FetchError:
    return FetchError(f"{archive}: unpacks to {declared} bytes, more than the limit of {limit} bytes "
                      f"(an archive bomb? set max_extracted_size in the manifest entry if it is genuine)")


def _zip_members(z: zipfile.ZipFile) -> list:
    """A zip's members as ``(name, is_dir, declared size, executable, open)`` for :func:`_write_members`."""
    return [(i.filename, i.is_dir(), i.file_size, bool((i.external_attr >> 16) & 0o111), (lambda i=i: z.open(i)))
            for i in z.infolist()]


def _tar_members(t: tarfile.TarFile) -> list:
    """A tar's regular files and folders, as :func:`_zip_members` (links, devices, fifos left out)."""
    return [(m.name, m.isdir(), m.size, bool(m.mode & 0o111), (lambda m=m: t.extractfile(m)))
            for m in t.getmembers() if m.isfile() or m.isdir()]


def _write_members(members: list, archive: Path, dest: Path, limit: int) -> list[str]:
    """Write the members ourselves: paths checked to stay in ``dest``, files created by this process
    (so owned by the user, mode 0o644 or 0o755 under the umask: never setuid/setgid/sticky), declared
    sizes summed before writing and bytes counted while streaming. On any failure the files written
    so far are removed."""
    for name, *_ in members:
        _inside(dest, name, f"{archive}: member")
    declared = sum(size for _, is_dir, size, _, _ in members if not is_dir)
    if declared > limit:
        raise _too_big(archive, declared, limit)
    written: list[Path] = []
    total = 0
    try:
        for name, is_dir, declared_size, executable, open_member in members:
            target = dest / name
            if is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)     # never write through a link already in the folder
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755 if executable else 0o644)
            written.append(target)
            with open_member() as src, os.fdopen(fd, "wb") as out:
                size = 0
                for chunk in iter(lambda: src.read(_CHUNK), b""):
                    size += len(chunk)
                    total += len(chunk)
                    if size > declared_size or total > limit:
                        raise FetchError(f"{archive}: member {name!r} inflates past its declared size "
                                         f"({declared_size} bytes) or the limit ({limit} bytes); extraction stopped")
                    out.write(chunk)
    except BaseException as e:
        for p in written:
            p.unlink(missing_ok=True)
        if isinstance(e, (zipfile.BadZipFile, zlib_error)):
            raise FetchError(f"{archive}: damaged zip archive: {e}") from None
        if isinstance(e, (tarfile.TarError, EOFError)):
            raise FetchError(f"{archive}: damaged tar archive: {e}") from None
        raise
    return [name for name, *_ in members]


def extract_archive(archive: Path, dest: Path, max_bytes: int | None = None) -> list[Path]:
    """Extract a zip or tar (``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``) into
    ``dest``; members that would land outside ``dest`` are refused, only files and folders are
    written, and the total size is bounded by :func:`extract_limit` (see the module
    docstring). Returns the top-level paths."""
    archive = Path(archive)
    limit = extract_limit(archive, max_bytes)
    dest.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            names = _write_members(_zip_members(z), archive, dest, limit)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            names = _write_members(_tar_members(t), archive, dest, limit)
    else:
        raise FetchError(f"{archive}: marked extract: true but is neither a zip nor a tar archive")
    return sorted({dest / Path(n).parts[0] for n in names if Path(n).parts})


def _registration_message(name: str, entry: dict, dest: Path) -> str:
    lines = [f"{name}: {entry.get('title', name)} cannot be downloaded automatically."]
    if entry.get("register"):
        lines.append(f"  Register and download at: {entry['register']}")
    if entry.get("licence"):
        lines.append(f"  Licence: {entry['licence']}")
    lines.append(f"  Put the files under: {dest}")
    if entry.get("instructions"):
        lines.append("  " + str(entry["instructions"]).strip().replace("\n", "\n  "))
    if entry.get("layout"):
        lines.append("  Expected layout:\n    " + str(entry["layout"]).strip().replace("\n", "\n    "))
    return "\n".join(lines)


def fetch_dataset(
    name: str,
    dest: str | os.PathLike | None = None,
    manifest: str | os.PathLike | None = None,
    progress: bool = True,
    log: Callable[[str], None] = lambda s: None,
) -> FetchResult:
    """Fetch the dataset ``name`` of the manifest into ``dest`` (default
    ``<MOTION3D_DATA>/<entry dest>``). See the module docstring."""
    datasets = load_manifest(manifest)
    if name not in datasets:
        raise FetchError(f"no dataset {name!r} in the manifest; known: {', '.join(sorted(datasets))}")
    entry = datasets[name]
    folder = Path(dest).expanduser() if dest is not None else data_root() / entry.get("dest", name)
    result = FetchResult(name=name, dest=folder)
    if entry.get("access") == "registration" or not entry.get("files"):
        result.registration = True
        result.message = _registration_message(name, entry, folder)
        return result
    for f in entry["files"]:
        url, rel, sha = f["url"], f.get("path") or Path(f["url"]).name, f.get("sha256")
        target = _inside(folder, rel, f"manifest entry {name!r}: path")
        into = _inside(folder, f.get("extract_to", "."), f"manifest entry {name!r}: extract_to") \
            if f.get("extract") else None
        if target.exists() and sha is not None and sha256_file(target) == sha.lower():
            log(f"{target}: present, sha256 ok")
            result.skipped.append(target)
            actual = sha.lower()
        elif target.exists() and sha is None:
            log(f"{target}: present (the manifest has no sha256 to check it against)")
            result.skipped.append(target)
            actual = sha256_file(target)
            result.unverified[str(target)] = actual
        else:
            log(f"downloading {url}")
            actual = download(url, target, sha, progress)
            result.downloaded.append(target)
            if sha is None:
                result.unverified[str(target)] = actual
        if f.get("extract"):
            stamp = target.with_name(f".{target.name}.extracted")
            if stamp.exists() and stamp.read_text().strip() == actual:
                log(f"{target}: already extracted")
                continue
            result.extracted += extract_archive(target, into, f.get("max_extracted_size"))
            stamp.write_text(actual + "\n")
    parts = [f"{name}: {len(result.downloaded)} downloaded, {len(result.skipped)} already present"]
    if result.extracted:
        parts.append(f"extracted {len(result.extracted)} item(s)")
    parts.append(f"in {folder}")
    result.message = ", ".join(parts)
    if result.unverified:
        result.message += "\n  not verified (no sha256 in the manifest); computed:\n" + "\n".join(
            f"    {p}: {h}" for p, h in result.unverified.items())
    return result
