"""Headless Chromium (Debian's ``chromium``) on a local page: a screenshot, and which pictures fail to load.

The review page is for people with a browser, so its test opens it in one: a real page load and
a real decode of every picture (PNG, animated WebP or GIF), not a parse of the HTML.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    BROWSER is None, reason="chromium is not on PATH (Debian: apt-get install -y chromium; .ci/run installs it)")

# Set on the page before anything loads: every picture eager (lazy ones below the fold would never load
# headless), then, at the window's load event (every picture loaded or failed), the list of those that
# failed on <body data-probe>. The load event, not each picture's decode() promise: headless Chromium's
# virtual time waits for loads, not for decoding, so on a loaded machine a budget could run out while
# animated GIFs were still decoding and the probe was never set (a CI run failed that way).
_PROBE = """<script>
window.addEventListener('DOMContentLoaded', () => {
  [...document.images].forEach(i => { i.loading = 'eager'; });
});
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
  document.body.setAttribute('data-probe', JSON.stringify({images: imgs.length, broken: broken}));
});
</script>"""


def _run(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=180)


def screenshot(page: Path, out: Path, width: int = 1200, height: int = 900) -> Path:
    """The page as the browser draws it in a ``width`` x ``height`` window, as PNG at ``out``."""
    done = _run(f"--screenshot={out}", f"--window-size={width},{height}", "--virtual-time-budget=5000",
                Path(page).resolve().as_uri())
    assert out.is_file(), done.stderr[-2000:]
    return out


def broken_images(page: Path) -> dict:
    """``{"images": N, "broken": [src, ...]}``: every picture of ``page`` loaded eagerly in Chromium."""
    page = Path(page)
    probe = page.with_name(".probe-" + page.name)   # beside it, so relative sources resolve the same
    probe.write_text(page.read_text(encoding="utf-8").replace("</head>", _PROBE + "</head>", 1), encoding="utf-8")
    try:
        # A loaded machine decodes slowly: a second, longer budget before calling the page broken.
        for budget in (20000, 90000):
            done = _run(f"--virtual-time-budget={budget}", "--dump-dom", probe.resolve().as_uri())
            found = re.search(r'data-probe="([^"]*)"', done.stdout)
            if found:
                break
    finally:
        probe.unlink()
    assert found, f"the page never finished loading its pictures: {done.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
