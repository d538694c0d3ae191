// WebRTC over the Socket.IO protocol: the browser offers for what it sends (publish) and for what
// it receives (subscribe {sdp, participant}, answered WHEP-like: the server sends that
// participant's tracks, so each stage or meeting tile shows its own person). Every peer
// connection is listed in window.pavilion.peers so tests (and support staff) can read getStats()
// and match a tile to the server's peer id; a connection that fails or stays disconnected is
// renegotiated from scratch by its owner.
//
// Adaptive media (issue 14, docs/media.md "Simulcast from the pages"): camera video is sent as
// simulcast layers (rids q, h, f, lowest first) where the capture is large enough; each viewer
// tile reports its rendered size and visibility (`view`), shows "weak connection: audio only"
// when the server says so (`media.quality`), and a publisher pauses the layers nobody watches
// (`publish.layers`, dynacast).
import { config, notifyError } from "./i18n.js";
import { RtcError } from "./connection.js";
import { CAPTURE, SCREEN_LAYERS, TileReport, follow, layers, publishers, quality, sendInit,
         showQuality, subscribers, views } from "./adaptive.js";

export { CAPTURE, sendInit };

export const peers = new Map();  // label -> RTCPeerConnection
const peerIds = new Map();  // label -> the server's peer id (for support staff and tests)
const DISCONNECTED_GRACE_MS = 4000;
const GATHER_MAX_MS = 3000;

/** Inbound audio per peer (the tests' proof that a microphone-only speaker is heard). */
async function inboundAudio() {
  const out = [];
  for (const [label, pc] of peers) {
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        out.push({ label, received: s.packetsReceived || 0, bytes: s.bytesReceived || 0,
                   samples: s.totalSamplesReceived || 0 });
      }
    }
  }
  return out;
}

async function inboundVideo() {
  const out = [];
  for (const [label, pc] of peers) {
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        out.push({ label, peer: peerIds.get(label) ?? null, ssrc: s.ssrc,
                   decoded: s.framesDecoded || 0, received: s.packetsReceived || 0,
                   lost: s.packetsLost || 0 });
      }
    }
  }
  return out;
}
/** Outbound video per peer and rid (tests: which simulcast layers encode, at what size). */
async function outboundVideo() {
  const out = [];
  for (const [label, pc] of peers) {
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "outbound-rtp" && s.kind === "video") {
        out.push({ label, peer: peerIds.get(label) ?? null, rid: s.rid ?? null,
                   width: s.frameWidth || 0, height: s.frameHeight || 0,
                   encoded: s.framesEncoded || 0, active: s.active !== false });
      }
    }
  }
  return out;
}

window.pavilion = Object.assign(window.pavilion ?? {}, {
  peers, inboundVideo, inboundAudio, outboundVideo, quality, views, layers });

/** The ICE servers the server named for this session (`session` event: its TURN credential is
 * minted per client and renewed on every reconnect), else the page's configured ones. */
export function newPeerConnection(conn) {
  return new RTCPeerConnection({ iceServers: conn.iceServers ?? config.iceServers ?? [] });
}

export async function gathered(pc) {
  if (pc.iceGatheringState === "complete") return;
  await Promise.race([
    new Promise((resolve) => pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    })),
    new Promise((resolve) => setTimeout(resolve, GATHER_MAX_MS)),
  ]);
}

/** Call `restart` when `pc` fails, or stays disconnected past a grace period. */
export function watch(pc, restart) {
  let timer = null;
  pc.addEventListener("connectionstatechange", () => {
    clearTimeout(timer);
    if (pc.connectionState === "failed") timer = setTimeout(restart, 500);
    else if (pc.connectionState === "disconnected") timer = setTimeout(restart, DISCONNECTED_GRACE_MS);
  });
}

/** getUserMedia with the page's error codes: camera_denied, camera_missing. */
export async function openCamera({ videoDevice, audioDevice, video = true, audio = true,
                                   size = CAPTURE.meeting } = {}) {
  const constraints = {
    video: video && { width: { ideal: size.width }, height: { ideal: size.height },
                      frameRate: { ideal: 24 },
                      ...(videoDevice ? { deviceId: { exact: videoDevice } } : {}) },
    audio: audio && (audioDevice ? { deviceId: { exact: audioDevice } } : true),
  };
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    const denied = err?.name === "NotAllowedError" || err?.name === "SecurityError";
    throw new RtcError(denied ? "camera_denied" : "camera_missing", err?.message);
  }
}

/** The camera and microphone, or the microphone alone when there is no camera (or it is
 * refused): a speaker without a camera is still heard. `audioOnly` says which it was. */
export async function openCameraOrMic(size = CAPTURE.meeting) {
  try {
    return { stream: await openCamera({ size }), audioOnly: false };
  } catch (err) {
    try {
      return { stream: await openCamera({ video: false }), audioOnly: true };
    } catch {
      throw err;
    }
  }
}

export async function openScreen() {
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    return stream.getVideoTracks()[0];
  } catch (err) {
    throw new RtcError("screen_denied", err?.message);
  }
}

/** Put H264 (packetization-mode 1, Constrained Baseline first: what every player decodes)
 * ahead of the other video codecs; a browser without H264 or without setCodecPreferences keeps
 * its own order (the server then transcodes for HLS). */
function preferH264(transceiver) {
  const codecs = RTCRtpReceiver.getCapabilities?.("video")?.codecs;
  if (!codecs || !transceiver.setCodecPreferences) return;
  const rank = (c) => {
    if (c.mimeType.toLowerCase() !== "video/h264") return 9;
    const fmtp = c.sdpFmtpLine ?? "";
    if (!fmtp.includes("packetization-mode=1")) return 8;
    return fmtp.includes("profile-level-id=42e01f") ? 0 : 1;
  };
  if (!codecs.some((c) => rank(c) < 8)) return;
  try {
    transceiver.setCodecPreferences([...codecs].sort((a, b) => rank(a) - rank(b)));
  } catch (err) {
    console.warn("codec preferences", err);
  }
}

/** What this page sends into the room: one peer connection, audio + video, sendonly. */
export class Publisher {
  /** `preferH264`: offer H264 first (a room with HLS: docs/hls.md §3). */
  constructor(conn, stream, label = "publish", { preferH264 = false } = {}) {
    this.conn = conn;
    this.stream = stream;
    this.label = label;
    this.preferH264 = preferH264;
    this.pc = null;
    this.peer = null;
    this.closed = false;
    this.wanted = null;  // rids the server says someone watches (null: not said yet, all)
    this.screen = false;  // a shared screen is sent: two layers
    this.layerWork = Promise.resolve();  // setParameters calls, one at a time
    follow(conn);
  }

  async start() {
    this.closed = false;
    const pc = newPeerConnection(this.conn);
    for (const track of this.stream.getTracks()) {
      const transceiver = pc.addTransceiver(track, sendInit(track));
      if (track.kind === "video" && this.preferH264) preferH264(transceiver);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    let reply;
    try {
      reply = await this.conn.call("publish", { sdp: pc.localDescription.sdp });
    } catch (err) {
      pc.close();
      throw err;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    this.#replace(pc, reply.peer);
    watch(pc, () => this.restart());
    await this.#fitEncodings();
  }

  #replace(pc, peer) {
    const old = this.pc;
    this.pc = pc;
    this.peer = peer;
    this.wanted = null;  // a new peer: the server tells its layers afresh
    peers.set(this.label, pc);
    peerIds.set(this.label, peer);
    publishers.add(this);
    if (old && old !== pc) old.close();
  }

  #videoSender() {
    return this.pc?.getTransceivers().find((tr) => tr.receiver.track?.kind === "video")?.sender ?? null;
  }

  /** A server that did not accept simulcast leaves one encoding (JSEP: the first, the
   * smallest): send it at full size instead of a quarter. */
  async #fitEncodings() {
    const sender = this.#videoSender();
    const params = sender?.getParameters();
    if (!params?.encodings || params.encodings.length !== 1) return this.#applyLayers();
    const [only] = params.encodings;
    if ((only.scaleResolutionDownBy ?? 1) === 1) return;
    only.scaleResolutionDownBy = 1;
    delete only.maxBitrate;
    try { await sender.setParameters(params); } catch (err) { console.warn("encodings", err); }
  }

  /** `publish.layers`: keep sending only the rids someone watches (dynacast). */
  want(active) {
    this.wanted = new Set(active);
    this.#applyLayers();
  }

  /** Each simulcast encoding is active when the server wants it (or has not said) and the
   * source uses it (a shared screen: the top two only). */
  #applyLayers() {
    this.layerWork = this.layerWork.then(() => this.#setLayers());
    return this.layerWork;
  }

  async #setLayers() {
    const sender = this.#videoSender();
    const params = sender?.getParameters();
    if (!params?.encodings || params.encodings.length < 2) return;
    const used = new Set(params.encodings.slice(this.screen ? -SCREEN_LAYERS : 0).map((e) => e.rid));
    let changed = false;
    for (const encoding of params.encodings) {
      const active = used.has(encoding.rid) && (this.wanted === null || this.wanted.has(encoding.rid));
      changed ||= encoding.active !== active;
      encoding.active = active;
    }
    if (!changed) return;
    try { await sender.setParameters(params); } catch (err) { console.warn("layers", err); }
  }

  /** Renegotiate from scratch (network drop, resumed session): the Sources continue. */
  async restart() {
    if (this.closed || !this.conn.socket.connected) return;
    try { await this.start(); } catch (err) { console.warn("republish failed", err); }
  }

  get healthy() {
    return this.pc && ["connected", "connecting", "new"].includes(this.pc.connectionState);
  }

  /** Swap the camera for another device or the screen (`screen`: two layers), without
   * renegotiating. */
  async replaceVideo(track, { screen = false } = {}) {
    const sender = this.#videoSender() ?? this.pc?.getSenders().find((s) => !s.track);
    if (!sender) return;
    await sender.replaceTrack(track);
    this.screen = screen;
    await this.#applyLayers();
  }

  async replaceAudio(track) {
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === "audio");
    if (sender) await sender.replaceTrack(track);
  }

  async stop() {
    this.closed = true;
    publishers.delete(this);
    const peer = this.peer;
    this.peer = null;
    if (peer) {
      try { await this.conn.call("unpublish", { peer }); } catch { /* the session may be gone */ }
    }
    this.pc?.close();
    peers.delete(this.label);
    peerIds.delete(this.label);
    this.pc = null;
  }
}

/** One remote participant's audio + video, received on its own recvonly peer connection.
 * With `participant`, the server sends that person's live tracks (a stage or meeting tile);
 * with only `source`, that one track; with neither, the room's latest audio and video. */
export class Subscriber {
  constructor(conn, { source = null, participant = null, label = "view", onstream = () => {},
                      video = null } = {}) {
    this.conn = conn;
    this.video = video;  // the tile's <video>: its size and visibility are reported
    this.report = video ? new TileReport(conn, video) : null;
    this.notice = null;  // the tile's "weak connection: audio only"
    follow(conn);
    this.source = participant ? null : source;
    this.participant = participant || null;
    this.label = label;
    this.onstream = onstream;
    this.pc = null;
    this.peer = null;
    this.closed = false;
    this.starting = false;
  }

  async start() {
    this.closed = false;
    this.starting = true;
    try { await this.#negotiate(); } finally { this.starting = false; }
  }

  async #negotiate() {
    const pc = newPeerConnection(this.conn);
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addTransceiver("video", { direction: "recvonly" });
    const stream = new MediaStream();
    pc.addEventListener("track", (event) => {
      stream.addTrack(event.track);
      this.onstream(stream);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    let reply;
    try {
      reply = await this.conn.call("subscribe", { sdp: pc.localDescription.sdp,
        source: this.source, participant: this.participant });
    } catch (err) {
      pc.close();
      throw err;
    }
    if (this.closed) {  // the tile went away (unpublished, left) while this was negotiated
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
    peerIds.set(this.label, reply.peer);
    subscribers.add(this);
    this.showQuality(null);
    this.report?.watch(reply.peer);
    if (old) old.close();
    if (oldPeer) this.conn.call("unsubscribe", { peer: oldPeer }).catch(() => {});
    watch(pc, () => this.restart());
  }

  async restart() {
    if (this.closed || !this.conn.socket.connected) return;
    try { await this.start(); } catch (err) { console.warn("resubscribe failed", err); }
  }

  /** Starting, or connected / connecting: no second subscription for the same tile. */
  get healthy() {
    if (this.starting) return true;
    return this.pc && ["connected", "connecting", "new"].includes(this.pc.connectionState);
  }

  /** `media.quality` for this tile's peer (null: forget the last one). */
  showQuality(event) {
    this.notice = showQuality(this.video?.parentElement, event, this.notice);
  }

  async stop() {
    this.closed = true;
    subscribers.delete(this);
    this.report?.stop();
    this.showQuality(null);
    const peer = this.peer;
    this.peer = null;
    if (peer) this.conn.call("unsubscribe", { peer }).catch(() => {});
    this.pc?.close();
    if (peers.get(this.label) === this.pc) { peers.delete(this.label); peerIds.delete(this.label); }
    this.pc = null;
  }
}

/** Chromium lists devices with labels only after permission: call after openCamera. */
export async function fillDevicePickers(cameraSelect, micSelect, stream) {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = {
    videoinput: stream.getVideoTracks()[0]?.getSettings().deviceId,
    audioinput: stream.getAudioTracks()[0]?.getSettings().deviceId,
  };
  for (const [select, kind] of [[cameraSelect, "videoinput"], [micSelect, "audioinput"]]) {
    select.replaceChildren();
    devices.filter((d) => d.kind === kind).forEach((d, index) => {
      const option = new Option(d.label || `${index + 1}`, d.deviceId);
      option.selected = d.deviceId === current[kind];
      select.append(option);
    });
  }
}

/** One Subscriber per remote participant, kept in step with the kinds they publish: a tile for
 * a microphone-only speaker too, and a fresh subscription when a kind appears or ends (the
 * server sends a participant's tracks that are live when subscribing). Events of one publish
 * (audio, then video) are settled together so a tile is negotiated once. */
export class ParticipantFeeds {
  /** `onstream()`: a tile's media arrived; `onrefused(err)`: the server refused a subscribe
   * with `media_full` (the room's seats are taken: the page may play its HLS instead);
   * both optional (issue 16 §4). */
  constructor(conn, { label, tileFor, dropTile, settleMs = 250, onstream = null,
                      onrefused = null }) {
    Object.assign(this, { conn, label, tileFor, dropTile, settleMs, onstream, onrefused });
    this.kinds = new Map();  // identity -> Set of published kinds
    this.timers = new Map();
    this.paused = false;  // on HLS: tiles are kept, no subscription is made
  }

  /** Stop receiving every tile over WebRTC (their seats are freed); tiles stay. */
  pause() {
    this.paused = true;
    for (const identity of this.kinds.keys()) {
      clearTimeout(this.timers.get(identity));
      this.timers.delete(identity);
      const entry = this.tileFor(identity);
      entry?.subscriber?.stop();
      if (entry) { entry.subscriber = null; entry.video.srcObject = null; }
    }
  }

  /** Subscribe every tile again (after `pause`). */
  resume() {
    this.paused = false;
    for (const identity of this.kinds.keys()) this.#later(identity);
  }

  published(track) {
    if (track.participant === this.conn.identity) return;
    const kinds = this.kinds.get(track.participant) ?? new Set();
    const fresh = !kinds.has(track.kind);
    kinds.add(track.kind);
    this.kinds.set(track.participant, kinds);
    const entry = this.tileFor(track.participant);
    if (!entry) return;
    entry.tile.classList.toggle("audio-only", !kinds.has("video"));
    if (fresh || !entry.subscriber?.healthy) this.#later(track.participant);
    else if (entry.subscriber?.starting) entry.again = true;  // retried if that attempt fails
  }

  unpublished(track) {
    const kinds = this.kinds.get(track.participant);
    if (track.participant === this.conn.identity || !kinds) return;
    kinds.delete(track.kind);
    if (kinds.size === 0) {
      this.forget(track.participant);
      this.dropTile(track.participant);
      return;
    }
    this.#later(track.participant);
  }

  forget(identity) {
    clearTimeout(this.timers.get(identity));
    this.timers.delete(identity);
    this.kinds.delete(identity);
  }

  #later(identity) {
    clearTimeout(this.timers.get(identity));
    this.timers.set(identity, setTimeout(() => this.#subscribe(identity), this.settleMs));
  }

  async #subscribe(identity) {
    this.timers.delete(identity);
    if (this.paused) return;
    const kinds = this.kinds.get(identity);
    const entry = kinds ? this.tileFor(identity) : null;
    if (!entry) return;
    entry.tile.classList.toggle("audio-only", !kinds.has("video"));
    entry.subscriber?.stop();  // never two peers for one tile
    entry.subscriber = new Subscriber(this.conn, { participant: identity, video: entry.video,
      label: `${this.label}:${identity}`, onstream: (stream) => {
        this.onstream?.();
        entry.video.srcObject = stream;
        entry.video.play().catch(() => {});
      } });
    entry.again = false;
    const subscriber = entry.subscriber;
    try {
      await subscriber.start();
    } catch (err) {
      // the tile went away meanwhile (left, unpublished, the room closed): its failure is no
      // news, and must not cover what the page said last (e.g. "the meeting was closed")
      if (subscriber.closed) return;
      // a track published while this attempt ran (its event came mid-negotiation) is tried
      // again rather than lost; otherwise the error is shown
      // wrong_node: the node placement named is unreachable (a killed edge, until its load
      // report expires): no event will say when it is over, so ask again shortly
      if (entry.again) this.#later(identity);
      else if (err.code === "media_full" && this.onrefused) this.onrefused(err);
      else if (err.code === "wrong_node") setTimeout(() => this.#later(identity), 2000);
      else notifyError(err);
    }
  }
}
