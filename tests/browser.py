"""Real-browser helpers for the viewer tests: Debian's Chromium driven by Playwright.

Never a browser downloaded at run time: the tests launch ``/usr/bin/chromium`` (system-packages.txt)
with ``executable_path``. WebGL runs on SwiftShader (software), so no GPU or display is needed.
"""
from __future__ import annotations

import contextlib
import os
import shutil

import numpy as np
import pytest

#: flags that give headless Chromium a working WebGL2 context without a GPU
CHROMIUM_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--use-gl=angle",
                 "--no-sandbox", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    """Debian's Chromium, or None."""
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _unavailable(msg: str):
    if os.environ.get("CI"):
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg, allow_module_level=True)


def require_browser() -> str:
    """The Chromium executable with Playwright importable, or a skip saying why (a failure under CI)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        _unavailable(f"playwright cannot load ({err}); pip install 'motion3d[web]'")
    path = chromium_path()
    if path is None:
        _unavailable("chromium is not installed; the system packages of system-packages.txt: "
                     "`make system-packages` as root")
    return path


def require_viser():
    try:
        import viser
    except ImportError as err:
        _unavailable(f"viser cannot load ({err}); pip install 'motion3d[web]'")
    return viser


@contextlib.contextmanager
def browser_page(width: int = 640, height: int = 480):
    """A Playwright page in headless Debian Chromium; yields (page, console messages, requests)."""
    from playwright.sync_api import sync_playwright

    exe = require_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = b.new_page(viewport={"width": width, "height": height})
            console, requests = [], []
            page.on("console", lambda m: console.append(m.text))
            page.on("request", lambda r: requests.append(r.url))
            yield page, console, requests
        finally:
            b.close()


def hide_notifications(page) -> None:
    """Hide viser's toasts ("Software WebGL rendering detected") that would cover the canvas."""
    page.add_style_tag(content="[class*=Notifications-root], [class*=Notification-root] {display: none !important}")


def canvas_image(page) -> np.ndarray:
    """(H, W, 3) uint8 screenshot of the 3D canvas."""
    import io

    from PIL import Image

    png = page.locator("canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def colour_mask(img: np.ndarray, rgb, tol: int = 60) -> np.ndarray:
    """(H, W) bool: pixels within ``tol`` (max channel difference) of ``rgb``."""
    return np.abs(img.astype(int) - np.asarray(rgb, int)).max(-1) <= tol


def foreground(img: np.ndarray) -> np.ndarray:
    """(H, W) bool: saturated pixels (figures, markers), not the white/grey background and grid."""
    f = img.astype(int)
    return (f.max(-1) - f.min(-1)) > 60
