"""The ``--html OUT.html`` option of the tools (sample, retarget, stylize, edit_motion): the output
checked before any work, and the page writer loaded only then, since viser is the optional ``web``
extra (``pip install 'motion3d[web]'``)."""
from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Iterable

from motion3d.outputs import OutputError, check_output

__all__ = ["html_writer"]


def html_writer(path: str | os.PathLike, inputs: Iterable[str | os.PathLike | None] = (),
                force: bool = False) -> ModuleType:
    """Check the ``--html`` page's ``path`` (``.html``, not an input, not existing unless ``force``:
    :func:`motion3d.outputs.check_output`) and return :mod:`motion3d.render.web`, whose
    ``export_html`` writes it. Raises :class:`~motion3d.outputs.OutputError` naming the path when the
    output is refused or viser is not installed."""
    check_output(path, inputs=inputs, force=force, suffixes=(".html",), what="--html")
    try:
        return importlib.import_module("motion3d.render.web")
    except ImportError as e:  # viser is the optional 'web' extra
        raise OutputError(path, f"--html needs viser ({e}); pip install 'motion3d[web]'") from None
