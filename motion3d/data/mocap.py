"""Mocap windows as a LightningDataModule: files -> features -> normalised windows in batches.

What ``setup()`` does, in order:

1. finds motion files (``extensions``, default BVH, AMC, AMASS npz) under each root
   (``"data:mocap/bandai-namco-1"`` resolves through :func:`motion3d.paths.resolve_data_path`);
   where a folder holds one take in two formats (``01_01.bvh`` and ``01_01.amc``) the first
   extension in ``extensions`` wins and the other is reported;
2. filters them: ``include`` / ``exclude`` globs (matched against the path relative to its root
   and against the file name) and ``labels`` (e.g. ``{"content": ["walk", "run"]}``);
3. splits them BY FILE, seeded (:mod:`motion3d.data.split`), into train / val / test;
4. loads the features from the cache, or computes them (:mod:`motion3d.data.preprocess`: one
   reference skeleton, resampling to ``fps``, encoding with ``representation``) and caches them,
   keyed by the files' sha256, the configuration and the code that makes features
   (:mod:`motion3d.data.cache`);
5. rejects clips shorter than ``window``; fits the :class:`Normalizer` on the train clips only;
   cuts windows of ``window`` frames every ``stride`` frames.

Every file found but not used (unreadable, NaN, other skeleton, too short, duplicate format) is
logged with a warning and listed in ``dm.rejected`` as ``(path, reason)``, or raises
:class:`BadDataError` when ``on_bad`` / ``on_mismatch`` is ``"error"``.

Batches: ``{"x": (B, T, D) float32 normalised features, "content": (B,) int64, "style": (B,)
int64 (-1: unknown), "clip": (B,) int64}`` where ``clip`` indexes ``dm.files(split)``.
"""
from __future__ import annotations

import fnmatch
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import lightning as L
from torch.utils.data import DataLoader

from motion3d import features
from motion3d.data.cache import ArrayCache, cache_key, code_fingerprint, default_cache_dir, file_digests
from motion3d.data.labels import LABEL_KINDS, LabelError, build_vocabulary, find_label_dir, read_clip_labels, read_label_names, strip_prefix
from motion3d.data.preprocess import POLICIES, BadDataError, Preprocessed, preprocess
from motion3d.data.split import SPLITS, split_by_file
from motion3d.data.windows import WindowDataset, collate_windows, window_starts
from motion3d.features import MotionRepresentation, Normalizer
from motion3d.io.registry import MOTION_FORMATS
from motion3d.paths import resolve_data_path
from motion3d.skeleton import Skeleton

__all__ = ["MocapDataModule", "BadDataError", "CACHE_VERSION"]

log = logging.getLogger("motion3d.data")

#: bump when the cache layout changes
CACHE_VERSION = 1
#: code whose changes invalidate cached features
_FEATURE_CODE = ("features", "io", "ops", "geometry", "skeleton.py", "motion.py",
                 "data/preprocess.py", "data/conform.py")


def _short_summary(paths: list[Path], frames: list[int], window: int, fps: float, shown: int = 3) -> str:
    """One line for the clips shorter than a window: ``"skipped 12 clips shorter than a window of
    60 frames at 30 fps: a.bvh (24 frames), b.bvh (41), c.bvh (50) (+9; list in dm.rejected)"``."""
    names = [f"{p.name} ({n} frames)" if k == 0 else f"{p.name} ({n})"
             for k, (p, n) in enumerate(zip(paths[:shown], frames[:shown]))]
    more = f" (+{len(paths) - shown}; list in dm.rejected)" if len(paths) > shown else ""
    clips = "clip" if len(paths) == 1 else "clips"
    return (f"skipped {len(paths)} {clips} shorter than a window of {window} frames at {fps:g} fps: "
            f"{', '.join(names)}{more}")


class MocapDataModule(L.LightningDataModule):
    """Windows of mocap features over one or more dataset folders (see the module docstring).

    Args:
        roots: dataset folders (``"data:mocap/bandai-namco-1"`` or paths); one string is accepted.
        include, exclude: glob patterns (``"*walk*"``, ``"data/dataset-1_*"``); a file is kept
            when it matches some ``include`` (default: all) and no ``exclude``.
        labels: label filter ``{"content": [...], "style": [...]}``; the listed names also become
            that kind's vocabulary, in that order. Files without such a label are left out.
        need_labels: whether clips whose labels cannot be read (a JSON with ids but no
            ``cfg/<kind>_label.txt`` naming them, a malformed JSON) are left out (``True``, the
            default: tasks that learn from labels) or used without labels, -1 (``False``: tasks
            that need none, such as prediction; one warning line says how many).
        window, stride: frames per window and between window starts.
        fps: resample every clip to this rate; ``None``: keep the files' rate (files at another
            rate are then rejected as mismatches).
        representation, representation_options: :func:`motion3d.features.build` name and options
            (``fps`` is set by the module).
        split: train / val / test fractions (by file); ``seed``: the split's seed.
        stratify: ``"content"`` or ``"style"``: split each label's files on their own, so that
            every label with three files or more reaches val and test (default: no).
        batch_size, num_workers, drop_last: DataLoader settings (shuffling on train only).
        cache_dir: where preprocessed features are cached (default ``$MOTION3D_CACHE`` or
            ``~/.cache/motion3d``), under ``mocap/``.
        on_bad: ``"skip"`` or ``"error"`` for unreadable files, NaN, clips shorter than a window,
            files that cannot be encoded; ``on_mismatch``: the same for another skeleton / fps.
        mirror_augment: add the left/right mirror image of every train clip (train only).
        extensions: motion file extensions, in order of preference (default ``.bvh .amc .npz``).
        loader_options: keyword arguments for :func:`motion3d.io.registry.load_motion`
            (``body_model_dir`` for AMASS npz, ...).
        skeleton_tolerance: bone length tolerance, a fraction of the skeleton height, for
            treating two files as one skeleton (:mod:`motion3d.data.conform`).

    After ``setup()``: ``skeleton``, ``representation``, ``normalizer``, ``label_names``
    (``{"content": [...], "style": [...]}``), ``fps``, ``window``, ``rejected``; see
    :meth:`metadata`, :meth:`files`, :meth:`clip_labels`, :meth:`clip_features`.
    """

    def __init__(
        self,
        roots: list[str] | str,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        labels: dict[str, list[str]] | None = None,
        need_labels: bool = True,
        window: int = 60,
        stride: int = 10,
        fps: float | None = 30,
        representation: str = "rot6d",
        representation_options: dict | None = None,
        split: list[float] = [0.8, 0.1, 0.1],  # noqa: B006 (copied; LightningCLI shows the default)
        seed: int = 0,
        stratify: str | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
        cache_dir: str | None = None,
        on_bad: str = "skip",
        on_mismatch: str = "skip",
        mirror_augment: bool = False,
        extensions: list[str] | None = None,
        loader_options: dict | None = None,
        skeleton_tolerance: float = 1e-3,
        drop_last: bool = False,
    ):
        super().__init__()
        # the constructor arguments, from which checkpoints rebuild this datamodule (tasks.checkpoint);
        # given explicitly: Lightning's frame inspection would also collect an enclosing __init__'s
        self.save_hyperparameters({k: v for k, v in locals().items() if k not in ("self", "__class__")})
        self.roots = [roots] if isinstance(roots, (str, os.PathLike)) else list(roots)
        if not self.roots:
            raise ValueError("MocapDataModule needs at least one dataset folder in roots")
        self.include = list(include) if include else None
        self.exclude = list(exclude or [])
        self.label_filter = {k: list(v) for k, v in (labels or {}).items()}
        self.need_labels = bool(need_labels)
        unknown = sorted(set(self.label_filter) - set(LABEL_KINDS))
        if unknown:
            raise ValueError(f"unknown label kind(s) {unknown} in labels; kinds: {list(LABEL_KINDS)}")
        if int(window) < 1 or int(stride) < 1:
            raise ValueError(f"window and stride must be positive, got {window} and {stride}")
        self.window = int(window)
        self.stride = int(stride)
        if fps is not None and not float(fps) > 0:
            raise ValueError(f"fps must be positive or None, got {fps}")
        #: the frame rate: the one asked for (``None``: the files'), then after ``setup`` the
        #: clips' rate
        self.fps: float | None = None if fps is None else float(fps)
        self.representation_name = representation
        self.representation_options = dict(representation_options or {})
        if "fps" in self.representation_options:
            raise ValueError("set the frame rate with fps=, not in representation_options")
        self.split_fractions = [float(f) for f in split]
        split_by_file([], self.split_fractions)  # validates the fractions now
        self.seed = int(seed)
        if stratify is not None and stratify not in LABEL_KINDS:
            raise ValueError(f"stratify must be None or one of {list(LABEL_KINDS)}, got {stratify!r}")
        self.stratify = stratify
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.drop_last = bool(drop_last)
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        for name, value in (("on_bad", on_bad), ("on_mismatch", on_mismatch)):
            if value not in POLICIES:
                raise ValueError(f"{name} must be one of {POLICIES}, got {value!r}")
        self.on_bad = on_bad
        self.on_mismatch = on_mismatch
        self.mirror_augment = bool(mirror_augment)
        exts = extensions if extensions is not None else list(MOTION_FORMATS)
        self.extensions = [e.lower() if e.startswith(".") else "." + e.lower() for e in exts]
        bad_ext = [e for e in self.extensions if e not in MOTION_FORMATS]
        if bad_ext:
            raise ValueError(f"unsupported motion extension(s) {bad_ext}; supported: {list(MOTION_FORMATS)}")
        self.loader_options = dict(loader_options or {})
        self.skeleton_tolerance = float(skeleton_tolerance)
        self._fixed: dict | None = None  # checkpoint metadata (from_metadata): nothing is fitted
        self._ready = False
        self._reported: set[tuple[str, str]] = set()  # (path, reason) warned about: each once
        #: what discovery left out, by reason (``_discover`` fills it): ``{reason: [paths]}``
        self.discovery: dict[str, list[Path]] = {}
        #: clips used without labels (``need_labels=False``): ``[(path, why their labels are unknown)]``
        self.unlabelled: list[tuple[Path, str]] = []

    @property
    def target_fps(self) -> float | None:
        """Read-only alias of :attr:`fps` for older callers (``data/paired.py``, task configs)."""
        return self.fps

    @classmethod
    def from_metadata(cls, metadata: dict, roots: list[str] | str, **kwargs) -> "MocapDataModule":
        """A module over other files for a trained model: the skeleton, representation (name,
        options, fps), normaliser, label vocabulary and window come from ``metadata`` (as given
        by :meth:`metadata`, e.g. from a checkpoint) and nothing is fitted. Files on another
        skeleton are mismatches; labels not in the vocabulary give -1. ``kwargs`` go to the
        constructor; the default split puts every file in ``test``."""
        rep = metadata["representation"]
        options = {k: v for k, v in rep.get("options", {}).items() if k != "fps"}
        kwargs.setdefault("split", [0.0, 0.0, 1.0])
        kwargs.setdefault("window", int(metadata["window"]))
        dm = cls(roots, fps=float(metadata["fps"]), representation=rep["name"], representation_options=options,
                 **kwargs)
        dm._fixed = metadata
        return dm

    # ================================================================== discovery
    def _discover(self) -> tuple[list[Path], list[str], list[dict], list[dict], list[tuple[Path, str]]]:
        """Files kept by the filters: ``(paths, keys, labels, label tables, duplicates)``."""
        paths, keys, clip_labels, tables, dropped = [], [], [], [], []
        seen_keys: set[str] = set()
        left_out: dict[str, list[Path]] = {}
        unlabelled: list[tuple[Path, str]] = []
        found_total = 0
        for r in self.roots:
            root = resolve_data_path(r)
            if not root.is_dir():
                raise FileNotFoundError(f"dataset folder not found: {root} (from {r!r})")
            found = sorted(p for p in root.rglob("*") if p.suffix.lower() in self.extensions and p.is_file())
            found_total += len(found)
            # one take in several formats: keep the preferred extension
            by_stem: dict[tuple[Path, str], Path] = {}
            for p in sorted(found, key=lambda p: self.extensions.index(p.suffix.lower())):
                k = (p.parent, p.stem)
                if k in by_stem:
                    dropped.append((p, f"same take as {by_stem[k].name}, which is used instead"))
                    left_out.setdefault("same take in another format", []).append(p)
                else:
                    by_stem[k] = p
            found = sorted(by_stem.values())
            label_dirs: dict[Path | None, dict[str, list[str]]] = {}
            for p in found:
                rel = p.relative_to(root).as_posix()
                if not self._glob_ok(rel, p.name):
                    left_out.setdefault("include/exclude", []).append(p)
                    continue
                cfg = find_label_dir(p, root)
                if cfg not in label_dirs:
                    label_dirs[cfg] = read_label_names(cfg)
                    tables.append(label_dirs[cfg])
                try:
                    lab = read_clip_labels(p, label_dirs[cfg])
                except LabelError as e:
                    if self.need_labels and self.on_bad == "error":
                        raise BadDataError(p, str(e)) from None
                    if self.need_labels or self.label_filter:
                        dropped.append((p, f"labels: {e}"))
                        left_out.setdefault("unreadable labels", []).append(p)
                        continue
                    unlabelled.append((p, str(e)))
                    lab = {k: None for k in LABEL_KINDS}
                if not all(lab[k] in set(map(strip_prefix, v)) for k, v in self.label_filter.items()):
                    left_out.setdefault("label filter", []).append(p)
                    continue
                key = f"{root.name}/{rel}"
                while key in seen_keys:
                    key = "+" + key
                seen_keys.add(key)
                paths.append(p)
                keys.append(key)
                clip_labels.append(lab)
        self.discovery = left_out
        self.unlabelled = unlabelled
        self._found = found_total
        return paths, keys, clip_labels, tables, dropped

    def _nothing_left(self, dropped: list[tuple[Path, str]]) -> FileNotFoundError:
        """The error for filters that leave no file: how many were found and why each was left out."""
        found = getattr(self, "_found", 0)
        why = "; ".join(f"{len(v)} for {k}" for k, v in self.discovery.items())
        msg = (f"no motion files ({', '.join(self.extensions)}) left in {self.roots} after the filters "
               f"include={self.include} exclude={self.exclude} labels={self.label_filter}: "
               f"{found} found" + (f", left out: {why}" if why else ""))
        labels = [(p, r) for p, r in dropped if r.startswith("labels: ")]
        if labels:
            p, r = labels[0]
            msg += (f" (e.g. {r[len('labels: '):]}). Labels are read from the JSON beside each clip, their ids named "
                    f"by cfg/content_label.txt and cfg/style_label.txt in the dataset folder or above it")
            if self.need_labels and not self.label_filter:
                msg += "; a task that needs no labels can use the clips without them (need_labels=False)"
        return FileNotFoundError(msg)

    def _report(self, path, reason: str) -> None:
        """Warn about a file left out, once per datamodule (``prepare_data`` and ``setup`` both
        read the features: a rejection is not reported twice)."""
        key = (str(path), reason)
        if key not in self._reported:
            self._reported.add(key)
            log.warning("skipping %s: %s", path, reason)

    def _glob_ok(self, rel: str, name: str) -> bool:
        def hit(patterns):
            return any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g) for g in patterns)

        return (self.include is None or hit(self.include)) and not hit(self.exclude)

    # ================================================================== cache
    def _config(self) -> dict:
        """What the cached features depend on (besides the files)."""
        return {
            "version": CACHE_VERSION,
            "representation": self.representation_name,
            "representation_options": self.representation_options,
            "fps": self.fps,
            "mirror": self.mirror_augment,
            "loader_options": {k: str(v) for k, v in self.loader_options.items()},
            "skeleton_tolerance": self.skeleton_tolerance,
            "code": code_fingerprint(*_FEATURE_CODE),
            "reference": None if self._fixed is None else self._fixed["skeleton"],
        }

    def _features(self, paths: list[Path], keys: list[str]) -> Preprocessed:
        """The preprocessed clips of ``paths``, from the cache when it has them."""
        digests = file_digests(paths, self.cache_dir / "mocap")
        key = cache_key({"config": self._config(), "files": sorted(zip(keys, digests))})
        cache = ArrayCache(self.cache_dir / "mocap")
        hit = cache.load(key)
        order = {k: i for i, k in enumerate(keys)}
        if hit is not None:
            arrays, meta = hit
            # the entry lists files by key: map its indices to this run's order
            remap = np.array([order[k] for k in meta["keys"]], dtype=np.int64)
            rejected = [(int(remap[i]), reason, kind) for i, reason, kind in meta["rejected"]]
            for i, reason, kind in rejected:
                policy = self.on_mismatch if kind == "mismatch" else self.on_bad
                if policy == "error":
                    raise BadDataError(paths[i], reason)
                self._report(paths[i], reason)
            self.cache_path = cache.path(key)
            self.cache_hit = True
            return Preprocessed(
                frames=arrays["frames"], offsets=np.asarray(arrays["offsets"]),
                clip_file=remap[np.asarray(arrays["clip_file"])],
                clip_mirrored=np.asarray(arrays["clip_mirrored"]),
                skeleton=Skeleton.from_dict(meta["skeleton"]), fps=float(meta["fps"]), rejected=rejected,
            )
        # compute in key order, so the entry does not depend on discovery order
        by_key = sorted(range(len(keys)), key=lambda i: keys[i])
        pre = preprocess(
            [paths[i] for i in by_key], self.representation_name, self.representation_options,
            self.fps, self.skeleton_tolerance, self.mirror_augment, self.loader_options,
            reference=None if self._fixed is None else Skeleton.from_dict(self._fixed["skeleton"]),
            on_bad=self.on_bad, on_mismatch=self.on_mismatch,
        )
        meta = {
            "keys": [keys[i] for i in by_key],
            "rejected": [list(r) for r in pre.rejected],
            "skeleton": pre.skeleton.to_dict(),
            "fps": pre.fps,
        }
        self.cache_path = cache.save(key, {"frames": pre.frames, "offsets": pre.offsets,
                                           "clip_file": pre.clip_file, "clip_mirrored": pre.clip_mirrored}, meta)
        self.cache_hit = False
        remap = np.asarray(by_key, dtype=np.int64)
        pre.clip_file = remap[pre.clip_file]
        pre.rejected = [(int(remap[i]), reason, kind) for i, reason, kind in pre.rejected]
        # preprocess warned about these already
        self._reported.update((str(paths[i]), reason) for i, reason, kind in pre.rejected if kind != "mirror")
        return pre

    # ================================================================== Lightning hooks
    def prepare_data(self) -> None:
        """Fill the cache (Lightning calls this on one process per node, before ``setup``)."""
        paths, keys, *_ = self._discover()
        if paths:
            self._features(paths, keys)

    def setup(self, stage: str | None = None) -> None:
        """Build everything (once; later calls return at once). See the module docstring."""
        if self._ready:
            return
        paths, keys, clip_labels, tables, dropped = self._discover()
        if not paths:
            raise self._nothing_left(dropped)
        for p, reason in dropped:
            self._report(p, reason)
        if self.unlabelled:
            p, why = self.unlabelled[0]
            log.warning("%d of %d clips have labels that cannot be read; they are used without labels (this task "
                        "needs none), e.g. %s", len(self.unlabelled), len(paths), why)
        groups = None if self.stratify is None else [lab[self.stratify] or "" for lab in clip_labels]
        split_of_file = split_by_file(keys, self.split_fractions, self.seed, groups)  # (F,)
        pre = self._features(paths, keys)

        # labels: one global vocabulary (names seen in clips extend the label files' names)
        seen = [{k: [lab[k]] for k in LABEL_KINDS if lab[k] is not None} for lab in clip_labels]
        if self._fixed is not None:
            self.label_names = {k: list(self._fixed["label_names"].get(k, [])) for k in LABEL_KINDS}
        else:
            self.label_names = build_vocabulary(tables + seen, self.label_filter)
        index = {k: {n: i for i, n in enumerate(v)} for k, v in self.label_names.items()}
        file_labels = {
            k: np.array([index[k].get(lab[k], -1) if lab[k] is not None else -1 for lab in clip_labels], np.int64)
            for k in LABEL_KINDS
        }

        # clips shorter than a window
        lengths = np.diff(pre.offsets)
        rejected = list(dropped) + [(paths[i], reason) for i, reason, _ in pre.rejected]
        short_files = sorted({int(f) for f, n in zip(pre.clip_file, lengths) if n < self.window})
        for f in short_files:
            n = int(lengths[pre.clip_file == f].min())
            reason = f"{n} frames at {pre.fps:g} fps, shorter than a window of {self.window}"
            if self.on_bad == "error":
                raise BadDataError(paths[f], reason)
            rejected.append((paths[f], reason))
        if short_files and ("short", tuple(short_files)) not in self._reported:
            self._reported.add(("short", tuple(short_files)))
            log.warning("%s", _short_summary([paths[f] for f in short_files],
                                             [int(lengths[pre.clip_file == f].min()) for f in short_files],
                                             self.window, pre.fps))
        keep_clip = lengths >= self.window
        keep_clip &= ~np.isin(pre.clip_file, short_files)
        if rejected:
            log.warning("%d of %d files found are not used (reasons above; list in dm.rejected)",
                        len(rejected), len(paths) + len(dropped))
        self.rejected: list[tuple[Path, str]] = rejected

        # per split: files (in key order), clips, windows
        self.skeleton: Skeleton = pre.skeleton
        self.fps: float = float(pre.fps)
        self.representation: MotionRepresentation = features.build(
            self.representation_name, self.skeleton, fps=self.fps, **self.representation_options)
        if self._fixed is not None:
            why = self.representation.describe_difference(self._fixed["representation"])
            if why is not None:
                raise ValueError(f"the metadata's representation cannot be rebuilt here: {why}")
        used_files = set(pre.clip_file[keep_clip].tolist())
        self._files: dict[str, list[int]] = {}
        self._clips: dict[str, np.ndarray] = {}
        for s, name in enumerate(SPLITS):
            files = sorted((i for i in used_files if split_of_file[i] == s), key=lambda i: keys[i])
            self._files[name] = files
            mask = keep_clip & np.isin(pre.clip_file, files)
            if name != "train":
                mask &= ~pre.clip_mirrored  # mirrored copies are training data only
            self._clips[name] = np.flatnonzero(mask)
        if not len(self._clips["train"]) and self._fixed is None:
            raise ValueError(f"the train split has no clips of {self.window} frames or more; "
                             f"{len(rejected)} files were rejected (see dm.rejected)")
        self._paths = paths
        self._keys = keys
        self._offsets = pre.offsets
        self._clip_file = pre.clip_file
        self._clip_mirrored = pre.clip_mirrored
        self._file_labels = file_labels

        # normalisation from the train clips only
        raw = np.asarray(pre.frames)
        if self._fixed is not None:
            self.normalizer: Normalizer = Normalizer.from_dict(self._fixed["normalizer"])
        else:
            in_train = np.repeat(np.isin(np.arange(len(lengths)), self._clips["train"]), lengths)  # (N,)
            self.normalizer = Normalizer.fit(raw[in_train])
        self._frames = self.normalizer.normalize(raw).astype(np.float32)  # (N, D)

        self._datasets: dict[str, WindowDataset] = {}
        for name in SPLITS:
            clips = self._clips[name]
            starts, pos = window_starts(pre.offsets, clips, self.window, self.stride)
            pos_in_split = {f: j for j, f in enumerate(self._files[name])}
            clip_to_local = np.array([pos_in_split[int(f)] for f in pre.clip_file[clips]], dtype=np.int64)
            local = clip_to_local[pos]  # (W,) index into files(name)
            labels = {k: file_labels[k][np.asarray(self._files[name], dtype=np.int64)] for k in LABEL_KINDS}
            self._datasets[name] = WindowDataset(self._frames, starts, local, self.window, labels)
        self._ready = True
        log.info("mocap: %s windows (train/val/test) of %d frames at %g fps from %d files; %d rejected",
                 "/".join(str(len(self._datasets[s])) for s in SPLITS), self.window, self.fps,
                 len(used_files), len(rejected))

    # ================================================================== loaders
    def dataloader(self, split: str, shuffle: bool = False) -> DataLoader:
        """The windows of ``split`` in batches; unshuffled (and all of them) unless ``shuffle``, which
        is how training reads its split."""
        self._check_split(split)
        return DataLoader(
            self._datasets[split], batch_size=self.batch_size, shuffle=shuffle, num_workers=self.num_workers,
            collate_fn=collate_windows, drop_last=self.drop_last and shuffle,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self.dataloader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self.dataloader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self.dataloader("test", shuffle=False)

    # ================================================================== for tasks and evaluation
    def _check_ready(self):
        if not self._ready:
            raise RuntimeError("call setup() first")

    def _check_split(self, split: str):
        self._check_ready()
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")

    def dataset(self, split: str) -> WindowDataset:
        """The windows of ``split``."""
        self._check_split(split)
        return self._datasets[split]

    def files(self, split: str) -> list[Path]:
        """The files of ``split`` that give windows; ``batch["clip"]`` indexes this list."""
        self._check_split(split)
        return [self._paths[i] for i in self._files[split]]

    def clip_labels(self, split: str) -> dict[str, np.ndarray]:
        """``{"content": (C,), "style": (C,)}`` int64 label ids of ``files(split)`` (-1: unknown)."""
        self._check_split(split)
        idx = np.asarray(self._files[split], dtype=np.int64)
        return {k: self._file_labels[k][idx].copy() for k in LABEL_KINDS}

    def clip_features(self, split: str, normalized: bool = True) -> list[np.ndarray]:
        """Whole clips of ``files(split)`` (not mirrored), ``(T_i, D)`` float32 each."""
        self._check_split(split)
        out = []
        for f in self._files[split]:
            c = int(np.flatnonzero((self._clip_file == f) & ~self._clip_mirrored)[0])
            x = self._frames[self._offsets[c]:self._offsets[c + 1]]
            out.append(x.copy() if normalized else self.normalizer.denormalize(x).astype(np.float32))
        return out

    def metadata(self) -> dict[str, Any]:
        """Plain lists/dicts/numbers/str for checkpoints (``torch.load(weights_only=True)``)."""
        self._check_ready()
        return {
            "skeleton": self.skeleton.to_dict(),
            "representation": self.representation.to_dict(),
            "normalizer": self.normalizer.to_dict(),
            "label_names": {k: list(v) for k, v in self.label_names.items()},
            "fps": float(self.fps),
            "window": int(self.window),
        }

    def summary(self) -> str:
        """One line per split: files and windows."""
        self._check_ready()
        lines = [f"{self.representation!r} at {self.fps:g} fps, windows of {self.window} every {self.stride} frames"]
        for s in SPLITS:
            lines.append(f"  {s:5s}: {len(self._files[s]):4d} files, {len(self._datasets[s]):6d} windows")
        if self.rejected:
            lines.append(f"  rejected: {len(self.rejected)} files (dm.rejected)")
        return "\n".join(lines)
