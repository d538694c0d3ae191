// The forum: a grid of speakers (the loudest highlighted), the audience count, raised hands,
// Q&A sorted by votes, and for moderators promote / demote / mute / remove / answered / lock.
import { config, el, formatCount, notify, notifyError, t } from "./i18n.js";
import { enter } from "./connection.js";
import { ParticipantFeeds, Publisher, openCameraOrMic } from "./media.js";
import { ChatPanel } from "./chat.js";
import { Presence } from "./presence.js";

const stage = document.getElementById("stage");
const stageEmpty = document.getElementById("stage-empty");
const hand = document.getElementById("hand");
const cameraStart = document.getElementById("camera-start");
const unmute = document.getElementById("unmute");
const questionsEl = document.getElementById("questions");
const SPEAKING_LEVEL = 0.02;

const { conn, state } = await enter();
const tiles = new Map();  // identity -> {tile, video, subscriber}
let publisher = null;
let muted = true;

function tileFor(identity, name) {
  let entry = tiles.get(identity);
  if (!entry) {
    const video = el("video", { autoplay: true, playsinline: true });
    video.muted = identity === conn.identity || muted;
    const tile = el("figure", { class: "tile", "data-identity": identity }, video,
      el("figcaption", { text: identity === conn.identity ? t("you", { name }) : name }));
    entry = { tile, video, subscriber: null };
    tiles.set(identity, entry);
    stage.append(tile);
  }
  stageEmpty.hidden = tiles.size > 0;
  return entry;
}

function dropTile(identity) {
  const entry = tiles.get(identity);
  if (!entry) return;
  entry.subscriber?.stop();
  entry.tile.remove();
  tiles.delete(identity);
  stageEmpty.hidden = tiles.size > 0;
}

async function startCamera() {
  if (publisher) return;
  try {
    const { stream, audioOnly } = await openCameraOrMic();
    if (audioOnly) notify(t("mic_only"));
    publisher = new Publisher(conn, stream, "speaker");
    await publisher.start();
    const entry = tileFor(conn.identity, state.me?.name ?? "");
    entry.video.srcObject = stream;
    entry.tile.classList.toggle("audio-only", audioOnly);
    cameraStart.hidden = true;
  } catch (err) {
    publisher = null;
    notifyError(err);
  }
}

async function stopCamera() {
  if (!publisher) return;
  await publisher.stop();
  publisher.stream.getTracks().forEach((track) => track.stop());
  publisher = null;
  dropTile(conn.identity);
}

async function highlightSpeaker() {
  let loudest = null;
  let level = SPEAKING_LEVEL;
  for (const [identity, entry] of tiles) {
    const now = entry.subscriber ? await entry.subscriber.audioLevel() : 0;
    if (now > level) { level = now; loudest = identity; }
  }
  for (const [identity, entry] of tiles) {
    entry.tile.classList.toggle("speaking", identity === loudest);
    entry.tile.setAttribute("aria-label", identity === loudest ? t("speaking") : "");
  }
}

// -- questions ----------------------------------------------------------------------------------
const questions = new Map();
function renderQuestions() {
  const sorted = [...questions.values()].filter((q) => !q.answered)
    .sort((a, b) => b.votes - a.votes || a.asked_at - b.asked_at);
  questionsEl.replaceChildren(...sorted.map((q) => el("li", { "data-question": q.id },
    el("span", { class: "text", text: q.text }), " ",
    el("span", { class: "who", text: q.name }), " ",
    el("span", { class: "votes", text: t("votes", { num: formatCount(q.votes) }) }),
    el("button", { type: "button", class: "small", text: t("vote"), onclick: () => vote(q) }),
    config.moderates ? el("button", { type: "button", class: "small", text: t("answered"),
                                      onclick: () => answered(q) }) : null)));
}
async function vote(q) {
  try { q.votes = (await conn.call("question.vote", { question: q.id })).votes; renderQuestions(); }
  catch (err) { notifyError(err); }
}
async function answered(q) {
  try { await conn.api("POST", `/questions/${encodeURIComponent(q.id)}/answered`); q.answered = true; renderQuestions(); }
  catch (err) { notifyError(err); }
}
document.getElementById("ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("ask-text");
  try {
    const { question } = await conn.call("question.ask", { text: input.value });
    questions.set(question.id, question);
    input.value = "";
    renderQuestions();
  } catch (err) { notifyError(err); }
});

// -- moderator panel ----------------------------------------------------------------------------
function person(p, actions) {
  return el("li", { "data-identity": p.identity }, el("span", { class: "who", text: p.name }),
    ...actions.map(([word, event, extra]) => el("button", { type: "button", class: "small",
      text: t(word), onclick: async () => {
        try { await conn.call(event, { identity: p.identity, ...extra }); } catch (err) { notifyError(err); }
      } })));
}
function renderModeration(presence) {
  if (!config.moderates) return;
  const others = presence.list().filter((p) => p.identity !== conn.identity);
  document.getElementById("hands").replaceChildren(...others.filter((p) => p.hand_raised && !p.on_stage)
    .map((p) => person(p, [["promote", "stage.promote"]])));
  document.getElementById("speakers").replaceChildren(...others.filter((p) => p.on_stage)
    .map((p) => person(p, [["demote", "stage.demote"], ["mute", "track.mute", { muted: true }],
                           ["remove", "participant.remove"]])));
}

if (state) {
  const chat = new ChatPanel(conn, { moderate: config.moderates });
  const presence = new Presence(conn, { countEl: document.getElementById("audience"),
                                        word: "audience", counted: (p) => !p.on_stage });
  let me = state.me;
  let locked = state.room.locked;
  const lock = document.getElementById("lock");
  const showLock = () => {
    lock.textContent = locked ? t("unlock") : t("lock");
    lock.setAttribute("aria-pressed", String(locked));
  };
  const showHand = () => {
    hand.hidden = me.on_stage;
    hand.textContent = me.hand_raised ? t("lower_hand") : t("raise_hand");
    hand.setAttribute("aria-pressed", String(me.hand_raised));
    cameraStart.hidden = !me.on_stage || Boolean(publisher);
  };
  chat.load(state.chat);
  presence.load(state.participants);
  for (const q of state.questions) questions.set(q.id, q);
  renderQuestions();
  presence.onchange(renderModeration);
  renderModeration(presence);
  if (config.moderates) {
    document.getElementById("moderation").hidden = false;
    showLock();
    lock.addEventListener("click", async () => {
      try { await conn.call("room.lock", { locked: !locked }); locked = !locked; showLock(); }
      catch (err) { notifyError(err); }
    });
  }
  showHand();
  await conn.dropStalePeers();
  hand.addEventListener("click", async () => {
    try {
      await conn.call(me.hand_raised ? "hand.lower" : "hand.raise");
      me = { ...me, hand_raised: !me.hand_raised };
      showHand();
      if (me.hand_raised) notify(t("hand_raised"));
    } catch (err) { notifyError(err); }
  });
  cameraStart.addEventListener("click", startCamera);
  unmute.addEventListener("click", () => {
    muted = !muted;
    for (const [identity, entry] of tiles) if (identity !== conn.identity) entry.video.muted = muted;
    unmute.textContent = muted ? t("sound_on") : t("sound_off");
    unmute.setAttribute("aria-pressed", String(!muted));
  });
  conn.on("stage.changed", async (e) => {
    if (e.participant.identity !== conn.identity) return;
    me = e.participant;
    showHand();
    if (e.change === "promoted") { notify(t("on_stage_now")); await startCamera(); }
    else { await stopCamera(); notify(t("off_stage_now")); showHand(); }
  });
  conn.on("participant.muted", async (e) => {
    if (e.participant.identity === conn.identity && e.change === "muted") {
      await stopCamera();
      notify(t("muted_by_moderator"), { error: true });
    }
  });
  conn.on("question.asked", (q) => { questions.set(q.id, q); renderQuestions(); });
  conn.on("question.voted", (v) => {
    const q = questions.get(v.question_id);
    if (q) { q.votes = v.votes; renderQuestions(); }
  });
  conn.on("question.answered", (a) => { questions.delete(a.question_id); renderQuestions(); });
  conn.on("room.changed", (e) => { if (e.room) { locked = e.room.locked; if (config.moderates) showLock(); } });
  const feeds = new ParticipantFeeds(conn, { label: "speaker", dropTile,
    tileFor: (identity) => tileFor(identity, presence.get(identity)?.name ?? identity) });
  conn.on("track.published", (track) => feeds.published(track));
  conn.on("track.unpublished", (track) => feeds.unpublished(track));
  conn.on("participant.removed", (e) => {
    if (e.identity === conn.identity) { stopCamera(); notify(t("removed"), { error: true, sticky: true }); }
  });
  conn.on("room.closed", () => { stopCamera(); notify(t("room_closed"), { sticky: true }); });
  conn.on("rejoined", ({ state: again, resumed }) => {
    presence.load(again.participants);
    if (publisher && (!resumed || !publisher.healthy)) publisher.restart();
    if (!resumed) for (const entry of tiles.values()) entry.subscriber?.pc?.close();
    for (const track of again.tracks) feeds.published(track);
  });
  for (const track of state.tracks) feeds.published(track);
  if (me.on_stage && me.role === "speaker") await startCamera();  // a speaker's page reloaded
  setInterval(highlightSpeaker, 700);
}
