"""A local HTTP server for download tests: serves one folder on 127.0.0.1 (random port, in a
thread), honours ``Range: bytes=N-`` requests (206), and records every request's path and Range."""
from __future__ import annotations

import contextlib
import functools
import io
import threading
import zipfile
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class RangeHandler(SimpleHTTPRequestHandler):
    log: list[tuple[str, str | None]] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self.log.append((self.path, self.headers.get("Range")))
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        data = path.read_bytes()
        rng = self.headers.get("Range")
        start = 0
        if rng and rng.startswith("bytes="):
            start = int(rng[len("bytes="):].split("-")[0])
            if start >= len(data):
                self.send_error(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                return
            self.send_response(HTTPStatus.PARTIAL_CONTENT)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(HTTPStatus.OK)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@contextlib.contextmanager
def serve(folder: Path):
    """``with serve(folder) as (base_url, log):`` — ``log`` lists ``(path, range header)``."""
    log: list[tuple[str, str | None]] = []
    handler = type("Handler", (RangeHandler,), {"log": log})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def fixture_zip(n_clips: int = 3) -> bytes:
    """A small dataset archive: ``data/clip_<i>.txt`` files with some bytes each."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(n_clips):
            z.writestr(f"data/clip_{i}.txt", f"clip {i}\n" * (2000 + i))
    return buf.getvalue()


def write_manifest(path: Path, base_url: str, files: list[dict], registration: bool = False) -> Path:
    """A manifest with one dataset ``toy`` (download) and one ``regonly`` (registration)."""
    import yaml

    data = {
        "version": 1,
        "datasets": {
            "toy": {"title": "Toy dataset", "dest": "toy", "access": "download", "licence": "CC0",
                    "files": [dict(f, url=f"{base_url}/{f['url']}") for f in files]},
            "regonly": {"title": "Registration-only set", "dest": "smpl/regonly", "access": "registration",
                        "register": "https://example.org/register", "licence": "research only",
                        "instructions": "Download the SMPL+H archives and unpack them here.",
                        "layout": "<subdataset>/<subject>/*_poses.npz"},
        },
    }
    path.write_text(yaml.safe_dump(data))
    return path
