"""The audio level a publisher writes in each audio packet (RFC 6464), read without decoding.

Chromium (and aiortc's own sender) put ``urn:ietf:params:rtp-hdrext:ssrc-audio-level`` in every
audio packet once it is negotiated: one byte, the V (voice activity) bit and a 7-bit level in
-dBov (0 = loudest, 127 = silence), in an RFC 8285 header extension of the one-byte (0xBEDE) or
two-byte (0x100X) form. The intake reads it for every published audio packet, so this is a
few byte reads with no allocation (``bench/audio_level.py`` measures it next to
``rtp_header.parse``). :class:`LevelMeter` counts a track's loud packets between two looks of
the speaker detector (streaming/speaker.py).
"""

from __future__ import annotations

from streaming.rtp_header import ONE_BYTE_PROFILE, TWO_BYTE_PROFILE, TWO_BYTE_PROFILE_MASK

AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
SILENCE = 127  # RFC 6464 §3: -127 dBov, the quietest level the extension can say


def read_level(data: bytes, offset: int, ext_id: int) -> int:
    """The level (0-127, -dBov) in extension ``ext_id`` of the header extension at ``offset``,
    or -1 when the packet does not carry it (or the extension block is malformed).

    The V bit is ignored: aiortc's sender never sets it and Chromium's VAD decides it on its
    own terms; one threshold on the level treats every publisher alike. Malformed input is
    never an exception here: the packet still forwards, only its level is unknown.
    """
    if offset < 0:
        return -1
    end = len(data)
    if (offset + 6 <= end and data[offset] == 0xBE and data[offset + 1] == 0xDE
            and (data[offset + 2] or data[offset + 3]) and data[offset + 4] >> 4 == ext_id):
        return data[offset + 5] & 0x7F  # one-byte form, the level first (Chromium): half the cost
    if offset + 4 > end:
        return -1
    profile = (data[offset] << 8) | data[offset + 1]
    stop = offset + 4 + 4 * ((data[offset + 2] << 8) | data[offset + 3])
    if stop < end:
        end = stop
    pos = offset + 4
    if profile == ONE_BYTE_PROFILE:
        while pos < end:
            head = data[pos]
            if head == 0:  # padding (RFC 8285 §4.2)
                pos += 1
                continue
            if head >> 4 == ext_id:
                return data[pos + 1] & 0x7F if pos + 1 < end else -1
            if head >> 4 == 15:  # RFC 8285 §4.2: id 15 stops processing
                return -1
            pos += 2 + (head & 0x0F)
    elif profile & TWO_BYTE_PROFILE_MASK == TWO_BYTE_PROFILE:
        while pos + 1 < end:
            head = data[pos]
            if head == 0:
                pos += 1
                continue
            size = data[pos + 1]
            if head == ext_id:
                return data[pos + 2] & 0x7F if size and pos + 2 < end else -1
            pos += 2 + size
    return -1


class LevelMeter:
    """One audio track's loud packets since the detector last looked (:meth:`take`).

    ``add`` runs per audio packet: two counters and a comparison. A packet is *loud* when its
    level is at most ``threshold`` (-dBov: a smaller number is louder).
    """

    __slots__ = ("loud", "loudest", "packets", "threshold")

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.packets = 0
        self.loud = 0
        self.loudest = SILENCE

    def add(self, level: int) -> None:
        self.packets += 1
        if level <= self.threshold:
            self.loud += 1
            if level < self.loudest:
                self.loudest = level

    def take(self) -> tuple[int, int, int]:
        """(packets, loud packets, loudest level) since the last call; then start again."""
        taken = (self.packets, self.loud, self.loudest)
        self.packets = self.loud = 0
        self.loudest = SILENCE
        return taken
