"""What a channel accepts, where a listener of one is sent, who hears a booth (issue 17).

Shared by the Socket.IO events (signaling/media_events.py) and WHIP/WHEP
(signaling/media_door.py): an interpreter's offer must send no video, and a listener of a
language receives the Source ``channel:<language>`` (streaming/channels.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rooms.token import AccessToken
from signaling.errors import SignalingError
from streaming.channels import channel_id

if TYPE_CHECKING:
    from signaling.ports import HubPort


def check_audio_only(sdp: str) -> None:
    """Refuse (``video_not_allowed``) an offer that would send video into a channel."""
    if _video_sends(sdp):
        raise SignalingError("video_not_allowed", "a channel carries audio only")


def _video_sends(sdp: str) -> bool:
    """Whether any ``m=video`` section with a non-zero port sends: sendrecv or sendonly, or
    no direction at all (sendrecv is the default, RFC 8866 §6.7)."""
    sections = sdp.replace("\r\n", "\n").split("\nm=")
    for section in sections[1:]:
        lines = section.split("\n")
        head = lines[0].split()
        if not head or head[0] != "video" or (len(head) > 1 and head[1] == "0"):
            continue
        directions = {ln.strip() for ln in lines[1:]} & {
            "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"}
        if not directions or directions & {"a=sendrecv", "a=sendonly"}:
            return True
    return False


def channel_source(language: str) -> str:
    """The source id a ``subscribe {channel}`` receives (streaming/channels.py)."""
    return channel_id(language)


async def check_booths(hub: HubPort, token: AccessToken, room: str,
                       wanted: Sequence[str] | None) -> None:
    """An interpreter's own track (on air or on standby) reaches only their booth partners:
    receiving it by ``source`` or ``participant`` asks the gate's channel rule for its language
    (``not_allowed`` / ``wrong_language`` otherwise). Listeners receive the channel."""
    if not wanted or not hub.media.has_plane:
        return
    live = hub.media.plane.sources.get(room, {})
    for language in {s.booth for s in (live.get(i) for i in wanted) if s is not None and s.booth}:
        await hub.service.check_channel(token, room, language)
