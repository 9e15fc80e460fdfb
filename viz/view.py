#!/usr/bin/env python
"""Look at motion and shapes in a browser: served live from this machine, or as one offline HTML file.

    python viz/view.py CLIP_OR_DIR... [--port 8080] [--overlay] [--label-from-filename]
    python viz/view.py CLIP_OR_DIR... --html out.html [--display-fps 30] [--force]

Served (no --html): prints the URL and the `ssh -L` line that reaches it from a laptop; the page has
Play/Pause, a frame slider, speed, loop, follow camera and one checkbox per clip. Folders given are
watched: new files (e.g. a sampling run writing BVH) appear without a restart. --html writes one
self-contained page (viser's client and the recording inside; no server, no network) that plays the
animation in real time, sampled at --display-fps. Any file the library reads (BVH, ASF/AMC, AMASS
npz, HumanML3D npy, PCD/PLY/OFF/OBJ...) goes through the io registry; a file that cannot be read is
reported (naming it) and the others still show. A port in use stops at once with a clear message.
"""
from __future__ import annotations

import argparse
import getpass
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion3d.io import FormatError  # noqa: E402
from motion3d.outputs import OutputError, check_output, run_tool  # noqa: E402
from motion3d.render.smpl_mesh import SMPLModelMissing  # noqa: E402


def main(argv: list[str] | None = None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="motion / point-cloud / mesh files, or folders of them")
    ap.add_argument("--port", type=int, default=8080, help="served mode: port (default 8080)")
    ap.add_argument("--host", default="0.0.0.0", help="served mode: address to listen on")
    ap.add_argument("--html", metavar="OUT", default=None, help="write one offline HTML page instead of serving")
    ap.add_argument("--display-fps", type=float, default=None, help="--html: frames recorded per second (default 30)")
    ap.add_argument("--overlay", action="store_true", help="overlay the clips instead of side by side")
    ap.add_argument("--label-from-filename", action="store_true",
                    help="label clips from their file names (walk_angry_003.bvh -> 'walk angry')")
    ap.add_argument("--model-dir", default=None, help="SMPL-H body models for AMASS .npz files")
    ap.add_argument("--force", action="store_true", help="--html: replace an existing output")
    args = ap.parse_args(argv)
    layout = "overlay" if args.overlay else "side"
    from motion3d.render import web
    from motion3d.render.web_viewer import Viewer, expand_paths, label_from_filename

    if args.html:
        files, _ = expand_paths(args.paths)
        try:
            check_output(args.html, inputs=files, force=args.force, suffixes=(".html",), what="--html")
        except OutputError as e:
            ap.error(str(e))
        items = []
        for f in files:  # an unreadable file is reported and the others still show
            try:
                item = web.load_view_item(f, args.model_dir)
            except (FormatError, SMPLModelMissing) as e:
                print(f"error: {e}", file=sys.stderr)
                continue
            if args.label_from_filename:
                item.name = label_from_filename(f)
            items.append(item)
        if not items:
            raise SystemExit("error: no file could be read")
        info = web.export_html(items, args.html, layout=layout, display_fps=args.display_fps)
        print(f"wrote {info['path']}: {len(items)} item(s), {info['duration']:.1f} s at "
              f"{info['display_fps']:g} display fps, {info['bytes'] / 1e6:.1f} MB")
        return info
    try:
        viewer = Viewer(args.paths, port=args.port, host=args.host, layout=layout,
                        label_from_filename=args.label_from_filename, model_dir=args.model_dir,
                        log=lambda m: print(m, file=sys.stderr, flush=True))
    except web.PortInUse as e:
        raise SystemExit(f"error: {e}") from None
    host = socket.gethostname()
    print(f"viewer at {viewer.url}", flush=True)
    print(f"from a laptop: ssh -L {viewer.port}:localhost:{viewer.port} {getpass.getuser()}@{host}  "
          f"then open http://localhost:{viewer.port}", flush=True)
    if viewer.watch_dirs:
        print(f"watching {', '.join(map(str, viewer.watch_dirs))} for new files", flush=True)
    viewer.run()
    return None


if __name__ == "__main__":
    run_tool(main, (FormatError, SMPLModelMissing))
