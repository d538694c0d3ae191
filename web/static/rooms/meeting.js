// A trade meeting: guests wait until the host admits them; inside, up to four tiles, microphone
// and camera toggles, screen share and leave, the one speaking highlighted (speaking.js); the host
// sees each knock and admits or turns away.
import { config, el, notify, notifyError, t } from "./i18n.js";
import { enter } from "./connection.js";
import { CAPTURE, ParticipantFeeds, Publisher, openCameraOrMic, openScreen } from "./media.js";
import { ChatPanel } from "./chat.js";
import { Presence } from "./presence.js";
import { bindNameForm, nameOf, nameTag, refreshNames } from "./names.js";
import { SpeakerHighlight } from "./speaking.js";
import { RecordingControls } from "./recording.js";
import { Listener } from "./listener.js";

const waiting = document.getElementById("waiting");
const tilesEl = document.getElementById("tiles");
const controls = document.getElementById("meeting-controls");
const door = document.getElementById("door");
const knocks = document.getElementById("knocks");
const noKnocks = document.getElementById("no-knocks");
const micButton = document.getElementById("mic");
const camButton = document.getElementById("cam");
const shareButton = document.getElementById("share");
const MAX_TILES = 4;

const { conn, state } = await enter();
const tiles = new Map();  // identity -> {tile, video, subscriber}
const speaker = new SpeakerHighlight(conn, config.room, tiles);  // the server's choice
let publisher = null;
let stream = null;
let screenTrack = null;
let inside = false;
let chat = null;
let listener = null;  // issue 17: an interpreter's channel over the meeting's voices
const presence = new Presence(conn);

function tileFor(identity, name) {
  let entry = tiles.get(identity);
  if (!entry && tiles.size < MAX_TILES) {
    const video = el("video", { autoplay: true, playsinline: true });
    video.muted = identity === conn.identity;
    const tile = el("figure", { class: "tile", "data-identity": identity }, video,
      el("figcaption", {}, nameTag(identity, name, { you: identity === conn.identity, cls: "name" })));
    entry = { tile, video, subscriber: null };
    tiles.set(identity, entry);
    tilesEl.append(tile);
    speaker.refresh();
  }
  return entry;
}

function dropTile(identity) {
  const entry = tiles.get(identity);
  entry?.subscriber?.stop();
  entry?.tile.remove();
  tiles.delete(identity);
}

const feeds = new ParticipantFeeds(conn, { label: "meeting", dropTile,
  tileFor: (identity) => (inside ? tileFor(identity, presence.get(identity)?.name ?? identity) : null) });

function renderKnocks() {
  const waitingPeople = presence.list().filter((p) => p.waiting);
  knocks.replaceChildren(...waitingPeople.map((p) => el("li", { "data-identity": p.identity },
    el("span", { class: "who", text: t("knocking", { name: nameOf(p.identity, p.name) }) }),
    el("button", { type: "button", class: "small primary", text: t("admit"),
                   onclick: () => answerKnock("waiting.admit", p) }),
    el("button", { type: "button", class: "small", text: t("deny"),
                   onclick: () => answerKnock("waiting.deny", p) }))));
  noKnocks.hidden = waitingPeople.length > 0;
}

async function answerKnock(event, p) {
  try {
    await conn.call(event, { identity: p.identity });
    if (event === "waiting.deny") presence.load(presence.list().filter((x) => x.identity !== p.identity));
  } catch (err) { notifyError(err); }
}

async function enterMeeting(room) {
  inside = true;
  waiting.hidden = true;
  controls.hidden = false;
  presence.load(room.participants);
  chat ??= new ChatPanel(conn, { moderate: config.moderates });
  chat.load(room.chat);
  bindNameForm(conn, room.me);
  refreshNames();
  await conn.dropStalePeers();
  listener ??= new Listener(conn, { tiles, muted: () => false });
  listener.load(room.channels ?? []);
  for (const track of room.tracks) if (!track.channel) feeds.published(track);  // others first
  try {
    let audioOnly;
    ({ stream, audioOnly } = await openCameraOrMic(CAPTURE.meeting));
    if (audioOnly) notify(t("mic_only"));
    const mine = tileFor(conn.identity, room.me?.name ?? "");
    mine.video.srcObject = stream;
    mine.tile.classList.toggle("audio-only", audioOnly);
    publisher = new Publisher(conn, stream, "meeting:self");
    await publisher.start();
  } catch (err) {
    notifyError(err, true);
  }
}

function toggle(kind, button, onWord, offWord) {
  const track = kind === "audio" ? stream?.getAudioTracks()[0] : stream?.getVideoTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled;
  button.textContent = track.enabled ? t(offWord) : t(onWord);
  button.setAttribute("aria-pressed", String(track.enabled));
}

async function leave(word) {
  inside = false;
  for (const identity of [...tiles.keys()]) dropTile(identity);
  await publisher?.stop();
  stream?.getTracks().forEach((track) => track.stop());
  screenTrack?.stop();
  publisher = null;
  controls.hidden = true;
  notify(t(word), { sticky: true });
}

micButton.addEventListener("click", () => toggle("audio", micButton, "mic_on", "mic_off"));
camButton.addEventListener("click", () => toggle("video", camButton, "camera_on", "camera_off"));
shareButton.addEventListener("click", async () => {
  if (screenTrack) {
    screenTrack.stop();
    screenTrack = null;
    await publisher?.replaceVideo(stream.getVideoTracks()[0]);
    shareButton.textContent = t("share_screen");
    return;
  }
  try {
    screenTrack = await openScreen();
    await publisher?.replaceVideo(screenTrack, { screen: true });
    shareButton.textContent = t("stop_share");
  } catch (err) { notifyError(err); }
});
document.getElementById("leave").addEventListener("click", async () => {
  try { await conn.call("leave"); } catch { /* leaving anyway */ }
  await leave("left");
});
// Leaving ends nothing (people step out and come back); the host ends it for everyone here.
const endButton = document.getElementById("end-meeting");
endButton.hidden = !config.moderates;
endButton.addEventListener("click", async () => {
  try {
    await conn.call("room.close");
    await leave("room_closed");
  } catch (err) { notifyError(err); }
});

if (state) {
  const recording = new RecordingControls(conn);
  recording.load(state.recording);
  if (config.moderates) {
    door.hidden = false;
    presence.onchange(renderKnocks);
    conn.on("waiting.knock", (e) => presence.load([...presence.list(), e.participant]));
    conn.on("waiting.denied", (e) => presence.load(presence.list().filter((p) => p.identity !== e.identity)));
  }
  conn.on("waiting.admitted", async (e) => {
    if (e.participant.identity !== conn.identity || inside) return;
    notify(t("admitted"));
    try {
      const room = await conn.join();
      recording.load(room.recording);
      await enterMeeting(room);
    } catch (err) { notifyError(err, true); }
  });
  conn.on("waiting.denied", (e) => {
    if (e.identity === conn.identity) { waiting.hidden = true; notify(t("denied"), { error: true, sticky: true }); }
  });
  conn.on("track.published", (track) => { if (!track.channel) feeds.published(track); });
  conn.on("track.unpublished", (track) => { if (!track.channel) feeds.unpublished(track); });
  conn.on("participant.left", (e) => { feeds.forget(e.identity); dropTile(e.identity); });
  conn.on("room.closed", () => leave("room_closed"));
  conn.on("participant.removed", (e) => { if (e.identity === conn.identity) leave("removed"); });
  conn.on("rejoined", ({ state: again, resumed }) => {
    if (!inside || again.waiting) return;
    presence.load(again.participants);
    if (publisher && (!resumed || !publisher.healthy)) publisher.restart();
    if (!resumed) for (const entry of tiles.values()) entry.subscriber?.pc?.close();
    listener?.load(again.channels ?? []);
    for (const track of again.tracks) if (!track.channel) feeds.published(track);
  });
  if (state.waiting) {
    waiting.hidden = false;
    presence.load([state.me]);
  } else {
    await enterMeeting(state);
  }
}
