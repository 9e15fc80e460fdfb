#!/usr/bin/env python
"""Retarget a clip onto another skeleton (the hierarchy of TARGET.bvh).

    python tools/retarget.py SRC --target TARGET.bvh -o OUT.bvh [--method analytic|learned --ckpt X]
        [--mapping map.yaml] [--save-mapping map.yaml] [--print-mapping] [--video out.mp4] [--html out.html]
        [--feet-on-floor] [--cleanup-feet] [--no-scale-root] [--frames START:END] [--force]
        [--asf SKELETON.asf] [--body-model-dir DIR]

The source is any motion file the library reads (motion3d.io.registry): BVH, CMU AMC (with the
ASF found beside it, or --asf), AMASS SMPL-H .npz (with the SMPL-H body model: --body-model-dir,
default $MOTION3D_BODY_MODELS or <data>/body_models).

The joint mapping is automatic (by joint names); --save-mapping writes it as YAML to check and
edit, --mapping reads an edited one back. The output keeps the target's hierarchy, offsets and
channel layout. --video renders the source and the result side by side; --html writes them side by
side as one self-contained page that plays offline in a browser ("input: SRC" | "output: OUT").

Outputs (-o, --video, --save-mapping, --html) are checked before any work: writing onto an input
is always refused, an existing file is replaced only with --force, and each is written to a
temporary file beside it and renamed at the end (an interrupted run leaves no half-written file).

--method learned --ckpt X uses a skeleton-aware network trained on two skeleton domains
(configs/retarget/): the source's skeleton picks the encoder, the target's the decoder; each must
have the joint names and hierarchy of one of the checkpoint's domains (proportions may differ).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motion3d.io import FormatError, bvh
from motion3d.io.registry import format_of, load_motion
from motion3d.outputs import OutputError, atomic_output, check_output, exit_on_sigterm
from motion3d.render.html_page import html_writer
from motion3d.render.clip import from_motion
from motion3d.render.encode import check_clip_outputs
from motion3d.retarget import (
    MappingError, mapping_to_yaml, resolve_mapping, retarget, save_mapping,
)
from motion3d.tasks.retarget_clips import METHODS, LearnedRetargeter


def _frames(spec: str | None):
    if not spec:
        return slice(None)
    try:
        a, b = (int(x) if x else None for x in spec.split(":"))
    except ValueError:
        raise SystemExit(f"--frames must look like START:END (e.g. 0:120), got {spec!r}") from None
    return slice(a, b)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="the clip to retarget (.bvh, .amc, AMASS .npz)")
    ap.add_argument("--target", required=True, help="a .bvh file whose hierarchy is the target skeleton")
    ap.add_argument("-o", "--output", required=True, help="output .bvh")
    ap.add_argument("--method", default="analytic", choices=METHODS)
    ap.add_argument("--ckpt", help="checkpoint for --method learned")
    ap.add_argument("--mapping", help="YAML joint mapping (target: source) overriding the automatic one")
    ap.add_argument("--save-mapping", help="write the mapping used as YAML")
    ap.add_argument("--print-mapping", action="store_true", help="print the mapping used")
    ap.add_argument("--video", help="render source and result side by side (.mp4 or .gif)")
    ap.add_argument("--html", metavar="OUT.html", help="write source and result side by side as one offline HTML page")
    ap.add_argument("--feet-on-floor", action="store_true", help="shift the result so its feet reach the floor")
    ap.add_argument("--cleanup-feet", action="store_true", help="keep feet planted on contact frames (IK)")
    ap.add_argument("--no-scale-root", action="store_true", help="keep the source's root path unscaled")
    ap.add_argument("--frames", help="only frames START:END of the source")
    ap.add_argument("--force", action="store_true", help="replace existing output files (never an input)")
    ap.add_argument("--asf", help="the ASF skeleton of an AMC source (default: found beside it)")
    ap.add_argument("--body-model-dir", help="SMPL-H body model folder for an AMASS .npz source "
                                             "(default: $MOTION3D_BODY_MODELS or <data>/body_models)")
    args = ap.parse_args(argv)

    if args.method == "learned":
        analytic_only = [f"--{o.replace('_', '-')}" for o in ("mapping", "save_mapping", "print_mapping",
                                                              "feet_on_floor", "cleanup_feet", "no_scale_root")
                         if getattr(args, o)]
        if not args.ckpt or analytic_only:
            why = (f"{', '.join(analytic_only)} apply to --method analytic only" if args.ckpt else
                   "--method learned needs --ckpt X, a 'retarget' checkpoint (tools/train.py fit -c "
                   "configs/retarget/bandai_cmu.yaml)")
            print(f"error: {why}", file=sys.stderr)
            return 2
    inputs = (args.source, args.target, args.mapping, args.ckpt, args.asf)
    try:
        check_clip_outputs(args.output, args.video, inputs=inputs, force=args.force)
        if args.save_mapping:
            check_output(args.save_mapping, inputs=inputs + (args.output, args.video), force=args.force,
                         suffixes=(".yaml", ".yml"), what="--save-mapping")
        web = html_writer(args.html, inputs, args.force) if args.html else None
    except OutputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        source = load_source(args.source, args.asf, args.body_model_dir)[_frames(args.frames)]
        target = bvh.read_header(args.target)[0]
        if args.method == "learned":
            try:
                out = LearnedRetargeter.load(args.ckpt).retarget(source, target)
            except (ValueError, KeyError) as e:  # CheckpointError, ContextMismatch
                why = str(e) if str(args.ckpt) in str(e) else f"{args.ckpt}: {e}"
                print(f"error: {why}", file=sys.stderr)
                return 1
            return _finish(args, source, target, out, web)
        mapping = resolve_mapping(source.skeleton, target, args.mapping)
        if args.save_mapping:
            with atomic_output(args.save_mapping) as tmp:
                save_mapping(mapping, tmp, source.skeleton, target)
            print(f"mapping: {args.save_mapping}")
        if args.print_mapping:
            print(mapping_to_yaml(mapping, source.skeleton, target), end="")
        out = retarget(source, target, mapping, scale_root=not args.no_scale_root,
                       feet_on_floor=args.feet_on_floor, cleanup_feet=args.cleanup_feet)
    except (MappingError, FormatError, OSError, ImportError) as e:
        hint = " (tools/retarget.py: --body-model-dir DIR)" if "body_model_dir=" in str(e) else ""
        print(f"error: {e}{hint}", file=sys.stderr)
        return 1
    return _finish(args, source, target, out, web)


def load_source(path: str, asf: str | None = None, body_model_dir: str | None = None):
    """The source clip, in any motion format of the registry; ``asf`` and ``body_model_dir`` go to
    the formats that take them (AMC, AMASS) and are refused for the others."""
    fmt = format_of(path)
    options = {}
    if asf:
        if fmt != "amc":
            raise FormatError(path, f"--asf is for AMC sources; this is a {fmt} file")
        options["asf_path"] = asf
    if body_model_dir:
        if fmt != "amass":
            raise FormatError(path, f"--body-model-dir is for AMASS .npz sources; this is a {fmt} file")
        options["body_model_dir"] = body_model_dir
    return load_motion(path, **options)


def _finish(args, source, target, out, web=None) -> int:
    """Save the result (and the video, and with ``web`` the page); print where they went."""
    out.name = f"{source.name} on {Path(args.target).stem}"
    with atomic_output(args.output) as tmp:
        bvh.save(out, tmp)
    print(f"retargeted: {args.output} ({out.num_frames} frames, {target.num_joints} joints, "
          f"{out.fps:g} fps)")
    if args.video:
        from motion3d.render.skeleton_video import save_video

        info = save_video([source, out], args.video)
        print(f"video: {info['path']} ({info['frames']} frames)")
    if web is not None:
        clips = [from_motion(source, f"input: {Path(args.source).name}"),
                 from_motion(out, f"output: {Path(args.output).name}")]
        info = web.export_html(clips, args.html)
        print(f"page: {info['path']} ({info['bytes'] / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(main())
