"""The offline pages the tools write with --html (motion3d.render.web.export_html): checked to be
one self-contained file, and read back to the clip labels recorded in them."""
from __future__ import annotations

import base64
import re
from pathlib import Path

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def page_labels(path: str | Path) -> str:
    """Check that ``path`` is one self-contained page (nothing fetched from the network: no http(s)
    URL but XML namespace names, every ``src=`` / ``href=`` an inline ``data:`` URI) and return its
    embedded recording as text, where the clip labels stand as plain UTF-8."""
    import zstandard  # viser's own dependency: the recording is zstd-compressed msgpack

    text = Path(path).read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html"), text[:80]
    urls = set(re.findall(r"https?://[^\s\"'`)<>]+", text))
    assert all(u.startswith("http://www.w3.org/") for u in urls), urls
    refs = re.findall(r"\b(?:src|href)\s*=\s*[\"']([^\"']*)", text)
    assert all(r.startswith("data:") for r in refs), refs
    embed = re.search(r"__VISER_EMBED_DATA__\s*=\s*\"([A-Za-z0-9+/=]+)\"", text)
    assert embed, f"{path}: no embedded recording"
    data = base64.b64decode(embed.group(1))
    start = data.find(ZSTD_MAGIC)
    assert start >= 0, f"{path}: the recording is not zstd data"
    raw = zstandard.ZstdDecompressor().decompressobj().decompress(data[start:])
    return raw.decode("utf-8", errors="replace")
