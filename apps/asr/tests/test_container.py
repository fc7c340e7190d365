"""The container image: built offline from wheels made on the host, run as non-root with
no network at all, it serves and transcribes with the model from the pocketsphinx wheel."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf
from asr.domain.quality import wer
from asr.synth import make_corpus

APP = Path(__file__).resolve().parents[1]
TAG = "localhost/courtcloud/asr:test"

IN_CONTAINER = """
import json, subprocess, time, urllib.request
from asr.domain.audio import AudioLimits, load
from asr.domain.engine import PocketSphinxEngine
from asr.domain.recognise import transcribe
engine = PocketSphinxEngine()
data = open("/data/clip.wav", "rb").read()
result = transcribe(engine, load(data, AudioLimits(10**8, 600), 16000),
                    hot_words=["court", "Alibaba"])
server = subprocess.Popen(["/opt/asr/bin/asr-serve"])
try:
    for _ in range(120):
        try:
            ready = json.load(urllib.request.urlopen("http://127.0.0.1:8081/readyz"))
            break
        except OSError:
            time.sleep(0.5)
    print(json.dumps({"text": result.text, "hot": result.hot_words, "ready": ready}))
finally:
    server.terminate()
"""


@pytest.mark.lab
def test_image_builds_and_transcribes_offline(tmp_path: Path) -> None:
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
    # slt's "court" is "car" to the generic model: the court model and the hot word fix it
    clip = make_corpus(voices=("slt",), sentences=[
        "the plaintiff asks the court to order the defendant to pay nine thousand yuan"])[0]
    sf.write(tmp_path / "clip.wav", clip.audio, clip.rate)
    tmp_path.chmod(0o755)  # the image runs as a non-root user
    for item in tmp_path.iterdir():
        item.chmod(0o644)
    try:
        uid = subprocess.run([podman, "run", "--rm", "--entrypoint", "id", TAG, "-u"],
                             check=True, capture_output=True, text=True).stdout.strip()
        assert uid == "10002"
        out = subprocess.run(
            [podman, "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp",
             "-e", "ASR_HOST=127.0.0.1", "-v", f"{tmp_path}:/data:ro", TAG,
             "/opt/asr/bin/python", "-c", IN_CONTAINER],
            check=False, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        out = out.stdout
        result = json.loads(out.strip().splitlines()[-1])
        assert wer(clip.text, result["text"]) <= 0.25
        assert "court" in result["text"].split()
        assert result["hot"] == ["court", "alibaba"]  # espeak-ng is in the image
        assert result["ready"]["model"]["source"] == "shipped in the pocketsphinx wheel"
        assert result["ready"]["model"]["language_model"] == "court"  # shipped in the wheel
    finally:
        subprocess.run([podman, "rmi", "-f", TAG], capture_output=True, check=False)
