"""Lip sync in a recording (issue 15 §1): a clip whose picture flashes white exactly when a beep
sounds (made with ffmpeg's lavfi), published by a real aiortc peer (MediaPlayer: decoded and
encoded again by aiortc, sent with its own sender reports), recorded, and read back: the
flash and the beep must fall within 80 ms of each other in the file."""

from __future__ import annotations

import math
import subprocess
from array import array
from pathlib import Path

import av
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

from streaming import MediaPlane, RecordingSpec
from tests.streaming.clients import until

pytestmark = pytest.mark.timeout(60)
FLASH_AT_S = 2.5  # in the clip: late enough that the recording has its first keyframe
CLIP_S = 4


def flash_and_beep_clip(path: Path) -> Path:
    """Black video and silence, except 100 ms of white and of a 1 kHz tone at FLASH_AT_S."""
    window = f"between(t,{FLASH_AT_S},{FLASH_AT_S + 0.1})"
    subprocess.run([
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"color=black:s=320x240:r=30:d={CLIP_S}",
        "-f", "lavfi", "-i", f"sine=f=1000:r=48000:d={CLIP_S}",
        "-filter_complex",
        f"[0:v]drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{window}'[v];"
        f"[1:a]volume=0:enable='not({window})'[a]",
        "-map", "[v]", "-map", "[a]", "-c:v", "libvpx", "-deadline", "realtime",
        "-b:v", "300k", "-c:a", "libopus", str(path),
    ], check=True, timeout=60)
    return path


def first_flash(path: Path) -> float:
    """The time of the first mostly white picture."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            luma = bytes(frame.planes[0])
            if sum(luma) / len(luma) > 128:
                return float(frame.time or 0.0)
    raise AssertionError("no flash in the recording")


def first_beep(path: Path) -> float:
    """The start of the first 5 ms window whose RMS is well above silence."""
    mono = av.AudioResampler(format="s16", layout="mono", rate=48000)
    window = 240
    with av.open(str(path)) as container:
        for decoded in container.decode(audio=0):
            for frame in mono.resample(decoded):
                samples = array("h", bytes(frame.planes[0])[: frame.samples * 2])
                for start in range(0, len(samples) - window + 1, window):
                    chunk = samples[start : start + window]
                    if math.sqrt(sum(v * v for v in chunk) / window) > 1000:
                        return float(frame.time or 0.0) + start / 48000
    raise AssertionError("no beep in the recording")


async def test_the_flash_and_the_beep_stay_together(plane: MediaPlane, tmp_path: Path) -> None:
    plane.start_recording(RecordingSpec("rec_s", "r", tmp_path / "rec_s"))  # before anyone
    player = MediaPlayer(str(flash_and_beep_clip(tmp_path / "sync.webm")))
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    assert player.audio is not None and player.video is not None
    pc.addTrack(player.audio)
    pc.addTrack(player.video)
    await pc.setLocalDescription(await pc.createOffer())
    answer = await plane.publish("r", "alice", pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
    try:
        await until(lambda: player.video is not None and player.video.readyState == "ended",
                    within=CLIP_S + 20)
        ended = await plane.stop_recording("rec_s")
    finally:
        await pc.close()
    [file] = ended.files
    path = tmp_path / "rec_s" / file.name
    flash, beep = first_flash(path), first_beep(path)
    assert abs(flash - beep) < 0.08, (flash, beep)
