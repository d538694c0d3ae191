"""Publisher leg: a publisher's peer, answered with one forwardable codec per m-line.

Its packets are taken right after SRTP unprotect by :class:`~streaming.intake.IntakeLeg`; no
decoder thread ever starts (DESIGN.md §3).
"""

from __future__ import annotations

from streaming import aiortc_hooks, simulcast
from streaming.intake import Inbound, IntakeLeg, TrackSink
from streaming.negotiation import Codec, Description, narrow, plan_publish, restore

__all__ = ["Inbound", "PublisherLeg", "TrackSink"]


class PublisherLeg(IntakeLeg):
    """A publisher's connection; ``inbounds`` are its tracks once media is connected."""

    async def answer(self, offer_sdp: str) -> str:
        """Negotiate the publisher's offer: one forwardable codec per m-line."""
        offer = Description.parse(offer_sdp)
        plan = plan_publish(offer)
        mids = [section.mid for section in offer.media]
        layered = {}  # m-line index -> its simulcast offer (issue 14 §1)
        for index, section in enumerate(offer.media):
            found = simulcast.read(section) if section.kind == "video" else None
            if found is not None and index in plan.codecs:
                layered[index] = found
            simulcast.strip(section)
        await self.set_offer(narrow(offer, plan))
        accepted: list[tuple[int, Codec]] = []
        for transceiver in self.pc.getTransceivers():
            index = mids.index(transceiver.mid) if transceiver.mid in mids else -1
            codec = plan.codecs.get(index)
            if codec is None:
                transceiver.direction = "inactive"
                continue
            transceiver.direction = "recvonly"
            self._rtcp_ssrc = aiortc_hooks.sender_ssrc(transceiver.sender)
            accepted.append((index, codec))
        dtls = self.dtls
        aiortc_hooks.intercept_rtp(dtls, self._on_rtp)
        aiortc_hooks.intercept_rtcp(dtls, self._on_rtcp)
        answer = Description.parse(await self.make_answer())
        for transceiver in self.pc.getTransceivers():
            for index, codec in accepted:
                if transceiver.mid == mids[index]:
                    inbound = self._accept_track(answer, index, codec, layered.get(index))
                    aiortc_hooks.replace_receive(transceiver.receiver, self._receiver(inbound))
        return restore(str(answer), plan)

    def _accept_track(
        self, answer: Description, index: int, codec: Codec, layers: simulcast.SimulcastOffer | None
    ) -> Inbound:
        """The track of answer m-line ``index``; a simulcast offer is accepted there."""
        section = answer.media[index]
        if layers is None:
            return self._add_track(codec, section.extensions())
        simulcast.accept(section, layers)
        return self._add_track(codec, section.extensions(), layers.rids, layers.rid_ext)
