"""A real GStreamer webrtcbin WHIP publisher or WHEP player, run by Debian's python3 (PyGObject).

Usage: ``/usr/bin/python3 gst_webrtc_client.py URL TOKEN MODE SECONDS``; MODE ``vp8`` or
``h264`` publishes a test pattern (VP8, or H264 from openh264; 160x120 at 30 fps) plus Opus
silence like OBS or a hardware encoder does; MODE ``play`` receives VP8 and Opus (recvonly) and
counts the RTP packets webrtcbin hands out after SRTP. Either way: one non-trickle offer once ICE
gathering is complete, the answer from the 201 (RFC 9725). webrtcbin keeps its default DTLS
certificate, which is RSA-2048 (gst-plugins-bad ``gstdtlscertificate.c``): that is what issue
14 §6 is about. It prints ``answered`` after the 201, ``state <connection state>`` on each
change, ``received <kind> <packets>`` every 200 ms while playing, and exits after SECONDS
(status 0) or at the first error (status 1). Not imported by the tests: the venv has no
GStreamer bindings.
"""

from __future__ import annotations

import sys
import threading
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

VIDEO = {
    "vp8": "vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96"
    " ! application/x-rtp,media=video,encoding-name=VP8,payload=96",
    "h264": "openh264enc gop-size=30 ! video/x-h264,profile=constrained-baseline"
    " ! rtph264pay pt=96 config-interval=-1 aggregate-mode=zero-latency"
    " ! application/x-rtp,media=video,encoding-name=H264,payload=96",
}
PIPELINE = (
    "webrtcbin name=webrtc bundle-policy=max-bundle"
    " audiotestsrc is-live=true wave=silence ! audioconvert ! audioresample ! opusenc"
    " ! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111"
    " ! webrtc."
    " videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,framerate=30/1"
    " ! videoconvert ! {video} ! webrtc."
)


PLAY = (
    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000",
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000",
)


def player(pipeline: Gst.Pipeline, webrtc: Gst.Element) -> None:
    """Recvonly transceivers; every src pad webrtcbin adds goes to a counting fakesink."""
    received: dict[str, int] = {}
    for caps in PLAY:
        direction = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
        webrtc.emit("add-transceiver", direction, Gst.Caps.from_string(caps))

    def pad_added(_: Gst.Element, pad: Gst.Pad) -> None:
        if pad.direction != Gst.PadDirection.SRC:
            return
        kind = pad.get_current_caps().get_structure(0).get_value("media")
        received.setdefault(kind, 0)
        sink = Gst.ElementFactory.make("fakesink")
        sink.props.signal_handoffs = True
        sink.props.sync = False
        sink.connect("handoff", lambda *_: received.__setitem__(kind, received[kind] + 1))
        pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    def report() -> bool:
        for kind, count in received.items():
            print(f"received {kind} {count}", flush=True)
        return True

    webrtc.connect("pad-added", pad_added)
    GLib.timeout_add(200, report)


def main(url: str, token: str, mode: str, seconds: float) -> int:
    Gst.init(None)
    loop = GLib.MainLoop()
    if mode == "play":
        pipeline = Gst.Pipeline.new("player")
        webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
        webrtc.props.bundle_policy = GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE
        pipeline.add(webrtc)
        player(pipeline, webrtc)
    else:
        pipeline = Gst.parse_launch(PIPELINE.format(video=VIDEO[mode]))
        webrtc = pipeline.get_by_name("webrtc")
    status = [0]

    def fail(message: str) -> None:
        print(f"error {message}", flush=True)
        status[0] = 1
        loop.quit()

    def post(offer: str) -> None:
        request = urllib.request.Request(
            url,
            data=offer.encode(),
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = response.read().decode()
        except Exception as exc:  # any HTTP or network error ends the run
            GLib.idle_add(fail, f"POST: {exc}")
            return
        GLib.idle_add(set_answer, answer)

    def set_answer(answer: str) -> bool:
        _, message = GstSdp.SDPMessage.new_from_text(answer)
        kind = GstWebRTC.WebRTCSDPType.ANSWER
        description = GstWebRTC.WebRTCSessionDescription.new(kind, message)
        webrtc.emit("set-remote-description", description, None)
        print("answered", flush=True)
        return False

    def gathering(element: Gst.Element, _: object) -> None:
        if element.props.ice_gathering_state == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            offer = element.props.local_description.sdp.as_text()
            threading.Thread(target=post, args=(offer,), daemon=True).start()

    def offered(promise: Gst.Promise) -> None:
        reply = promise.get_reply()
        if reply is None or not reply.has_field("offer"):
            fail(f"create-offer: {reply.to_string() if reply else 'no reply'}")
            return
        offer = reply.get_value("offer")
        webrtc.emit("set-local-description", offer, None)

    def negotiation_needed(element: Gst.Element) -> None:
        index = 0
        while mode != "play" and (transceiver := element.emit("get-transceiver", index)):
            transceiver.props.direction = GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY
            index += 1  # a publisher only sends
        element.emit("create-offer", None, Gst.Promise.new_with_change_func(offered))

    def connection(element: Gst.Element, _: object) -> None:
        state = element.props.connection_state.value_nick
        print(f"state {state}", flush=True)
        if state == "failed":
            fail("connection failed")

    def on_message(_: Gst.Bus, message: Gst.Message) -> None:
        if message.type == Gst.MessageType.ERROR:
            fail(str(message.parse_error()[0]))

    webrtc.connect("on-negotiation-needed", negotiation_needed)
    webrtc.connect("notify::ice-gathering-state", gathering)
    webrtc.connect("notify::connection-state", connection)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add(int(seconds * 1000), loop.quit)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return status[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
