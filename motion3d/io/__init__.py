"""File formats. One module per format, each with symmetric ``load``/``save``;
:mod:`motion3d.io.registry` is the one dispatch from a file (extension, and content where an
extension is shared) to its module, used by ``data/``, ``render/`` and ``viz/``.

Every loader raises :class:`FormatError` naming the file (and line, for text formats) when the
input is malformed.
"""
from __future__ import annotations

import os


class FormatError(ValueError):
    """A file could not be read: the message names the file, the line (when known) and the problem."""

    def __init__(self, path: str | os.PathLike | None, message: str, line: int | None = None):
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.problem = message
        where = self.path if self.path is not None else "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


__all__ = ["FormatError"]
