"""FLV tags, the RFC 6184 packetizer, the session's command flow and the ingest, pure (issue 16
§8): fed what Debian's ffmpeg really writes (an FLV file it made), and hostile inputs."""

from __future__ import annotations

import itertools
import struct

import av
import pytest

from streaming import rtp_header
from streaming.depacketize import for_codec, parse_sps
from streaming.negotiation import Codec
from streaming.rtmp import amf0, flv, h264_rtp
from streaming.rtmp.aac_opus import AacToOpus
from streaming.rtmp.chunks import AUDIO, COMMAND_AMF0, COMMAND_AMF3, VIDEO, ChunkReader, ChunkWriter
from streaming.rtmp.errors import RtmpError
from streaming.rtmp.handshake import SIZE
from streaming.rtmp.ingest import NTP_EPOCH, RtmpIngest
from streaming.rtmp.rtp_out import RtpStream
from streaming.rtmp.session import BAD_NAME, Media, Publish, RtmpSession, Unpublish
from tests.rtmp.flv_file import AUDIO as FLV_AUDIO
from tests.rtmp.flv_file import VIDEO as FLV_VIDEO
from tests.rtmp.flv_file import make_flv, tags


@pytest.fixture(scope="module")
def ffmpeg_tags(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, int, bytes]]:
    path = tmp_path_factory.mktemp("flv") / "clip.flv"
    return tags(make_flv(path, 2.0, ("-bf", "2", "-preset", "fast")))  # B-frames: cts > 0


def video_tags(all_tags: list[tuple[int, int, bytes]]) -> list[tuple[int, flv.VideoTag]]:
    out = []
    for kind, ts, body in all_tags:
        if kind == FLV_VIDEO:
            tag = flv.video_tag(body)
            assert tag is not None
            out.append((ts, tag))
    return out


# -- FLV ---------------------------------------------------------------------------------------


def test_ffmpeg_flv_parses_to_config_and_frames(ffmpeg_tags: list[tuple[int, int, bytes]]) -> None:
    video = video_tags(ffmpeg_tags)
    _ts0, first = video[0]
    assert first.kind == "config" and first.config is not None
    config = first.config
    assert config.length_size == 4
    sps = parse_sps(config.sps[0])
    assert (sps.width, sps.height) == (640, 360)
    assert config.profile_level_id == config.sps[0][1:4].hex()
    assert video[-1][1].kind == "end"  # ffmpeg closes with an AVC end of sequence
    frames = [tag for _, tag in video[1:-1]]
    assert frames[0].keyframe and all(t.kind == "nalus" for t in frames)
    assert sum(t.keyframe for t in frames) == 2  # GOP 30 over 60 frames
    assert any(t.composition_ms > 0 for t in frames)  # B-frames: pts after dts
    kinds = {n[0] & 0x1F for n in flv.nalus(frames[0].data, config.length_size)}
    assert 5 in kinds


HOSTILE_VIDEO = {
    "enhanced rtmp hevc": (b"\x90hvc1\x00\x00\x00", "enhanced RTMP video \\(hvc1\\)"),
    "enhanced rtmp av1": (b"\x91av01", "enhanced RTMP video \\(av01\\)"),
    "legacy hevc id 12": (b"\x1c\x01\x00\x00\x00", "HEVC"),
    "vp6": (b"\x14\x00", "VP6 is not supported"),
    "empty": (b"", "empty video message"),
    "short avc": (b"\x17\x01", "shorter than its 5-byte header"),
    "unknown avc type": (b"\x17\x07\x00\x00\x00", "AVC packet type 7"),
    "config bad version": (b"\x17\x00\x00\x00\x00\x02\x42\xc0\x1e\xff\xe1", "malformed"),
    "config no pps": (b"\x17\x00\x00\x00\x00\x01\x42\xc0\x1e\xff\xe1\x00\x04\x67\x42\xc0\x1e",
                      "no PPS count"),
    "config truncated sps": (b"\x17\x00\x00\x00\x00\x01\x42\xc0\x1e\xff\xe1\x00\x09\x67",
                             "truncated"),
}


@pytest.mark.parametrize("case", HOSTILE_VIDEO)
def test_hostile_video_tags_are_clear_errors(case: str) -> None:
    body, message = HOSTILE_VIDEO[case]
    with pytest.raises(RtmpError, match=message):
        flv.video_tag(body)


@pytest.mark.parametrize(("body", "message"), [
    (b"\x2f\xff", "MP3 is not supported"), (b"\xbe\x00", "Speex"), (b"\x0f", "PCM"),
    (b"\xaf", "shorter"), (b"\xaf\x05", "AAC packet type 5"), (b"", "empty audio"),
])
def test_hostile_audio_tags_are_clear_errors(body: bytes, message: str) -> None:
    with pytest.raises(RtmpError, match=message):
        flv.audio_tag(body)


@pytest.mark.parametrize(("data", "message"), [
    (b"\x00\x00\x00\x05\x65\x88", "runs past"), (b"\x00\x00", "truncated"),
    (b"\x00\x00\x00\x00", "runs past"),
])
def test_bad_nalu_lengths_are_errors(data: bytes, message: str) -> None:
    with pytest.raises(RtmpError, match=message):
        flv.nalus(data, 4)


# -- RFC 6184 packetizer -----------------------------------------------------------------------

SPS, PPS = b"\x67\x42\xc0\x1e\xaa", b"\x68\xce\x3c\x80"


@pytest.mark.parametrize(("nals", "expected"), [
    ([b"\x65idr"], [SPS, PPS, b"\x65idr"]),  # parameter sets before an IDR
    ([SPS, PPS, b"\x65idr"], [SPS, PPS, b"\x65idr"]),  # not twice
    ([b"\x09\xf0", b"\x06sei", b"\x41p"], [b"\x06sei", b"\x41p"]),  # AUD out, no SPS for a P
])
def test_access_units(nals: list[bytes], expected: list[bytes]) -> None:
    assert h264_rtp.access_unit(nals, [SPS], [PPS]) == expected


def test_fu_a_fragments_carry_the_nal_and_its_bits() -> None:
    nal = bytes([0x65]) + bytes(range(256)) * 20  # 5121 bytes
    parts = h264_rtp.payloads([b"\x06sei", nal], mtu=1200)
    assert parts[0] == b"\x06sei"  # small: a single NAL unit packet
    fus = parts[1:]
    assert len(fus) == 5 and all(len(p) <= 1200 for p in fus)
    assert all(p[0] == (0x65 & 0xE0) | 28 for p in fus)  # F+NRI kept, type FU-A
    assert [p[1] & 0xC0 for p in fus] == [0x80, 0, 0, 0, 0x40]  # start ... end
    assert all(p[1] & 0x1F == 5 for p in fus)
    assert bytes([0x65]) + b"".join(p[2:] for p in fus) == nal


def test_ffmpeg_frames_packetized_depacketize_to_the_same_nal_units(
        ffmpeg_tags: list[tuple[int, int, bytes]]) -> None:
    """Our packetizer against the recordings' own RFC 6184 depacketizer."""
    video = video_tags(ffmpeg_tags)
    config = video[0][1].config
    assert config is not None
    stream, depacketizer = RtpStream(102), for_codec("h264")
    sent, got = [], []
    for ts, tag in video[1:-1]:
        nals = h264_rtp.access_unit(flv.nalus(tag.data, 4), config.sps, config.pps)
        sent.append(b"".join(b"\x00\x00\x00\x01" + n for n in nals))
        payloads = h264_rtp.payloads(nals)
        for i, payload in enumerate(payloads):
            packet = stream.packet((ts + tag.composition_ms) * 90, i == len(payloads) - 1,
                                   payload)
            got += depacketizer.push(packet, rtp_header.parse(packet))
    assert [frame.data for frame in got] == sent[:len(got)] and len(got) >= len(sent) - 1
    assert got[0].keyframe and (got[0].width, got[0].height) == (640, 360)


# -- the session -------------------------------------------------------------------------------


def command(name: str, txn: float, *args: amf0.Value, csid: int = 3, stream: int = 0) -> bytes:
    return ChunkWriter().write(csid, COMMAND_AMF0, stream, 0, amf0.encode(name, txn, *args))


def replies(data: bytes) -> list[list[amf0.Value]]:
    reader = ChunkReader()
    reader.chunk_size = 4096  # set by the session's Set Chunk Size (read by a real client)
    return [amf0.decode_all(m.payload) for m in reader.feed(data) if m.type_id == COMMAND_AMF0]


def shaken() -> RtmpSession:
    session = RtmpSession()
    session.feed(b"\x03" + b"\x00" * SIZE)
    session.feed(b"\x00" * SIZE)
    assert session.state == "connecting"
    return session


CONNECT = {"app": "live", "type": "nonprivate", "flashVer": "FMLE/3.0", "tcUrl": "rtmp://h/live"}


def test_ffmpeg_command_flow_to_publish_and_unpublish() -> None:
    session = shaken()
    out, events = session.feed(command("connect", 1, CONNECT))
    reader = ChunkReader()
    control = reader.feed(out)
    assert [m.type_id for m in control] == [5, 6, 20]  # window ack, peer bandwidth, _result
    assert reader.chunk_size == 4096  # Set Chunk Size between them, applied by the reader
    assert control[2].payload.startswith(amf0.encode("_result", 1.0))
    assert amf0.decode_all(control[2].payload)[3]["code"] == "NetConnection.Connect.Success"  # type: ignore[index]
    assert not events
    for name, txn in (("releaseStream", 2.0), ("FCPublish", 3.0)):
        out, _ = session.feed(command(name, txn, None, "key"))
        assert replies(out)[0][:2] == ["_result", txn]
    out, _ = session.feed(command("createStream", 4, None))
    assert replies(out) == [["_result", 4.0, None, 1.0]]
    out, events = session.feed(command("publish", 5, None, "the-token?x=1", "live", csid=8,
                                       stream=1))
    assert events == [Publish("live", "the-token")] and out == b""
    status = replies(session.start())[0]
    assert status[0] == "onStatus" and status[3]["code"] == "NetStream.Publish.Start"  # type: ignore[index]
    video = ChunkWriter().write(6, VIDEO, 1, 40, b"\x17\x01\x00\x00\x00")
    audio = ChunkWriter().write(4, AUDIO, 1, 42, b"\xaf\x01aac")
    _, events = session.feed(video + audio)
    assert events == [Media("video", 40, b"\x17\x01\x00\x00\x00"),
                      Media("audio", 42, b"\xaf\x01aac")]
    _, events = session.feed(command("FCUnpublish", 6, None, "key") + command("deleteStream", 7,
                                                                              None, 1.0))
    assert events == [Unpublish()] and session.state == "ended"


def test_refusal_is_an_onstatus_error_with_the_reason() -> None:
    session = shaken()
    session.feed(command("connect", 1, CONNECT) + command("createStream", 2, None))
    session.feed(command("publish", 3, None, "k", "live"))
    status = replies(session.refuse(BAD_NAME, "the stream key is no valid token"))[0]
    assert status[3] == {"level": "error", "code": BAD_NAME,
                         "description": "the stream key is no valid token"}
    assert session.state == "ended"


def test_acknowledgements_follow_the_encoders_window() -> None:
    session = shaken()
    window = ChunkWriter().write(2, 5, 0, 0, struct.pack(">I", 1000))
    out, _ = session.feed(window + command("connect", 1, CONNECT))
    session.feed(command("createStream", 2, None) + command("publish", 3, None, "k", "live"))
    session.start()
    out, _ = session.feed(ChunkWriter().write(6, VIDEO, 1, 0, b"\x17\x01\x00\x00\x00" * 300))
    acks = [m for m in ChunkReader().feed(out) if m.type_id == 3]
    assert len(acks) == 1 and struct.unpack(">I", acks[0].payload)[0] > 1000


HOSTILE_FLOWS = {
    "other app": ([command("connect", 1, {"app": "admin"})], "application 'admin' is not served"),
    "publish first": ([command("publish", 1, None, "k", "live")], "publish in state connecting"),
    "media first": ([command("connect", 1, CONNECT),
                     ChunkWriter().write(6, VIDEO, 1, 0, b"\x17")], "before publishing"),
    "amf3": ([ChunkWriter().write(3, COMMAND_AMF3, 0, 0, b"\x00\x02\x00\x01x")], "AMF3"),
    "no name": ([ChunkWriter().write(3, COMMAND_AMF0, 0, 0, amf0.encode(1.0))],
                "without a name"),
    "connect twice": ([command("connect", 1, CONNECT)] * 2, "connect sent twice"),
    "empty key": ([command("connect", 1, CONNECT), command("publish", 2, None, "", "live")],
                  "without a stream key"),
    "command flood": ([command("connect", 1, CONNECT)] + [command("nonsense", 2)] * 40,
                      "too many commands"),
}


@pytest.mark.parametrize("case", HOSTILE_FLOWS)
def test_hostile_flows_are_a_clear_error(case: str) -> None:
    messages, error = HOSTILE_FLOWS[case]
    session = shaken()
    with pytest.raises(RtmpError, match=error):
        for message in messages:
            session.feed(message)


def test_a_key_in_the_application_is_used_when_the_name_is_empty() -> None:
    session = shaken()
    session.feed(command("connect", 1, {"app": "live/the-token"}))
    _, events = session.feed(command("publish", 2, None, "", "live"))
    assert events == [Publish("live", "the-token")]


def test_unknown_commands_are_ignored() -> None:
    session = shaken()
    session.feed(command("connect", 1, CONNECT))
    assert session.feed(command("getMovieLength", 2, None)) == (b"", [])


# -- the ingest --------------------------------------------------------------------------------


class Target:
    """Records what the ingest sends (stands in for a LocalPublisher, the same port)."""

    def __init__(self) -> None:
        self.codecs: dict[str, Codec] = {}
        self.packets: dict[str, list[bytes]] = {"audio": [], "video": []}
        self.reports: dict[str, list[tuple[int, int]]] = {"audio": [], "video": []}
        self.levels: list[int] = []

    def add_track(self, kind: str, codec: Codec) -> None:  # type: ignore[override]
        self.codecs[kind] = codec

    def send(self, kind: str, packet: bytes) -> None:
        self.packets[kind].append(packet)

    def sender_report(self, kind: str, ntp: int, rtp_ts: int) -> None:
        self.reports[kind].append((ntp, rtp_ts))

    def audio_level(self, level: int) -> None:
        self.levels.append(level)


def test_aac_becomes_20_ms_opus_on_the_48_khz_clock(
        ffmpeg_tags: list[tuple[int, int, bytes]]) -> None:
    audio = [(ts, flv.audio_tag(body)) for kind, ts, body in ffmpeg_tags if kind == FLV_AUDIO]
    assert audio[0][1].config
    codec = AacToOpus(audio[0][1].data)
    packets = [p for ts, tag in audio[1:] for p in codec.push(ts, tag.data)]
    times = [t for t, _, _ in packets]
    assert all(b - a == 960 for a, b in itertools.pairwise(times))
    assert 95 <= len(packets) <= 105  # 2 s of 20 ms frames, give or take the codecs' delays
    decoder = av.CodecContext.create("libopus", "r")
    decoded = [f for _, opus, _ in packets for f in decoder.decode(av.Packet(opus))]  # type: ignore[attr-defined]
    assert len(decoded) == len(packets) and {f.samples for f in decoded} == {960}
    # ffmpeg's sine source: amplitude 1/8 of full scale, RMS -21 dBov, upmixed from mono to
    # stereo at swresample's -3 dB centre level: RFC 6464 level 24
    assert {loudness for _, _, loudness in packets[5:-5]} <= {23, 24, 25}


async def test_ingest_times_both_tracks_on_one_clock(
        ffmpeg_tags: list[tuple[int, int, bytes]]) -> None:
    target = Target()
    wall = [1_700_000_000.0]
    ingest = RtmpIngest(target, clock=lambda: wall[0])  # type: ignore[arg-type]
    for kind, ts, body in ffmpeg_tags:
        if kind in (FLV_AUDIO, FLV_VIDEO):
            wall[0] = 1_700_000_000.0 + ts / 1000
            ingest.media("audio" if kind == FLV_AUDIO else "video", ts, body)
    await ingest.aclose()
    assert target.codecs["video"].fmtp["packetization-mode"] == "1"
    assert target.codecs["audio"].name == "opus"
    assert len(target.levels) == len(target.packets["audio"])
    video = [rtp_header.parse(p) for p in target.packets["video"]]
    assert len({h.ssrc for h in video}) == 1
    assert all((b.sequence - a.sequence) % 65536 == 1 for a, b in itertools.pairwise(video))
    frames = {h.timestamp for h in video}
    assert len(frames) == 60 and sum(h.marker for h in video) == 60  # one marker per frame
    # each track's reports put its RTP clock on the same wall clock (lip sync)
    for kind, rate in (("video", 90_000), ("audio", 48_000)):
        assert target.reports[kind], kind
        for ntp, rtp in target.reports[kind]:
            assert abs(ntp / 2**32 - NTP_EPOCH - 1_700_000_000.0 - rtp / rate) < 0.002
