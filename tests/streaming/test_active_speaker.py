"""Active speaker from real aiortc publishers' RFC 6464 levels, read in the intake (issue 14 §5).

aiortc's sender encodes the ToneTrack's frames to Opus and writes each packet's audio level
(the extension is in its offer, and the plane's answer keeps it): a loud and a quiet publisher
of one room, then the quiet one speaking and the loud one falling silent.
"""

from __future__ import annotations

from streaming import MediaPlane, SpeakerChanged
from streaming.audio_level import AUDIO_LEVEL_URI
from streaming.negotiation import Description
from tests.data import SDP_DIR
from tests.streaming.clients import ToneTrack, publish, until


async def test_the_loud_publisher_is_the_speaker_and_the_floor_moves(plane: MediaPlane) -> None:
    events: list[SpeakerChanged] = []
    plane.listen(lambda e: events.append(e) if isinstance(e, SpeakerChanged) else None)
    ann_voice, bob_voice = ToneTrack(0.5), ToneTrack(0.0)
    ann = await publish(plane, "hall", "ann", audio=True, audio_track=ann_voice)
    bob = await publish(plane, "hall", "bob", audio=True, audio_track=bob_voice)
    assert AUDIO_LEVEL_URI in Description.parse(ann.answer_sdp).media[1].extensions()
    await until(lambda: bool(events))
    assert events[0].room == "hall" and events[0].participant == "ann"
    assert events[0].level is not None and events[0].level < 20  # a -9 dBov tone
    ann_voice.amplitude, bob_voice.amplitude = 0.0, 0.3
    await until(lambda: events[-1].participant == "bob")
    assert [e.participant for e in events] == ["ann", "bob"]
    bob_voice.amplitude = 0.0
    await until(lambda: events[-1].participant is None)  # nobody speaks: the floor is released
    assert all(source.levels is not None
               for source in plane.sources["hall"].values() if source.kind == "audio")
    await ann.close()
    await bob.close()


async def test_chromium_offers_the_level_and_the_answer_keeps_it(plane: MediaPlane) -> None:
    offer = (SDP_DIR / "chromium-156-publish-offer.sdp").read_text()
    answer = await plane.publish("hall", "chrome", offer)
    audio = Description.parse(answer.sdp).media[0]
    assert audio.kind == "audio" and audio.extensions()[AUDIO_LEVEL_URI] == 1
    inbound = next(i for i in plane.peers[answer.peer_id].inbounds if not i.video)  # type: ignore[attr-defined]
    assert inbound.level_id == 1
