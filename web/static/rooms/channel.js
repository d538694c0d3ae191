// One interpretation channel received (issue 17, docs/protocol.md `subscribe {channel}`): a
// recvonly AUDIO offer answered with that channel's one stable track, whoever is live in the
// booth (a handover changes the voice, never the track). Used by the forum's listener and by
// the interpreter console (relay: listen to another channel instead of the floor).
import { RtcError } from "./connection.js";
import { gathered, newPeerConnection, peers, watch } from "./media.js";

export class ChannelSubscriber {
  /** `onstream(stream)`: the channel's audio arrived (a MediaStream with one audio track). */
  constructor(conn, language, { onstream = () => {} } = {}) {
    this.conn = conn;
    this.language = language;
    this.label = `channel:${language}`;
    this.onstream = onstream;
    this.pc = null;
    this.peer = null;
    this.closed = false;
  }

  async start() {
    this.closed = false;
    const pc = newPeerConnection(this.conn);
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addEventListener("track", (event) => this.onstream(new MediaStream([event.track])));
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    let reply;
    try {
      reply = await this.conn.call("subscribe", { sdp: pc.localDescription.sdp,
                                                  channel: this.language });
    } catch (err) {
      pc.close();
      throw err instanceof RtcError ? err : new RtcError("internal_error");
    }
    if (this.closed) {  // the listener picked something else while this was negotiated
      pc.close();
      this.conn.call("unsubscribe", { peer: reply.peer }).catch(() => {});
      return;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    const old = this.pc;
    const oldPeer = this.peer;
    this.pc = pc;
    this.peer = reply.peer;
    peers.set(this.label, pc);
    old?.close();
    if (oldPeer) this.conn.call("unsubscribe", { peer: oldPeer }).catch(() => {});
    watch(pc, () => this.restart());
  }

  async restart() {
    if (this.closed || !this.conn.socket.connected) return;
    try { await this.start(); } catch (err) { console.warn("channel resubscribe failed", err); }
  }

  stop() {
    this.closed = true;
    const peer = this.peer;
    this.peer = null;
    if (peer) this.conn.call("unsubscribe", { peer }).catch(() => {});
    if (peers.get(this.label) === this.pc) peers.delete(this.label);
    this.pc?.close();
    this.pc = null;
  }
}
