"""Clip labels: Bandai-Namco style JSON annotations and one global vocabulary per label kind.

A Bandai-Namco dataset folder has ``cfg/content_label.txt`` and ``cfg/style_label.txt`` (line
``i`` is the name of label id ``i``; the files end without a newline) and, beside each clip
``X.bvh``, a ``X.json`` such as ``{"content": 6, "style": 11}``. Names carry the dataset as a
prefix (``dataset-1_walk``, ``dataset-2_walk``); :func:`strip_prefix` removes it, so that "walk"
of set 1 and "walk" of set 2 are the same label in the global vocabulary. Clips without labels
get ``-1``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

__all__ = [
    "LABEL_KINDS", "LabelError", "strip_prefix", "read_label_file", "find_label_dir",
    "read_label_names", "read_clip_labels", "build_vocabulary",
]

#: the label kinds a clip may have, in the order batches carry them
LABEL_KINDS = ("content", "style")

_PREFIX = re.compile(r"^dataset-\d+_")


class LabelError(ValueError):
    """A label file or annotation could not be read; the message names the file."""


def strip_prefix(name: str) -> str:
    """``"dataset-1_walk-back"`` -> ``"walk-back"`` (names without the prefix are unchanged)."""
    return _PREFIX.sub("", name.strip())


def read_label_file(path: str | Path) -> list[str]:
    """Names of a ``*_label.txt`` file, prefix stripped; line index = label id."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise LabelError(f"{path}: cannot read label names: {e}") from None
    return [strip_prefix(line) for line in text.splitlines()]


def find_label_dir(clip: Path, root: Path) -> Path | None:
    """The ``cfg`` folder holding ``content_label.txt`` nearest above ``clip``, not above ``root``."""
    root = root.resolve()
    d = clip.resolve().parent
    while True:
        if (d / "cfg" / "content_label.txt").is_file() or (d / "cfg" / "style_label.txt").is_file():
            return d / "cfg"
        if d == root or d.parent == d or root not in d.parents:
            return None
        d = d.parent


def read_label_names(cfg: Path | None) -> dict[str, list[str]]:
    """``{kind: names}`` from ``cfg/<kind>_label.txt`` (empty lists where a file is absent)."""
    out: dict[str, list[str]] = {k: [] for k in LABEL_KINDS}
    if cfg is None:
        return out
    for kind in LABEL_KINDS:
        f = cfg / f"{kind}_label.txt"
        if f.is_file():
            out[kind] = read_label_file(f)
    return out


def read_clip_labels(clip: Path, names: Mapping[str, Sequence[str]]) -> dict[str, str | None]:
    """``{kind: name or None}`` for ``clip`` from the JSON beside it (``None`` when there is no
    JSON or it lacks that kind). ``names``: the dataset's ``{kind: id -> name}`` lists.

    Raises:
        LabelError: naming the JSON file, when it is malformed or an id is out of range.
    """
    out: dict[str, str | None] = {k: None for k in LABEL_KINDS}
    js = clip.with_suffix(".json")
    if not js.is_file():
        return out
    try:
        data = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise LabelError(f"{js}: not a readable label JSON: {e}") from None
    if not isinstance(data, dict):
        raise LabelError(f"{js}: expected an object like {{\"content\": 6, \"style\": 11}}")
    for kind in LABEL_KINDS:
        if kind not in data:
            continue
        value = data[kind]
        if isinstance(value, str):
            out[kind] = strip_prefix(value)
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise LabelError(f"{js}: {kind} must be an integer id or a name, got {value!r}")
        table = names.get(kind, [])
        if not 0 <= value < len(table):
            raise LabelError(
                f"{js}: {kind} id {value} is outside the {len(table)} names of cfg/{kind}_label.txt"
            )
        out[kind] = table[value]
    return out


def build_vocabulary(
    tables: Iterable[Mapping[str, Sequence[str]]],
    filters: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[str]]:
    """One global ``{kind: names}`` vocabulary.

    A kind with a filter gets the filter's names, in the filter's order (prefixes stripped); the
    others get the union of the datasets' names, in the order they first appear (datasets in the
    given order, then line order), so set 1's ids stay the same when set 2 is added.
    """
    filters = filters or {}
    unknown = sorted(set(filters) - set(LABEL_KINDS))
    if unknown:
        raise ValueError(f"unknown label kind(s) {unknown} in the label filter; kinds: {list(LABEL_KINDS)}")
    vocab: dict[str, list[str]] = {k: [] for k in LABEL_KINDS}
    for kind in LABEL_KINDS:
        if kind in filters:
            vocab[kind] = list(dict.fromkeys(strip_prefix(n) for n in filters[kind]))
    for table in tables:
        for kind in LABEL_KINDS:
            if kind in filters:
                continue
            for n in table.get(kind, []):
                if n not in vocab[kind]:
                    vocab[kind].append(n)
    return vocab
