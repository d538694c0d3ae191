// The replay page (issue 15 §6): the recording's video with its own controls, and beside it what
// the room saw at that moment: the chat up to the current time (newest at the bottom) and the
// product cards pinned then. Both are redrawn from the timeline whenever the time crosses an
// entry and after every seek, so seeking back hides what was written later.
import { config, el, notify, notifyError, t } from "./i18n.js";
import { productItem } from "./products.js";
import { shownName } from "./names.js";
import { Timeline, clock } from "./timeline.js";
import { mainFile, recordingsApi } from "./recordings_api.js";
import { HlsPlayer } from "./hls_player.js";

const MAX_SHOWN = 300;
const video = document.getElementById("video");
const picker = document.getElementById("file-picker");
const select = document.getElementById("file");
const chatLog = document.getElementById("chat-log");
const noChat = document.getElementById("no-chat");
const products = document.getElementById("products");
const noProducts = document.getElementById("no-products");
const id = encodeURIComponent(config.recording);

function fileLabel(file) {
  if (file.kind === "program") return t("rec_program");
  return t("rec_file_of", { name: config.names?.[file.participant] || file.participant || file.name });
}

let player = null;

/** An HLS replay (issue 16 §5, docs/hls.md §5): the live broadcast's segments under a VOD
 *  playlist, played with hls.js (or the browser's own HLS). */
function playHls(file) {
  player = new HlsPlayer(video, file.url, {
    onfatal: () => notify(t("rec_no_file"), { error: true, sticky: true }) });
  player.start().catch(() => notify(t("rec_no_file"), { error: true, sticky: true }));
}

/** The video: the main file, and a picker for the others (a forum's or meeting's cameras). */
function showFiles(files) {
  const playable = files.filter((f) => f.url);
  const first = mainFile(playable, config.host);
  if (!first) { notify(t("rec_no_file"), { error: true, sticky: true }); return; }
  if (first.kind === "hls") { playHls(first); return; }
  video.src = first.url;
  picker.hidden = playable.length < 2;
  select.replaceChildren(...playable.map((f) => el("option",
    { value: f.url, selected: f === first, text: fileLabel(f) })));
  select.addEventListener("change", () => {
    const at = video.currentTime;  // the same moment in the other camera
    const playing = !video.paused;
    video.src = select.value;
    video.addEventListener("loadedmetadata", () => {
      video.currentTime = Math.min(at, video.duration || at);
      if (playing) video.play().catch(() => {});
    }, { once: true });
  });
}

function chatItem(message) {
  return el("li", { "data-id": message.id, "data-at": String(message.at_s) },
    el("span", { class: "who", text: config.names?.[message.sender] || shownName(message.name) || message.sender }),
    el("time", { class: "when", text: clock(message.at_s) }),
    el("span", { class: "text", text: message.text }));
}

let timeline = new Timeline([]);
let shown = -1;

/** Draw the chat and the cards as they were at the video's current time. */
function draw(force = false) {
  const count = timeline.countAt(video.currentTime);
  if (count === shown && !force) return;
  shown = count;
  const messages = timeline.chat(count, MAX_SHOWN);
  chatLog.replaceChildren(...messages.map(chatItem));
  chatLog.scrollTop = chatLog.scrollHeight;
  noChat.hidden = messages.length > 0;
  const cards = timeline.pinned(count);
  products.replaceChildren(...[...cards.values()].map((card) => productItem(card)));
  noProducts.hidden = cards.size > 0;
}

video.addEventListener("timeupdate", () => draw());
video.addEventListener("seeked", () => draw(true));
video.addEventListener("loadedmetadata", () => draw(true));

try {
  const [record, history] = await Promise.all([
    recordingsApi("GET", `/${id}`), recordingsApi("GET", `/${id}/timeline`)]);
  timeline = new Timeline(history.entries);
  draw(true);
  showFiles((record.recording ?? record).files ?? []);
} catch (err) {
  notifyError(err, true);
}
window.pavilion = Object.assign(window.pavilion ?? {}, { replay: { video, timeline: () => timeline, player: () => player } });
