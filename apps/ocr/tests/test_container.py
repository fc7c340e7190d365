"""The container image: built offline from wheels made on the host, run as non-root with
no network at all, it loads the models from the wheels and reads a page."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from ocr.domain.quality import cer
from ocr.synth import make_page

APP = Path(__file__).resolve().parents[1]
TAG = "localhost/courtcloud/ocr:test"

IN_CONTAINER = """
import json, subprocess, sys, time, urllib.request
from PIL import Image
from ocr.domain.pipeline import OcrPipeline
page = OcrPipeline().recognise(Image.open("/data/page.png"))
server = subprocess.Popen(["/opt/ocr/bin/ocr-serve"])
try:
    for _ in range(120):
        try:
            ready = json.load(urllib.request.urlopen("http://127.0.0.1:8080/readyz"))
            break
        except OSError:
            time.sleep(0.5)
    print(json.dumps({"text": page.text, "orientation": page.orientation, "ready": ready}))
finally:
    server.terminate()
"""


@pytest.mark.lab
def test_image_builds_and_reads_a_page_offline(tmp_path: Path) -> None:
    podman = shutil.which("podman")
    assert podman, "podman is needed for lab tests"
    base = "localhost/courtcloud/base:bookworm"
    if subprocess.run([podman, "image", "exists", base], check=False).returncode != 0:
        cli = shutil.which("courtcloud")
        assert cli, f"{base} is missing and the courtcloud tool is not installed to build it"
        subprocess.run([cli, "lab", "images"], check=True)
    pip = shutil.which("pip") or "pip"
    subprocess.run([pip, "wheel", "-q", "--wheel-dir", str(APP / "build" / "wheels"), str(APP)],
                   check=True)
    subprocess.run([podman, "build", "-q", "-f", str(APP / "Containerfile"), "-t", TAG,
                    str(APP)], check=True)
    page = make_page(random.Random(4), "rotated", "page", size=(900, 640), n_sentences=3)
    page.image.save(tmp_path / "page.png")
    tmp_path.chmod(0o755)  # the image runs as a non-root user
    for item in tmp_path.iterdir():
        item.chmod(0o644)
    try:
        uid = subprocess.run([podman, "run", "--rm", "--entrypoint", "id", TAG, "-u"],
                             check=True, capture_output=True, text=True).stdout.strip()
        assert uid == "10001"
        out = subprocess.run(
            [podman, "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp",
             "-e", "OCR_INDEX_PATH=/tmp/index.sqlite3", "-e", "OCR_HOST=127.0.0.1",
             "-v", f"{tmp_path}:/data:ro", TAG, "/opt/ocr/bin/python", "-c", IN_CONTAINER],
            check=False, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        out = out.stdout
        import json

        result = json.loads(out.strip().splitlines()[-1])
        assert result["orientation"] == page.rotation
        assert cer(page.text, result["text"]) < 0.02
        assert result["ready"]["status"] == "ready"
    finally:
        subprocess.run([podman, "rmi", "-f", TAG], capture_output=True, check=False)
