// The exhibitor's studio: preview with device pickers, go live / end, screen share, viewer
// count, moderated chat, floating reactions, product cards, the inbox (inbox.js), and the WHIP
// values for OBS.
import { config, notify, notifyError, t } from "./i18n.js";
import { enter } from "./connection.js";
import { CAPTURE, Publisher, fillDevicePickers, openCamera, openScreen } from "./media.js";
import { ChatPanel } from "./chat.js";
import { ProductShelf } from "./products.js";
import { Presence } from "./presence.js";
import { bindNameForm, showPeople } from "./names.js";
import { Inbox } from "./inbox.js";
import { showReactions } from "./reactions.js";
import { RecordingControls } from "./recording.js";
import { RecordingsPanel } from "./recordings_panel.js";

const preview = document.getElementById("preview");
const air = document.getElementById("air");
const goLive = document.getElementById("go-live");
const endLive = document.getElementById("end-live");
const share = document.getElementById("share");
const cameraSelect = document.getElementById("camera");
const micSelect = document.getElementById("microphone");

let stream = null;
let publisher = null;
let screenTrack = null;

async function openDevices() {
  const next = await openCamera({ videoDevice: cameraSelect.value || undefined,
                                  audioDevice: micSelect.value || undefined,
                                  size: CAPTURE.studio });
  const old = stream;
  stream = next;
  preview.srcObject = stream;
  if (publisher) {
    publisher.stream = stream;
    if (!screenTrack) await publisher.replaceVideo(stream.getVideoTracks()[0]);
    await publisher.replaceAudio(stream.getAudioTracks()[0]);
  }
  old?.getTracks().forEach((track) => track.stop());
}

function onAir(live) {
  air.textContent = live ? t("on_air") : t("off_air");
  air.classList.toggle("off", !live);
  goLive.disabled = live || !stream;  // no camera, no broadcast from the browser (OBS still works)
  endLive.disabled = !live;
  share.disabled = !live;
}

const RETRY_MS = 500;
const RETRIES = 40;  // a dead node's room is free within one report TTL (6 s by default)

/** Go live. `retry`: the studio moved here from a node that died (issue 13, node loss); until
 * the room's media is free here (`wrong_node` naming the dead node, or no node yet), try again. */
async function startBroadcast(conn, retry = false) {
  goLive.disabled = true;
  for (let attempt = 0; ; attempt++) {
    try {
      if (config.state !== "live") await conn.api("POST", "/live");
      config.state = "live";
      // issue 16 §2: a room with HLS gets H264 where the browser can send it (packaged as
      // it arrives, no transcoding); VP8 otherwise
      publisher = new Publisher(conn, stream, "studio", { preferH264 });
      await publisher.start();
      onAir(true);
      return;
    } catch (err) {
      publisher = null;
      const moving = ["wrong_node", "media_unavailable", "network_error"].includes(err.code);
      if (retry && moving && attempt < RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      }
      goLive.disabled = false;
      notifyError(err);
      return;
    }
  }
}

async function endBroadcast() {
  await publisher?.stop();
  publisher = null;
  screenTrack?.stop();
  screenTrack = null;
  onAir(false);
}

async function toggleShare() {
  if (screenTrack) {
    screenTrack.stop();
    screenTrack = null;
    await publisher?.replaceVideo(stream.getVideoTracks()[0]);
    share.textContent = t("share_screen");
    return;
  }
  try {
    screenTrack = await openScreen();
    screenTrack.addEventListener("ended", () => { if (screenTrack) toggleShare(); });
    await publisher?.replaceVideo(screenTrack, { screen: true });
    share.textContent = t("stop_share");
  } catch (err) {
    notifyError(err);
  }
}

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    field.select();
    try { await navigator.clipboard.writeText(field.value); } catch { document.execCommand("copy"); }
    notify(t("copied"));
  });
}

const { conn, state } = await enter();
const preferH264 = Boolean(state?.prefer_h264);
if (state) {
  const chat = new ChatPanel(conn, { moderate: true });
  const shelf = new ProductShelf(conn);
  const presence = new Presence(conn, { countEl: document.getElementById("viewers"),
                                        counted: (p) => p.identity !== conn.identity });
  new RecordingControls(conn, { canRecord: true }).load(state.recording);
  new RecordingsPanel(conn).load();
  chat.load(state.chat);
  presence.load(state.participants);
  bindNameForm(conn, state.me);
  showPeople(presence, conn.identity);
  shelf.load();
  const inbox = new Inbox(conn);
  inbox.loadQuestions(state.questions);
  inbox.load();
  showReactions(conn, document.getElementById("floaters"));
  conn.on("rejoined", ({ state: again, resumed }) => {
    chat.load(again.chat);
    presence.load(again.participants);
    if (publisher && (!resumed || !publisher.healthy)) publisher.restart();
  });
  conn.on("room.closed", async () => {
    await endBroadcast();
    goLive.disabled = true;  // an ended room cannot go live again
    notify(t("room_closed"), { sticky: true });
  });
  goLive.addEventListener("click", () => startBroadcast(conn));
  // "End broadcast" ends the room for everyone: viewers are told it ended, the lobby says so.
  endLive.addEventListener("click", async () => {
    await endBroadcast();
    try { await conn.call("room.close"); } catch (err) { notifyError(err); }
  });
  share.addEventListener("click", toggleShare);
  try {
    await openDevices();
    await fillDevicePickers(cameraSelect, micSelect, stream);
    cameraSelect.addEventListener("change", () => openDevices().catch(notifyError));
    micSelect.addEventListener("change", () => openDevices().catch(notifyError));
  } catch (err) {
    goLive.disabled = true;
    notifyError(err, true);
  }
  // A studio reloaded mid-broadcast resumes its session: publish again to take over the Sources.
  // One that moved here on air (its node died or drained) goes live again by itself.
  conn.onMove = () => (publisher ? { on_air: "1" } : {});
  const query = new URLSearchParams(location.search);
  const moved = query.get("on_air") === "1";
  if (moved) {
    query.delete("on_air");  // a later reload is not a move
    history.replaceState(null, "", `${location.pathname}?${query}${location.hash}`);
  }
  if ((conn.stalePeers.length || moved) && stream) await startBroadcast(conn, moved);
  await conn.dropStalePeers();
  onAir(Boolean(publisher));
}
