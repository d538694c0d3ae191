// The viewer page: join as a visitor, play the broadcast (muted autoplay, a clear unmute
// button), chat, floating reactions, pinned products; recover after a drop or a reload.
// The video comes over WebRTC, or over the room's HLS when WebRTC cannot serve this viewer
// (delivery.js, issue 16 §4).
import { config, el, notify, notifyError, t } from "./i18n.js";
import { enter } from "./connection.js";
import { Subscriber } from "./media.js";
import { ChatPanel } from "./chat.js";
import { PinnedProducts } from "./products.js";
import { MyQuotes, QuoteForm } from "./quotes.js";
import { float, showReactions } from "./reactions.js";
import { Presence } from "./presence.js";
import { bindNameForm, showPeople } from "./names.js";
import { RecordingControls } from "./recording.js";
import { Delivery, pictureIn } from "./delivery.js";

const video = document.getElementById("video");
const status = document.getElementById("stream-status");
const unmute = document.getElementById("unmute");
const floaters = document.getElementById("floaters");

const { conn, state } = await enter();
let viewer = null;
let ended = false;

function dropWebrtc() {
  viewer?.stop();
  viewer = null;
  if (video.srcObject) video.srcObject = null;
}

const delivery = new Delivery({ conn, video, webrtc: () => play(true), stopWebrtc: dropWebrtc,
                                onmode: (mode) => { if (mode === "hls") showWaiting(false); } });

function showWaiting(waiting) {
  if (ended) return;
  status.hidden = !waiting;
  status.textContent = t("waiting_stream");
}

/** The room ended (`room.closed`): say so where the video was, and stop waiting for it. */
function showEnded() {
  ended = true;
  delivery.stop();
  viewer?.stop();
  viewer = null;
  video.srcObject = null;
  status.textContent = t("stream_ended");
  status.hidden = false;
  status.classList.add("ended");
  document.getElementById("viewers").hidden = true;  // nobody watches an ended broadcast
  for (const control of document.querySelectorAll(".reactions button, #chat-form input, #chat-form button")) {
    control.disabled = true;
  }
  notify(t("room_closed"), { sticky: true });
}

let playAgain = false;  // a track was published while a subscribe was in flight
let retry = null;  // the next attempt after wrong_node
const RETRY_MS = 2000;

/** Watch the broadcast: over WebRTC, or (`force` false) over HLS if the viewer is on it. */
async function play(force = false) {
  if (ended) return;
  if (!force && delivery.holdsHls) { await delivery.toHls(delivery.reason ?? "saver"); return; }
  if (viewer?.starting) { playAgain = true; return; }
  if (viewer?.healthy) return;
  playAgain = false;
  await viewer?.stop();
  viewer = new Subscriber(conn, { label: "broadcast", video, onstream: (stream) => {
    delivery.onWebrtc();
    if (video.srcObject !== stream) video.srcObject = stream;
    video.play().catch(() => {});
    showWaiting(false);
  } });
  try {
    await viewer.start();
    // HLS only if WebRTC cannot connect (UDP blocked): a connected peer still waiting for its
    // first picture (a slow link, a republish, a relay) stays on WebRTC
    const mine = viewer;
    delivery.expectMedia(() => pictureIn(video) || mine.pc?.connectionState === "connected");
  } catch (err) {
    viewer = null;
    // the room's WebRTC seats are taken (max_viewers_per_track): its HLS has room for all
    if (err.code === "media_full" && await delivery.toHls("seats")) return;
    // wrong_node here: the node placement named is unreachable (killed: the room moves, or
    // the dead edge's load report expires, within seconds) — no event will say so: ask again
    if (err.code === "no_such_track" || err.code === "wrong_node") showWaiting(true);
    else notifyError(err);
    if (err.code === "wrong_node" && !retry) retry = setTimeout(() => { retry = null; play(); }, RETRY_MS);
    // the track that made this attempt fail may have been published while it ran (a studio
    // re-publishing on the node this page just moved to): its event is not lost, try again
    if (playAgain) { playAgain = false; await play(); }
  }
}

unmute.addEventListener("click", () => {
  video.muted = !video.muted;
  unmute.textContent = video.muted ? t("sound_on") : t("sound_off");
  unmute.setAttribute("aria-pressed", String(!video.muted));
  if (!video.muted) video.play().catch(() => {});
});

for (const button of document.querySelectorAll("[data-reaction]")) {
  button.addEventListener("click", async () => {
    try {
      await conn.call("reaction", { kind: button.dataset.reaction });
      float(floaters, button.dataset.reaction, 1);
    } catch (err) {
      notifyError(err);
    }
  });
}

if (state) {
  const chat = new ChatPanel(conn);
  const mine = new MyQuotes(conn);
  const quoteForm = new QuoteForm(conn, (request) => mine.put(request));
  const products = new PinnedProducts(conn, (card) => quoteForm.open(card));
  const presence = new Presence(conn, { countEl: document.getElementById("viewers"),
                                        counted: (p) => p.identity !== config.exhibitor });
  new RecordingControls(conn).load(state.recording);
  chat.load(state.chat);
  products.load(state.products);
  presence.load(state.participants);
  bindNameForm(conn, state.me);
  showPeople(presence, conn.identity);
  mine.load();
  await conn.dropStalePeers();
  showReactions(conn, floaters);
  conn.on("track.published", (track) => { if (track.kind === "video") play(); });
  conn.on("track.unpublished", (track) => {
    // on HLS the player rides through a publisher's reconnect (EXT-X-DISCONTINUITY) or
    // plays out to EXT-X-ENDLIST: the <video> is hls.js's, not a WebRTC stream's
    if (track.kind === "video" && delivery.mode === "hls") return;
    if (track.kind === "video") { viewer?.stop(); viewer = null; video.srcObject = null; showWaiting(true); }
  });
  conn.on("room.closed", showEnded);
  conn.on("participant.removed", (e) => {
    if (e.identity === conn.identity) { viewer?.stop(); notify(t("removed"), { error: true, sticky: true }); }
  });
  conn.on("rejoined", ({ state: again, resumed }) => {
    chat.load(again.chat);
    products.load(again.products);
    presence.load(again.participants);
    if (!resumed) viewer?.pc?.close();  // a new session: the server forgot the old peer
    if (again.tracks.some((tr) => tr.kind === "video")) play();
  });
  if (state.tracks.some((track) => track.kind === "video")) await play(); else showWaiting(true);
}
