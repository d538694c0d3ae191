// The interpreter console (issue 17 §8, docs/pages.md "Interpreter console"): the stage's
// tiles with the floor's own volume (mixer.js), relay (another channel instead of the floor),
// the booth (ON AIR, partners, handover offer/accept, cough), hold Space or M to mute, and the
// listeners of every channel. Publishing is AUDIO ONLY into one channel (`publish {channel}`).
import { el, formatCount, languageName, notify, notifyError, t } from "./i18n.js";
import { enter } from "./connection.js";
import { ParticipantFeeds, gathered, newPeerConnection, openCamera, peers, watch } from "./media.js";
import { ChannelSubscriber } from "./channel.js";
import { Mixer } from "./mixer.js";
import { Presence } from "./presence.js";
import { nameTag } from "./names.js";
import { LANGUAGES, liveLanguages } from "./ducking.js";
import { airState, channelOf, controls, isMuteKey } from "./booth.js";

const $ = (id) => document.getElementById(id);
const FLOOR = "floor";

/** The interpreter's voice into one channel: one sendonly audio transceiver. */
class ChannelPublisher {
  constructor(conn, stream, language) {
    Object.assign(this, { conn, stream, language, pc: null, peer: null, closed: false });
  }

  async start() {
    const pc = newPeerConnection(this.conn);
    pc.addTransceiver(this.stream.getAudioTracks()[0], { direction: "sendonly" });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    let reply;
    try {
      reply = await this.conn.call("publish", { sdp: pc.localDescription.sdp, channel: this.language });
    } catch (err) { pc.close(); throw err; }
    await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    this.pc?.close();
    Object.assign(this, { pc, peer: reply.peer });
    peers.set(`interpret:${this.language}`, pc);
    watch(pc, () => this.restart());
  }

  async restart() {
    if (this.closed || !this.conn.socket.connected) return;
    try { await this.start(); } catch (err) { console.warn("republish failed", err); }
  }

  /** Hold-to-mute: the track sends silence at once, before the server hears of it. */
  silence(on) {
    for (const track of this.stream.getAudioTracks()) track.enabled = !on;
  }

  async stop() {
    this.closed = true;
    if (this.peer) await this.conn.call("unpublish", { peer: this.peer }).catch(() => {});
    this.pc?.close();
    this.stream.getTracks().forEach((track) => track.stop());
  }
}

const { conn, state } = await enter();
if (state) {
  const me = conn.identity;
  const mine = LANGUAGES.filter((code) => (state.me?.languages ?? []).includes(code));
  const tiles = new Map();
  const mixer = new Mixer();
  const presence = new Presence(conn);
  let channels = state.channels ?? [];
  let publisher = null;
  let relay = null;
  let held = false;
  let coughing = false;
  const language = () => $("booth-language").value;

  const tileFor = (identity) => {
    if (!tiles.has(identity)) {
      const video = el("video", { autoplay: true, playsinline: true });
      video.muted = true;  // the floor is heard through the mixer, at its own volume
      const tile = el("figure", { class: "tile", "data-identity": identity }, video,
        el("figcaption", {}, nameTag(identity, presence.get(identity)?.name ?? identity)));
      tiles.set(identity, { tile, video, subscriber: null });
      $("stage").append(tile);
    }
    $("stage-empty").hidden = tiles.size > 0;
    return tiles.get(identity);
  };
  const dropTile = (identity) => {
    tiles.get(identity)?.subscriber?.stop();
    tiles.get(identity)?.tile.remove();
    tiles.delete(identity);
    $("stage-empty").hidden = tiles.size > 0;
  };
  const feeds = new ParticipantFeeds(conn, { label: "speaker", tileFor, dropTile,
    onstream: () => mixer.setFloor([...tiles.values()].map((e) => e.video.srcObject)) });
  setInterval(() => mixer.setFloor([...tiles.values()].map((e) => e.video.srcObject)), 500);

  $("booth-language").replaceChildren(...mine.map((code) =>
    el("option", { value: code, text: languageName(code) })));
  $("floor-volume").addEventListener("input", (e) => mixer.setVolume(Number(e.target.value) / 100));
  // a browser starts Web Audio suspended until the person acts on the page (autoplay rules)
  for (const kind of ["pointerdown", "keydown"]) {
    addEventListener(kind, () => mixer.ctx.resume().catch(() => {}));
  }

  function renderRelay() {
    // any live channel but the one I am live on: on standby, my own booth's (my partner)
    const others = liveLanguages(channels).filter((code) => channelOf(channels, code).live !== me);
    const wanted = relay?.language ?? FLOOR;
    $("relay").replaceChildren(el("option", { value: FLOOR, text: t("interp_floor") }),
      ...others.map((code) => el("option", { value: code, text: languageName(code) })));
    $("relay").value = others.includes(wanted) ? wanted : FLOOR;
    $("hearing").textContent = relay ? t("interp_relay", { language: languageName(relay.language) })
                                     : t("interp_hearing_floor");
  }

  function listenTo(choice) {
    relay?.stop();
    relay = null;
    mixer.setChannel(null);
    mixer.set({ choice: choice === FLOOR ? "original" : choice, level: 0 });
    if (choice !== FLOOR) {
      const sub = new ChannelSubscriber(conn, choice, {
        onstream: (stream) => { if (relay === sub) mixer.setChannel(stream); } });
      relay = sub;
      sub.start().catch((err) => { if (!sub.closed) notifyError(err); });
    }
    renderRelay();
  }
  $("relay").addEventListener("change", (e) => listenTo(e.target.value));

  function renderBooth() {
    const channel = channelOf(channels, language());
    const air = airState(channel, me, Boolean(publisher));
    const onAir = $("on-air");
    onAir.dataset.onAir = String(air === "on_air");
    onAir.dataset.state = air;
    onAir.textContent = t(`air_${air}`);
    const can = controls(channel, me, Boolean(publisher));
    $("handover").disabled = !can.handover;
    $("take").disabled = !can.take;
    $("cough").disabled = !can.cough;
    coughing = channel.live === me && channel.muted;
    $("cough").setAttribute("aria-pressed", String(coughing));
    $("mic-start").hidden = Boolean(publisher) || mine.length === 0;
    $("partners").replaceChildren(...channel.booth.filter((who) => who !== me).map((who) =>
      el("li", { "data-identity": who }, nameTag(who, presence.get(who)?.name ?? who), " ",
        el("span", { class: "badge", text: partnerState(who, channel) }))));
    $("channel-rows").replaceChildren(...channels.map((c) => el("tr", { "data-language": c.language },
      el("td", { text: languageName(c.language) }),
      el("td", {}, c.live ? nameTag(c.live, presence.get(c.live)?.name ?? c.live) : t("interp_nobody")),
      el("td", { class: "listeners", text: formatCount(c.listeners ?? 0) }))));
  }

  /** A partner: on air here, on air in another channel (their other language), or standby. */
  function partnerState(who, channel) {
    if (channel.live === who) return t(channel.muted ? "air_muted" : "air_on_air");
    const elsewhere = channels.find((c) => c.live === who);
    return elsewhere ? t("air_elsewhere", { language: languageName(elsewhere.language) })
                     : t("air_standby");
  }

  const render = () => { renderBooth(); renderRelay(); };
  $("booth-language").addEventListener("change", render);

  async function call(event, payload) {
    try { await conn.call(event, { language: language(), ...payload }); }
    catch (err) { notifyError(err); }
  }
  $("handover").addEventListener("click", () => call("channel.handover"));
  $("take").addEventListener("click", async () => {
    await call("channel.accept");
    $("notice").hidden = true;  // the partner's offer is answered
  });
  $("cough").addEventListener("click", () => call("channel.mute", { muted: !coughing }));
  $("mic-start").addEventListener("click", async () => {
    try {
      const stream = await openCamera({ video: false });
      const next = new ChannelPublisher(conn, stream, language());
      await next.start();
      publisher = next;
      $("booth-language").disabled = true;
      render();
    } catch (err) { notifyError(err); }
  });

  // Hold Space or M: silent while held (the track at once, then the channel for everyone)
  addEventListener("keydown", (event) => {
    if (!isMuteKey(event) || !publisher) return;
    event.preventDefault();
    if (event.repeat || held) return;
    held = true;
    publisher.silence(true);
    if (!coughing && channelOf(channels, language()).live === me) call("channel.mute", { muted: true });
  });
  addEventListener("keyup", (event) => {
    if (!isMuteKey(event) || !held) return;
    held = false;
    publisher?.silence(false);
    if (channelOf(channels, language()).live === me) call("channel.mute", { muted: false });
  });

  conn.on("channels.changed", (e) => { channels = e.channels ?? []; render(); });
  conn.on("channel.handover_offered", (e) => {
    if (e.from !== me && e.language === language()) {
      notify(t("handover_offered", { language: languageName(e.language) }));
      $("take").disabled = !publisher;
    }
  });
  conn.on("track.published", (track) => { if (!track.channel) feeds.published(track); });
  conn.on("track.unpublished", (track) => { if (!track.channel) feeds.unpublished(track); });
  conn.on("room.closed", () => { publisher?.stop(); notify(t("room_closed"), { sticky: true }); });
  conn.on("rejoined", ({ state: again, resumed }) => {
    presence.load(again.participants);
    channels = again.channels ?? [];
    if (publisher && !resumed) publisher.restart();
    for (const track of again.tracks) if (!track.channel) feeds.published(track);
    render();
  });
  presence.load(state.participants);
  presence.onchange(render);
  for (const track of state.tracks) if (!track.channel) feeds.published(track);
  await conn.dropStalePeers();
  render();
  window.pavilion = Object.assign(window.pavilion ?? {}, { console: { mixer, listenTo,
    get publishing() { return Boolean(publisher); } } });
}
