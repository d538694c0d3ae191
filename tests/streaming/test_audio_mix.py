"""The program recording's audio mix (issue 15 §1): real libopus in, mixed, real libopus out.

Tones are encoded to Opus, mixed, and the mix decoded again; a Goertzel filter (no numpy here)
says which frequencies are in which stretch of the result.
"""

from __future__ import annotations

import math
import random
from array import array

import av
import pytest

from streaming.audio_mix import AudioMix
from streaming.frames import Frame
from streaming.pcm_mixer import FRAME_SAMPLES, PcmMixer, clipped_sum
from tests.streaming.depacketize_media import opus_packets

A_HZ, B_HZ, NONE_HZ = 440.0, 1000.0, 700.0


def decoded(frames: list[Frame]) -> dict[int, float]:
    """The mix decoded: left-channel samples (-1..1) by tick, where the frames put them."""
    decoder = av.CodecContext.create("libopus", "r")
    decoder.format, decoder.layout, decoder.sample_rate = "s16", "stereo", 48000
    out: dict[int, float] = {}
    for frame in frames:
        for pcm in decoder.decode(av.Packet(frame.data)):
            samples = array("h", bytes(pcm.planes[0])[: pcm.samples * 4])
            out.update((frame.ts + i, samples[2 * i] / 32768) for i in range(pcm.samples))
    return out


def power(signal: dict[int, float], hz: float, start_s: float, end_s: float) -> float:
    """Goertzel: the power at ``hz`` of the samples in ``[start_s, end_s)``, per sample²."""
    coeff = 2 * math.cos(2 * math.pi * hz / 48000)
    s1 = s2 = 0.0
    ticks = range(round(start_s * 48000), round(end_s * 48000))
    for tick in ticks:
        s1, s2 = signal.get(tick, 0.0) + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / len(ticks) ** 2


def heard(signal: dict[int, float], start_s: float, end_s: float) -> set[float]:
    """The test tones clearly above the floor (a frequency neither track plays) there."""
    floor = power(signal, NONE_HZ, start_s, end_s) + 1e-9
    return {hz for hz in (A_HZ, B_HZ) if power(signal, hz, start_s, end_s) > 100 * floor}


def test_two_tones_are_mixed_and_a_track_that_stops_leaves_the_other() -> None:
    a, b = opus_packets(A_HZ, 50), opus_packets(B_HZ, 25)
    audio = AudioMix()
    out: list[Frame] = []
    for i in range(50):
        out += audio.push("a", a[i], 10.0 + 0.02 * i)
        if 5 <= i < 30:  # b starts 100 ms later and stops after 500 ms
            out += audio.push("b", b[i - 5], 10.1 + 0.02 * (i - 5))
    out += audio.end_track("b")
    out += audio.close()
    ticks = [f.ts for f in out]
    assert ticks == list(range(480000, 480000 + FRAME_SAMPLES * len(ticks), FRAME_SAMPLES)), \
        "one frame every 20 ms, from the first packet's time, no gaps"
    assert len(ticks) >= 50
    signal = {tick - 480000: value for tick, value in decoded(out).items()}
    assert heard(signal, 0.01, 0.09) == {A_HZ}
    assert heard(signal, 0.15, 0.55) == {A_HZ, B_HZ}
    assert heard(signal, 0.65, 0.95) == {A_HZ}
    assert audio.extradata.startswith(b"OpusHead")
    assert audio.close() == []
    with pytest.raises(RuntimeError, match="closed"):
        audio.push("a", a[0], 11.0)


def test_a_late_track_is_waited_for_within_the_bound() -> None:
    """b's packets come 100 ms after a's for the same time: still mixed, not dropped."""
    a, b = opus_packets(A_HZ, 30), opus_packets(B_HZ, 30)
    audio = AudioMix(max_wait_s=0.2)
    out: list[Frame] = []
    for i in range(35):
        if i < 30:
            out += audio.push("a", a[i], 0.02 * i)
        if i >= 5:
            out += audio.push("b", b[i - 5], 0.02 * (i - 5))
    out += audio.close()
    assert heard(decoded(out), 0.05, 0.55) == {A_HZ, B_HZ}


def test_a_silent_track_holds_the_mix_no_longer_than_max_wait() -> None:
    a = opus_packets(A_HZ, 40)
    audio = AudioMix(max_wait_s=0.2)
    audio.push("b", opus_packets(B_HZ, 1)[0], 0.0)  # then b says nothing
    out: list[Frame] = []
    for i in range(40):
        out += audio.push("a", a[i], 0.02 * i)
        assert 0.02 * (i + 1) - 0.2 - 0.021 <= len(out) * 0.02 <= 0.02 * (i + 1)
    late = audio.push("b", opus_packets(B_HZ, 2)[1], 0.1)  # its time was mixed: dropped
    out += late + audio.close()
    assert late == [] and heard(decoded(out), 0.1, 0.7) == {A_HZ}


def test_gaps_are_silence_and_long_silence_jumps() -> None:
    a = opus_packets(A_HZ, 40)
    audio = AudioMix(max_silence_s=5.0)
    out: list[Frame] = []
    for i in [*range(0, 10), *range(20, 30)]:  # 200 ms lost in the middle
        out += audio.push("a", a[i], 0.02 * i)
    for i in range(30, 40):  # then a minute of nothing
        out += audio.push("a", a[i], 60.0 + 0.02 * i)
    out += audio.close()
    ticks = [f.ts for f in out]
    assert ticks[:30] == [960 * i for i in range(30)], "the short gap is filled"
    assert ticks[30] == round((60.0 + 0.6) * 48000), "the long one is kept as a gap"
    assert len(ticks) <= 42
    signal = decoded(out)
    assert heard(signal, 0.05, 0.19) == {A_HZ} and heard(signal, 0.42, 0.58) == {A_HZ}
    assert heard(signal, 0.22, 0.38) == set()


def test_bad_packets_are_dropped_and_the_stream_goes_on() -> None:
    a = opus_packets(A_HZ, 20)
    audio = AudioMix()
    out: list[Frame] = []
    for i in range(20):
        out += audio.push("a", a[i], 0.02 * i)
        out += audio.push("junk", b"" if i % 2 else b"\xff" * 3, 0.02 * i)
    out += audio.close()
    assert [f.ts for f in out[:19]] == [960 * i for i in range(19)]
    assert heard(decoded(out), 0.05, 0.35) == {A_HZ}


@pytest.mark.parametrize("inputs", [2, 3, 5])
def test_pcm_mixer_sums_and_clips(inputs: int) -> None:
    """FFmpeg's amix sums exactly as the Python reference does, clipping included."""
    rng = random.Random(inputs)
    mixer = PcmMixer()
    for peak in (1000, 20000, 32767, 1000):  # quiet, loud (clips), and back: one graph each
        parts = [array("h", [rng.randint(-peak, peak) for _ in range(1920)]).tobytes()
                 for _ in range(inputs)]
        assert mixer.mix(parts) == clipped_sum(parts)
    loud = array("h", [30000, -30000, 100] * 640).tobytes()
    assert array("h", mixer.mix([loud] * inputs))[:3].tolist() == [32767, -32768, 100 * inputs]
    assert mixer.mix([loud]) is loud and mixer.mix([]) == bytes(3840)
