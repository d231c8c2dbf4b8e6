"""Browser check of the widget demos: JupyterLab on 127.0.0.1, driven by Playwright with the system Chromium.

The test opens a notebook that shows `generation_demo` and `plasticity_playground`, runs it, types
a prompt, clicks Generate with plasticity on and then off, and presses Measure in the playground,
reading what the page shows after each step.

It skips when /usr/bin/chromium, Playwright or JupyterLab is missing. Playwright uses the system
Chromium, so `playwright install` is never needed. The checkpoint is $LIQUID_CHECKPOINT, else
runs/quick/best when it exists, else a tiny one trained here in a few seconds. Screenshots go to
$LIQUID_SCREENSHOTS when set, else to pytest's temporary folder.
"""
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
TINY = ["model.d_model=16", "model.hidden_size=16", "train.batch_size=4", "train.block_size=16",
        "train.max_steps=6", "train.eval_interval=3", "train.eval_batches=1", "train.log_interval=3", "train.warmup_steps=2"]


def missing_tool() -> str | None:
    "Name the first tool this test needs that is not installed, or return None."
    if not CHROMIUM.exists(): return f"{CHROMIUM} not found: install the Debian package chromium"
    for module in ("playwright", "jupyterlab", "ipywidgets"):
        if importlib.util.find_spec(module) is None: return f"Python package {module} is not installed"
    return None


MISSING = missing_tool()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser check skipped: {MISSING}")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    "A liquid checkpoint folder for the demos."
    if os.environ.get("LIQUID_CHECKPOINT"): return Path(os.environ["LIQUID_CHECKPOINT"]).resolve()
    if (ROOT / "runs" / "quick" / "best" / "checkpoint.json").is_file(): return ROOT / "runs" / "quick" / "best"
    out = tmp_path_factory.mktemp("runs") / "tiny"
    train = "import sys; from liquid_nbdev.train import train_cli; train_cli(sys.argv[1:])"
    subprocess.run([sys.executable, "-c", train, "--out", str(out), "--no_progress", "--overrides", *TINY],
                   check=True, capture_output=True, timeout=600)
    return out / "best"


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    path = Path(os.environ.get("LIQUID_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_notebook(checkpoint: str) -> dict:
    "A notebook with one cell per demo, as a user would write it."
    sources = ["from liquid_nbdev.widgets import generation_demo, plasticity_playground",
               f"generation_demo({checkpoint!r})",
               f"plasticity_playground({checkpoint!r})"]
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources]
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory, checkpoint):
    "Start JupyterLab on 127.0.0.1 with a token, its config and settings in a temporary folder; yield the notebook URL."
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    root.mkdir()
    # A link lets the notebook load the checkpoint by a relative path, such as runs/quick/best, as a user would.
    link = root / "runs" / checkpoint.parent.name
    link.parent.mkdir()
    link.symlink_to(checkpoint.parent, target_is_directory=True)
    (root / "demo.ipynb").write_text(json.dumps(demo_notebook(f"runs/{checkpoint.parent.name}/{checkpoint.name}")))

    # No news or update checks: they would contact hosts outside this machine and pop up over the widgets.
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))

    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "IPYTHONDIR": str(home / "ipython"), "MPLCONFIGDIR": str(home / "matplotlib")}
    port, token = free_port(), secrets.token_hex(16)
    log = open(home / "jupyterlab.log", "w")

    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.extension_manager=readonly",
               f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    if os.geteuid() == 0: command.append("--allow-root")   # containers often run as root, and JupyterLab exits at start without this flag

    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab failed to start on port {port} within 90 s:\n{(home / 'jupyterlab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/demo.ipynb?token={token}"
    finally:
        server.terminate()
        try: server.wait(timeout=20)
        except subprocess.TimeoutExpired: server.kill()
        log.close()


# Records the length of the generated text at every DOM change, to check that tokens arrive one by one.
WATCH_TEXT = """() => {
  window.textLengths = [];
  const box = document.querySelector('.liquid-text');
  new MutationObserver(() => window.textLengths.push(box.innerText.length))
    .observe(box, {childList: true, subtree: true, characterData: true});
}"""


def shot(locator, path: Path):
    "Screenshot one widget and report where it went."
    locator.screenshot(path=str(path))
    print(f"screenshot: {path}")


def test_demos_in_jupyterlab(lab, screenshots):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(lab)
        page.locator(".jp-Notebook").wait_for(timeout=60_000)
        # JupyterLab may ask which kernel to start; the preselected choice is this environment's python3.
        dialog = page.locator(".jp-Dialog")
        try:
            dialog.wait_for(timeout=10_000)
        except PlaywrightTimeout:
            pass
        else:
            dialog.locator(".jp-mod-accept").click()
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

        # 1) The generation demo loads the checkpoint and shows the zero trace of a fresh state.
        demo = page.locator(".jp-OutputArea-output").filter(has=page.locator(".liquid-generate"))
        message, text, heatmap = demo.locator(".liquid-message"), demo.locator(".liquid-text"), demo.locator("img.liquid-heatmap")
        expect(message).to_contain_text("loaded", timeout=120_000)
        prompt = "One day, a little girl named Lily"
        page.locator(".liquid-prompt textarea").fill(prompt)
        page.locator(".liquid-stop-at-eot input").uncheck()   # a barely trained model may end the text at once

        # 2) Generate with plasticity on: the text streams in and the trace is no longer zero.
        page.evaluate(WATCH_TEXT)
        page.locator(".liquid-generate").click()
        expect(message).to_contain_text("done: 60 tokens with plasticity on", timeout=120_000)   # 60 is the default max tokens
        first_text, first_heatmap = text.inner_text(), heatmap.get_attribute("src")
        assert first_text.startswith(prompt), first_text
        assert len(first_text) > len(prompt), first_text
        lengths = page.evaluate("window.textLengths")
        assert len(set(lengths)) >= 3, f"the text should grow token by token, saw lengths {lengths}"
        assert " = 0.0000" not in message.inner_text(), message.inner_text()
        shot(demo, screenshots / "widgets_generation.png")

        # 3) Plasticity off: the same seed, traces frozen at zero, a different heatmap.
        page.locator(".liquid-plasticity").click()
        expect(page.locator(".liquid-plasticity")).to_have_text("plasticity OFF")
        page.locator(".liquid-generate").click()
        expect(message).to_contain_text("done: 60 tokens with plasticity off", timeout=120_000)
        assert " = 0.0000" in message.inner_text(), message.inner_text()
        assert heatmap.get_attribute("src") != first_heatmap
        assert text.inner_text().startswith(prompt), text.inner_text()
        shot(demo, screenshots / "widgets_generation_off.png")

        # 4) Bad input shows a message, not a traceback.
        page.locator(".liquid-prompt textarea").fill("   ")
        page.locator(".liquid-generate").click()
        expect(message).to_contain_text("error: empty prompt", timeout=30_000)
        expect(page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)

        # 5) The playground: Measure fills the table and draws the plot.
        playground = page.locator(".jp-OutputArea-output").filter(has=page.locator(".liquid-measure"))
        playground.scroll_into_view_if_needed()
        page.locator(".liquid-measure").click()
        expect(playground.locator(".liquid-message")).to_contain_text("done:", timeout=120_000)
        table = playground.locator(".liquid-table").inner_text()
        for row in ("no fact", "256"): assert row in table, table
        assert playground.locator("img.liquid-plot").get_attribute("src"), "the plot should be drawn"
        shot(playground, screenshots / "widgets_playground.png")
        browser.close()
