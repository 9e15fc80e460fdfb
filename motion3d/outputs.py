"""Safe outputs for tools: never write onto an input, never replace a file silently, never leave a
half-written file at the output path.

Three pieces, used by every script in ``tools/`` and ``viz/`` and by the library's writers:

* :func:`check_output` (call it for every output path right after parsing the arguments, before any
  work) refuses an output that is one of the inputs (always, even with ``--force``), an output that
  already exists (unless ``force``), an existing folder, and a suffix the writer cannot produce.
* :func:`atomic_output` (a context manager) hands out a temporary path in the output's folder with
  the output's suffix; the writer fills it, and only when the block ends without an exception is
  it renamed onto the output path (``os.replace``: readers see the old file or the whole new one,
  never a part). On any exception, ``KeyboardInterrupt`` and ``SystemExit`` included, the temporary
  file is removed and the output path is left as it was. :class:`AtomicFile` is the same thing as
  an object, for writers whose life is not one ``with`` block (:class:`~motion3d.render.encode.VideoWriter`).
* :func:`exit_on_sigterm` (call it at the start of a tool's ``main``) turns ``SIGTERM`` into
  ``SystemExit(143)`` so that a killed tool unwinds like an interrupted one: ``finally`` blocks and
  context managers run and the temporary file is removed. Without it Python dies on ``SIGTERM``
  at once, leaving the temporary file (but never a truncated file at the output path). ``SIGKILL``
  cannot be caught: a temporary ``.<name>.*.tmp<suffix>`` file may then remain beside the output.
"""
from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

__all__ = ["OutputError", "check_output", "atomic_output", "AtomicFile", "exit_on_sigterm", "is_same_file", "run_tool"]

PathLike = str | os.PathLike


def _umask() -> int:
    """The process's umask (read from /proc where there is one: setting it to read it back is racy
    with other threads)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class OutputError(ValueError):
    """An output path that must not be written (the message names it and says why)."""

    def __init__(self, path: PathLike, message: str):
        self.path = Path(path)
        super().__init__(f"{os.fspath(path)}: {message}")


def is_same_file(a: PathLike, b: PathLike) -> bool:
    """Whether ``a`` and ``b`` name the same file: equal resolved paths (symlinks, ``..``, relative
    paths), or ``os.path.samefile`` when both exist (hard links, bind mounts)."""
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.resolve() == pb.resolve():
        return True
    try:
        return os.path.samefile(pa, pb)
    except OSError:  # one of them does not exist
        return False


def check_output(path: PathLike, *, inputs: Iterable[PathLike | None] = (), force: bool = False,
                 suffixes: Iterable[str] | None = None, what: str = "output") -> Path:
    """Validate one output path before any work; returns it as a ``Path``.

    Raises :class:`OutputError` (naming the path) when

    * ``path`` is one of ``inputs`` (``None`` entries are skipped), compared by resolved path and by
      ``os.path.samefile``, so a symlink, a hard link or another spelling of the input is caught;
      this holds even with ``force``;
    * ``path`` is an existing folder;
    * ``path`` exists and ``force`` is false;
    * ``suffixes`` is given and ``path``'s suffix (case-insensitive) is not one of them.

    ``what`` names the output in the message (``"--video"``, ``"output"``).
    """
    p = Path(path).expanduser()
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if p.suffix.lower() not in allowed:
            raise OutputError(path, f"{what} must end in {' or '.join(allowed)}, got {p.suffix or 'no suffix'!r}")
    for src in inputs:
        if src is not None and is_same_file(p, src):
            raise OutputError(path, f"{what} is the input {src}; refusing to write onto an input "
                                 f"(choose another output path)")
    if p.is_dir():
        raise OutputError(path, f"{what} is an existing folder")
    if (p.exists() or p.is_symlink()) and not force:
        raise OutputError(path, f"{what} exists; pass --force to replace it")
    return p


class AtomicFile:
    """A temporary file ``<folder>/.<name>.<random>.tmp<suffix>`` beside ``path`` (the folder is
    created). :meth:`commit` renames it onto ``path``; :meth:`discard` removes it. Either is final;
    calling :meth:`discard` after :meth:`commit` does nothing.

    The temporary file is created empty (``tempfile.mkstemp``: a fresh name, never an existing
    file) with the mode of any new file (0o666 under the umask, not mkstemp's 0o600); writers may
    replace or truncate it.
    """

    def __init__(self, path: PathLike):
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                   suffix=f".tmp{self.path.suffix}")
        os.close(fd)
        # mkstemp makes the file 0o600; an output is an ordinary file: 0o666 under the umask, like open()
        os.chmod(tmp, 0o666 & ~_umask())
        self.tmp = Path(tmp)
        self.done = False

    def commit(self) -> Path:
        """Rename the temporary file onto ``path`` (atomic on one file system); returns ``path``."""
        if self.done:
            raise RuntimeError(f"{self.path}: output already committed or discarded")
        os.replace(self.tmp, self.path)
        self.done = True
        return self.path

    def discard(self) -> None:
        """Remove the temporary file (if still there); ``path`` is untouched."""
        if not self.done:
            self.done = True
            with contextlib.suppress(FileNotFoundError):
                self.tmp.unlink()


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """``with atomic_output("out.mp4") as tmp: write(tmp)``: ``tmp`` is a fresh path in the same
    folder with the same suffix (so writers that choose the format by suffix, ffmpeg, PIL,
    matplotlib, choose the right one). When the block ends normally ``tmp`` is renamed onto
    ``path``; on any exception (``KeyboardInterrupt``, ``SystemExit`` included) ``tmp`` is removed,
    the exception propagates, and ``path`` keeps what it had (or stays absent).

    It does not check whether ``path`` may be written: call :func:`check_output` first.
    """
    f = AtomicFile(path)
    try:
        yield f.tmp
    except BaseException:
        f.discard()
        raise
    f.commit()


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def exit_on_sigterm() -> None:
    """Make ``SIGTERM`` raise ``SystemExit(143)`` in the main thread, so a terminated tool runs its
    ``finally`` blocks and context managers (removing :func:`atomic_output`'s temporary file)
    instead of dying on the spot. Call it at the start of a tool; a no-op outside the main thread
    and on platforms without ``SIGTERM``."""
    if not hasattr(signal, "SIGTERM"):
        return
    try:
        signal.signal(signal.SIGTERM, _raise_exit)
    except ValueError:  # not the main thread
        pass



def run_tool(main, errors: tuple[type[BaseException], ...] = ()) -> None:
    """Entry point of a tool script: SIGTERM becomes a clean exit (:func:`exit_on_sigterm`), and the
    ``errors`` a user can cause (a bad file, a missing body model) end the run with ``error: ...``
    and exit status 1 instead of a traceback."""
    exit_on_sigterm()
    try:
        main()
    except errors as err:
        raise SystemExit(f"error: {err}") from None
