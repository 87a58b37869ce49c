"""Peak memory of 25 MB uploads through the worker (the issues' target: well under 128 MB).

Run: .venv/bin/python bench/upload_memory.py. Starts the worker with the stand-ins under
`wrangler dev`, samples the RSS of its workerd runtime process every 10 ms while a 25 MB WAV is
transcribed (multipart upload, handed to the model as a stream) and while a 25 MB file is uploaded
to /v1/files (streamed into R2), and prints the baseline, the peak and the difference, for several
uploads of each in one run. The runtime process also holds the stand-ins and the local D1/R2/Queue
simulators, so the difference is an upper bound for the worker's own.
"""
import io
import pathlib
import struct
import sys
import tempfile
import threading
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from servers import workerd_rss_mib  # noqa: E402
from integration.devserver import DevServer, apply_migrations  # noqa: E402

SIZE = 25 * 1000 * 1000 - 1024  # just under OpenAI's 25 MB limit
UPLOADS = 3


def wav(size: int) -> bytes:
    """A valid 16 kHz mono 16-bit WAV of about `size` bytes (silence)."""
    frames = (size - 44) // 2
    header = b"RIFF" + struct.pack("<I", 36 + frames * 2) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", frames * 2)
    return header + bytes(frames * 2)


def peak_during(pgid: int, action) -> tuple:
    """(RSS before, peak RSS while `action` runs) of the largest workerd process, MiB."""
    before = max(workerd_rss_mib(pgid))
    peak, done = [before], threading.Event()

    def sample():
        while not done.is_set():
            peak.append(max(workerd_rss_mib(pgid)))
            time.sleep(0.01)
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        action()
    finally:
        done.set()
        sampler.join()
    return before, max(peak)


def main() -> None:
    audio = wav(SIZE)
    with tempfile.TemporaryDirectory() as tmp:
        state = pathlib.Path(tmp) / "state"
        apply_migrations(state)
        with DevServer(state, pathlib.Path(tmp) / "wrangler.log") as server, httpx.Client(
                base_url=server.url, timeout=120, headers={"authorization": "Bearer sk-local-dev"}) as client:
            def transcribe():
                response = client.post("/v1/audio/transcriptions", data={"model": "whisper-1"},
                                       files={"file": ("long.wav", io.BytesIO(audio), "audio/wav")})
                response.raise_for_status()

            def store():
                response = client.post("/v1/files", data={"purpose": "user_data"},
                                       files={"file": ("long.wav", io.BytesIO(audio), "audio/wav")})
                response.raise_for_status()

            for label, action in (("WAV transcription", transcribe), ("file upload to R2", store)):
                action()  # warm-up: the first request loads code paths
                print(f"{len(audio) / 1e6:.1f} MB {label}, workerd runtime RSS in MiB:")
                for attempt in range(UPLOADS):
                    before, peak = peak_during(server.proc.pid, action)
                    print(f"  upload {attempt + 1}: before {before:7.1f}   peak {peak:7.1f}   "
                          f"peak above before {peak - before:6.1f}   (target: well under 128)")


if __name__ == "__main__":
    main()
