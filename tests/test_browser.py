"""The classroom app in a real browser: Playwright drives Debian's Chromium against the app
served on localhost. Skipped, with instructions, where Chromium is not installed."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium not installed: apt-get install -y chromium (.ci/run does this in CI)",
)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "viz", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urlopen(url, timeout=2):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited: {proc.stdout.read()}") from None
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("the app did not start within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


# true once some plot image differs from the given list of image sources
CHANGED = (
    "before => { const now = [...document.querySelectorAll('img')].map(e => e.src);"
    " return now.length >= 5 && now.some((s, i) => s !== before[i]); }"
)


def _images(page) -> list[str]:
    return page.locator("img").evaluate_all("els => els.map(e => e.src)")


def test_page_loads_a_control_changes_the_model_steps_and_plots_change(app_url, tmp_path):
    shot = Path(os.environ.get("RINGSIM_SCREENSHOT", tmp_path / "app.png"))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(app_url, timeout=60_000)
        step = page.get_by_role("button", name="Step +15 min")
        step.wait_for(timeout=60_000)
        page.wait_for_function("document.querySelectorAll('img').length >= 5", timeout=60_000)
        assert page.get_by_text("Request regime").count() >= 1  # the policy controls are there
        initial = _images(page)
        # change a control (the seed: a new neighbourhood) and reset to apply it
        seed = page.get_by_label("Seed")
        seed.fill("42")
        seed.press("Enter")
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function(CHANGED, arg=initial, timeout=60_000)  # the map is redrawn
        page.get_by_text("day 0, 00:00").first.wait_for(timeout=60_000)
        reset = _images(page)
        # step the model: time advances and the plots change
        step.click()
        page.get_by_text("day 0, 00:15").first.wait_for(timeout=60_000)
        page.wait_for_function(CHANGED, arg=reset, timeout=60_000)
        stepped = _images(page)
        assert sum(a != b for a, b in zip(stepped, reset, strict=False)) >= 2
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
