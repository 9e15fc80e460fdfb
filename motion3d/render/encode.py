"""Writing frames to video files: H.264 MP4 (yuv420p, plays everywhere) through imageio-ffmpeg, GIF
through Pillow, PNG for single frames.

Frames are (H, W, 3) uint8 RGB. Encoding runs in the ffmpeg process, in parallel with drawing.

Every writer here goes through :func:`motion3d.outputs.atomic_output`: the file is written under a
temporary name beside the output and renamed onto it only when complete, so an interrupted or
failed write (an exception, Ctrl-C, ``SIGTERM`` in a tool that called
:func:`motion3d.outputs.exit_on_sigterm`) leaves the output path as it was, with no truncated video.
Whether an existing file may be replaced is the caller's decision (:func:`motion3d.outputs.check_output`).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from motion3d.outputs import AtomicFile, atomic_output, check_output

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".gif")


def even_size(width: int, height: int) -> tuple[int, int]:
    """The size rounded up to even numbers (yuv420p needs even width and height)."""
    return width + (width & 1), height + (height & 1)


class VideoWriter:
    """Append RGB frames (H, W, 3) uint8 to an MP4 (H.264, yuv420p) or a GIF (at most
    :data:`GIF_MAX_FPS`: faster input keeps every :func:`gif_step` th frame, timed exactly).

    Use as a context manager; the size is fixed by the first frame, which must be even for MP4.
    Frames go to a temporary file beside ``path``, renamed onto ``path`` by :meth:`close` (the end
    of the ``with`` block); when the block ends with an exception (``KeyboardInterrupt`` and
    ``SystemExit`` included) the encoder is stopped and the temporary file removed, so ``path`` is
    never left half-written.
    ``preset`` is the x264 speed preset, ``crf`` its quality (lower is better). With
    ``threaded=True`` frames are handed to the encoder pipe from a background thread, so drawing the
    next frame overlaps writing this one (up to 16 frames are queued).
    """

    def __init__(self, path: str | os.PathLike, fps: float, preset: str = "veryfast", crf: int = 20,
                 threaded: bool = False):
        self.path = Path(path)
        self.fps = float(fps)
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.preset, self.crf = preset, crf
        self.suffix = self.path.suffix.lower()
        if self.suffix not in VIDEO_SUFFIXES:
            raise ValueError(f"{self.path}: unsupported video type {self.suffix!r}, use one of {VIDEO_SUFFIXES}")
        self._gen = None
        self._threaded = threaded
        self._queue = None
        self._thread = None
        self._error: BaseException | None = None
        self._gif: list[np.ndarray] = []
        self._file: AtomicFile | None = None
        self._aborting = False
        self.num_frames = 0
        self.size: tuple[int, int] | None = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _start(self, width: int, height: int) -> None:
        import imageio_ffmpeg

        self._file = AtomicFile(self.path)
        self._gen = imageio_ffmpeg.write_frames(
            str(self._file.tmp), (width, height), fps=self.fps, codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", quality=None, macro_block_size=1,
            output_params=["-preset", self.preset, "-crf", str(self.crf), "-movflags", "+faststart"],
            ffmpeg_log_level="error")
        self._gen.send(None)
        if self._threaded:
            import queue
            import threading

            self._queue = queue.Queue(maxsize=16)
            self._thread = threading.Thread(target=self._pump, name="VideoWriter", daemon=True)
            self._thread.start()

    def _pump(self) -> None:
        """Background thread: feed queued frames to ffmpeg until the None sentinel."""
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is None and not self._aborting:
                try:
                    self._gen.send(frame)
                except BaseException as err:  # reported by write/close in the caller's thread
                    self._error = err

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 frame (an alpha channel is dropped)."""
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            raise TypeError(f"frames must be uint8, got {frame.dtype}")
        frame = frame[..., :3]
        h, w = frame.shape[:2]
        if self.size is None:
            self.size = (w, h)
            if self.suffix != ".gif":
                if w % 2 or h % 2:
                    raise ValueError(f"{self.path}: H.264 yuv420p needs an even frame size, got {w}x{h}")
                self._start(w, h)
        elif self.size != (w, h):
            raise ValueError(f"{self.path}: frame {self.num_frames} is {w}x{h}, expected {self.size[0]}x{self.size[1]}")
        if self.suffix == ".gif":
            if self.num_frames % gif_step(self.fps) == 0:  # only the frames the GIF keeps (gif_timing)
                self._gif.append(frame.copy())
        elif self._queue is not None:
            if self._error is not None:
                raise RuntimeError(f"{self.path}: encoding failed: {self._error}") from self._error
            self._queue.put(np.ascontiguousarray(frame).copy())
        else:
            self._gen.send(np.ascontiguousarray(frame))
        self.num_frames += 1

    def close(self) -> None:
        """Finish the file (flushes the encoder, writes the GIF) and move it onto ``path``."""
        try:
            self._stop_encoder()
            if self._error is not None:
                raise RuntimeError(f"{self.path}: encoding failed: {self._error}") from self._error
        except BaseException:
            self.abort()
            raise
        if self._file is not None:
            self._file.commit()
            self._file = None
        if self.suffix == ".gif" and self._gif:
            keep, delays = gif_timing(self.num_frames, self.fps)
            _save_gif(self.path, self._gif[: len(keep)], delays)
            self._gif = []

    def _stop_encoder(self) -> None:
        """Let the writer thread drain its queue and end, then close ffmpeg (each at most once)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = self._queue = None
        if self._gen is not None:
            gen, self._gen = self._gen, None
            gen.close()

    def abort(self) -> None:
        """Stop encoding without finishing: queued frames are dropped, ffmpeg is closed and the
        temporary file removed; ``path`` keeps what it had. Safe to call more than once."""
        self._aborting = True
        try:
            self._stop_encoder()
        finally:
            self._gif = []
            if self._file is not None:
                self._file.discard()
                self._file = None


#: the highest GIF frame rate written: delays are whole centiseconds and browsers show delays
#: under 2 cs as 10 cs, so faster clips are resampled by time (every ``gif_step`` th frame)
GIF_MAX_FPS = 50.0


def gif_step(fps: float) -> int:
    """Keep every ``gif_step(fps)`` th frame in a GIF: the smallest step that brings the rate to at
    most :data:`GIF_MAX_FPS` (120 fps -> 3, i.e. 40 fps; 60 -> 2; 50 and below -> 1)."""
    return max(1, int(np.ceil(float(fps) / GIF_MAX_FPS - 1e-9)))


def gif_timing(num_frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``num_frames`` frames at ``fps`` a GIF keeps, and their delays.

    Frames are picked by time (every :func:`gif_step` th), and each delay runs from its frame's
    time to the next kept frame's, both rounded to GIF's centiseconds, so the delays add up to the
    clip's duration ``num_frames / fps`` to the centisecond (a 120 fps clip becomes 40 fps with
    delays 3, 2, 3, 2 ...). A last delay under 2 cs is merged into the one before it.

    Returns:
        keep (K,) int frame indices and delays (K,) int centiseconds (each >= 2 where K > 1).
    """
    step = gif_step(fps)
    keep = np.arange(0, num_frames, step)
    ends = np.minimum(np.append(keep[1:], num_frames), num_frames)
    bounds = np.round(np.append(0, ends) * 100.0 / float(fps)).astype(np.int64)
    delays = np.diff(bounds)
    if len(delays) > 1 and delays[-1] < 2:
        delays[-2] += delays[-1]
        keep, delays = keep[:-1], delays[:-1]
    return keep, np.maximum(delays, 1)


def write_gif(path: str | os.PathLike, frames, fps: float) -> None:
    """Write (H, W, 3) uint8 frames as a looping GIF that plays in the clip's true time: above
    :data:`GIF_MAX_FPS` frames are picked by time (:func:`gif_timing`), and the delays add up to
    ``len(frames) / fps`` to the centisecond."""
    frames = list(frames)
    keep, delays = gif_timing(len(frames), fps)
    _save_gif(path, [frames[i] for i in keep], delays)


def _save_gif(path, frames, delays_cs) -> None:
    """Frames (each (H, W, 3) uint8) with their delays (centiseconds) as a looping GIF, atomically."""
    from PIL import Image

    images = [Image.fromarray(np.asarray(f)[..., :3]) for f in frames]
    with atomic_output(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], loop=0,
                       duration=[int(d) * 10 for d in delays_cs], disposal=1, optimize=False)


def write_video(path: str | os.PathLike, frames, fps: float, **kwargs) -> int:
    """Write an iterable of (H, W, 3) uint8 frames; returns the number written."""
    with VideoWriter(path, fps, **kwargs) as w:
        for f in frames:
            w.write(f)
    return w.num_frames


def write_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Save one (H, W, 3|4) uint8 image as PNG."""
    from PIL import Image

    with atomic_output(path) as tmp:
        Image.fromarray(np.asarray(image)).save(tmp, format="PNG")


def read_video(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """Decode a video (MP4 or GIF) to (F, H, W, 3) uint8 and its frame rate; for tests and tools."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        from PIL import Image, ImageSequence

        with Image.open(path) as im:
            frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
            durations = [f.info.get("duration", 0) for f in ImageSequence.Iterator(im)]
        fps = 1000.0 * len(durations) / max(sum(durations), 1)
        return np.stack(frames), fps
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(gen)
    w, h = meta["size"]
    frames = [np.frombuffer(b, np.uint8).reshape(h, w, 3) for b in gen]
    return np.stack(frames), float(meta["fps"])


def check_clip_outputs(out, video=None, *, inputs=(), force: bool = False) -> None:
    """The outputs of a tool that writes a clip and optionally its video: ``out`` a ``.bvh``, ``video``
    one of :data:`VIDEO_SUFFIXES`, neither onto ``inputs`` (nor the video onto ``out``), existing ones
    only with ``force`` (:func:`motion3d.outputs.check_output`; raises its OutputError)."""
    inputs = tuple(i for i in inputs if i is not None)
    check_output(out, inputs=inputs, force=force, suffixes=(".bvh",), what="-o")
    if video:
        check_output(video, inputs=inputs + (out,), force=force, suffixes=VIDEO_SUFFIXES, what="--video")

