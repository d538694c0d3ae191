// The forum: a grid of speakers (the one speaking highlighted as the server decides, speaking.js;
// muted microphones and cameras shown), the audience count, raised hands, Q&A sorted by votes with the answered ones apart, an
// invitation to the stage answered with a preview (stage_invite.js), a speaker's own controls
// (speaker_controls.js), and for moderators invite / demote / mute / remove / answered / lock.
import { config, el, formatCount, notify, notifyError, t } from "./i18n.js";
import { enter } from "./connection.js";
import { CAPTURE, ParticipantFeeds, Publisher, openCameraOrMic } from "./media.js";
import { ChatPanel } from "./chat.js";
import { Presence } from "./presence.js";
import { bindNameForm, showPeople, nameOf, nameTag } from "./names.js";
import { StageInvite } from "./stage_invite.js";
import { SpeakerControls } from "./speaker_controls.js";
import { SpeakerHighlight } from "./speaking.js";
import { RecordingControls } from "./recording.js";
import { Delivery, pictureIn } from "./delivery.js";
import { Listener } from "./listener.js";

const stage = document.getElementById("stage");
const stageEmpty = document.getElementById("stage-empty");
const hand = document.getElementById("hand");
const cameraStart = document.getElementById("camera-start");
const unmute = document.getElementById("unmute");
const questionsEl = document.getElementById("questions");
const answeredEl = document.getElementById("answered");
const program = document.getElementById("program");  // the room's HLS (issue 16 §4)
const programVideo = document.getElementById("program-video");

const { conn, state } = await enter();
const tiles = new Map();  // identity -> {tile, video, subscriber}
const speaker = new SpeakerHighlight(conn, config.room, tiles);  // the server's choice
let publisher = null;
let muted = true;
let listener = null;  // issue 17: the language picker and its mix
const invite = new StageInvite(conn);
const controls = new SpeakerControls(conn, { onchange: (c) => {
  const entry = tiles.get(conn.identity);
  if (entry) showMediaState(entry, { audio_off: c.audioOff, video_off: c.videoOff });
} });

/** A tile shows when its speaker turned the microphone or the camera off (`media.state`). */
function showMediaState(entry, person) {
  const { tile, badges } = entry;
  tile.classList.toggle("mic-off", Boolean(person?.audio_off));
  tile.classList.toggle("camera-off", Boolean(person?.video_off));
  badges.replaceChildren(...[  // replaceChildren(null) would show the text "null"
    person?.audio_off ? el("span", { class: "badge mic-off", text: t("mic_is_off") }) : null,
    person?.video_off ? el("span", { class: "badge camera-off", text: t("camera_is_off") }) : null,
  ].filter(Boolean));
}

function tileFor(identity, name) {
  let entry = tiles.get(identity);
  if (!entry) {
    const video = el("video", { autoplay: true, playsinline: true });
    // with an interpretation channel chosen the mix plays the floor (listener.js), not the tile
    video.muted = identity === conn.identity || muted || Boolean(listener?.active);
    const badges = el("span", { class: "badges" });
    const tile = el("figure", { class: "tile", "data-identity": identity }, video,
      el("figcaption", {}, nameTag(identity, name, { you: identity === conn.identity, cls: "name" }), badges));
    entry = { tile, video, badges, subscriber: null };
    tiles.set(identity, entry);
    stage.append(tile);
    speaker.refresh();
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

/** Go live with `previewed` (the invitation's stream, devices as chosen) or a fresh one. */
async function startCamera(previewed = null) {
  if (publisher) { previewed?.getTracks().forEach((track) => track.stop()); return; }
  try {
    const { stream, audioOnly } = previewed
      ? { stream: previewed, audioOnly: previewed.getVideoTracks().length === 0 }
      : await openCameraOrMic(CAPTURE.speaker);
    if (audioOnly) notify(t("mic_only"));
    publisher = new Publisher(conn, stream, "speaker");
    await publisher.start();
    const entry = tileFor(conn.identity, state.me?.name ?? "");
    entry.video.srcObject = stream;
    entry.tile.classList.toggle("audio-only", audioOnly);
    cameraStart.hidden = true;
    controls.attach(publisher);
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
  controls.attach(null);
  dropTile(conn.identity);
}

// -- questions ----------------------------------------------------------------------------------
const questions = new Map();
const ANSWERED_SHOWN = 20;
function renderQuestions() {
  const all = [...questions.values()];
  const open = all.filter((q) => !q.answered)
    .sort((a, b) => b.votes - a.votes || a.asked_at - b.asked_at);
  const done = all.filter((q) => q.answered)
    .sort((a, b) => (b.answered_seen ?? 0) - (a.answered_seen ?? 0) || b.asked_at - a.asked_at)
    .slice(0, ANSWERED_SHOWN);
  questionsEl.replaceChildren(...open.map((q) => el("li", { "data-question": q.id },
    el("span", { class: "text", text: q.text }), " ",
    nameTag(q.asker, q.name), " ",
    el("span", { class: "votes", text: t("votes", { num: formatCount(q.votes) }) }),
    el("button", { type: "button", class: "small", text: t("vote"), onclick: () => vote(q) }),
    config.moderates ? el("button", { type: "button", class: "small", text: t("answered"),
                                      onclick: () => answered(q) }) : null)));
  answeredEl.replaceChildren(...done.map((q) => el("li", { "data-question": q.id },
    el("span", { class: "text", text: q.text }), " ", nameTag(q.asker, q.name))));
}
function markAnswered(id, fields = {}) {
  const q = questions.get(id) ?? (fields.id ? fields : null);
  if (!q) return;
  questions.set(id, { ...q, ...fields, answered: true, answered_seen: Date.now() });
  renderQuestions();
}
async function vote(q) {
  try { q.votes = (await conn.call("question.vote", { question: q.id })).votes; renderQuestions(); }
  catch (err) { notifyError(err); }
}
async function answered(q) {
  try { await conn.api("POST", `/questions/${encodeURIComponent(q.id)}/answered`); markAnswered(q.id); }
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
const invitedNow = (p) => !p.on_stage && (p.invited_until ?? 0) * 1000 > Date.now();
function person(p, actions) {
  return el("li", { "data-identity": p.identity }, nameTag(p.identity, p.name),
    invitedNow(p) ? el("span", { class: "badge invited", text: t("invited") }) : null,
    ...actions.map(([word, event, extra]) => el("button", { type: "button", class: "small",
      text: t(word), onclick: async () => {
        try { await conn.call(event, { identity: p.identity, ...extra }); } catch (err) { notifyError(err); }
      } })));
}
function renderModeration(presence) {
  if (!config.moderates) return;
  const others = presence.list().filter((p) => p.identity !== conn.identity);
  document.getElementById("hands").replaceChildren(...others.filter((p) => (p.hand_raised || invitedNow(p)) && !p.on_stage)
    .map((p) => person(p, [["promote", "stage.promote"]])));
  document.getElementById("speakers").replaceChildren(...others.filter((p) => p.on_stage)
    .map((p) => person(p, [["demote", "stage.demote"], ["mute", "track.mute", { muted: true }],
                           ["remove", "participant.remove"]])));
}

if (state) {
  const chat = new ChatPanel(conn, { moderate: config.moderates });
  // issue 17: the language picker (the floor ducked under an interpreter's channel)
  listener = new Listener(conn, { tiles, program: programVideo, muted: () => muted });
  listener.load(state.channels ?? []);
  new RecordingControls(conn).load(state.recording);
  const presence = new Presence(conn, { countEl: document.getElementById("audience"),
                                        word: "audience",  // interpreters: the booth
                                        counted: (p) => !p.on_stage && p.role !== "interpreter" });
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
  presence.load(state.participants);
  chat.load(state.chat);
  bindNameForm(conn, state.me);
  showPeople(presence, conn.identity);
  for (const q of [...state.questions, ...(state.answered ?? [])]) questions.set(q.id, q);
  renderQuestions();
  presence.onchange(renderModeration);
  presence.onchange(() => {
    for (const [identity, entry] of tiles) {
      if (identity !== conn.identity) showMediaState(entry, presence.get(identity));
    }
  });
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
    for (const [identity, entry] of tiles) {
      if (identity !== conn.identity) entry.video.muted = muted || listener.active;
    }
    listener.mute(muted);
    programVideo.muted = muted;
    unmute.textContent = muted ? t("sound_on") : t("sound_off");
    unmute.setAttribute("aria-pressed", String(!muted));
  });
  conn.on("stage.invited", async (e) => {
    const who = e.participant;
    if (who.identity === conn.identity) { me = who; showHand(); await invite.show(who.invited_until); }
    else if (config.moderates) notify(t("invitation_sent", { name: nameOf(who.identity, who.name) }));
  });
  conn.on("stage.declined", (e) => {
    const who = e.participant;
    if (who.identity === conn.identity) { me = who; invite.close(); showHand(); }
    else if (config.moderates) {
      notify(t("invitation_declined", { name: nameOf(who.identity, who.name) }), { error: true });
    }
  });
  conn.on("stage.invitation_lapsed", (e) => {  // the server cleared it: the "Invited" mark goes
    const who = e.participant;
    if (who.identity === conn.identity) { me = who; invite.close(); showHand(); }
    else if (config.moderates) {
      notify(t("invitation_lapsed_for", { name: nameOf(who.identity, who.name) }), { error: true });
    }
  });
  conn.on("stage.changed", async (e) => {
    if (e.participant.identity !== conn.identity) return;
    me = e.participant;
    showHand();
    if (e.change === "promoted") {
      delivery.leave();  // a speaker sees and hears the stage over WebRTC
      notify(t("on_stage_now"));
      await startCamera(invite.take());
    }
    else { invite.close(); await stopCamera(); notify(t("off_stage_now")); showHand(); }
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
  conn.on("question.answered", (a) => markAnswered(a.question_id ?? a.id, a.id ? a : {}));
  conn.on("room.changed", (e) => { if (e.room) { locked = e.room.locked; if (config.moderates) showLock(); } });
  // The audience watches the stage over WebRTC, or the room's HLS program (delivery.js): data
  // saver, UDP blocked, the seats full. Speakers and moderators stay on WebRTC.
  let delivery = null;
  const showProgram = (on) => {
    program.hidden = !on;
    stage.hidden = on;
    stageEmpty.hidden = on || tiles.size > 0;
  };
  // HLS only if WebRTC cannot connect: a connected tile still waiting for a picture stays
  const anyPicture = () => [...tiles.values()].some((entry) => pictureIn(entry.video)
    || entry.subscriber?.pc?.connectionState === "connected");
  const feeds = new ParticipantFeeds(conn, { label: "speaker", dropTile,
    tileFor: (identity) => tileFor(identity, presence.get(identity)?.name ?? identity),
    onstream: () => { if (delivery?.mode === "hls") delivery.onWebrtc(); },
    onrefused: () => delivery?.toHls("seats") });
  delivery = new Delivery({ conn, video: programVideo,
    enabled: !config.publishes && !config.moderates && !me.on_stage,
    webrtc: () => { feeds.resume(); delivery.expectMedia(anyPicture); },
    stopWebrtc: () => feeds.pause(), onmode: (mode) => showProgram(mode === "hls") });
  conn.on("track.published", (track) => {
    if (track.channel) return;  // an interpreter's channel (issue 17): the picker's, not a tile
    feeds.published(track);
    if (track.kind === "video" && delivery.mode === "webrtc") delivery.expectMedia(anyPicture);
  });
  conn.on("track.unpublished", (track) => { if (!track.channel) feeds.unpublished(track); });
  conn.on("participant.removed", (e) => {
    if (e.identity === conn.identity) { stopCamera(); notify(t("removed"), { error: true, sticky: true }); }
  });
  conn.on("room.closed", () => { delivery.stop(); stopCamera(); notify(t("room_closed"), { sticky: true }); });
  conn.on("rejoined", ({ state: again, resumed }) => {
    presence.load(again.participants);
    listener.load(again.channels ?? []);
    if (publisher && (!resumed || !publisher.healthy)) publisher.restart();
    if (!resumed) for (const entry of tiles.values()) entry.subscriber?.pc?.close();
    for (const track of again.tracks) if (!track.channel) feeds.published(track);
  });
  for (const track of state.tracks) if (!track.channel) feeds.published(track);
  if (delivery.holdsHls) await delivery.toHls("saver");
  else if (state.tracks.some((track) => track.kind === "video")) delivery.expectMedia(anyPicture);
  if (me.on_stage && me.role === "speaker") await startCamera();  // a speaker's page reloaded
  else if (invitedNow(me)) await invite.show(me.invited_until);  // reloaded while invited
  if (config.moderates) setInterval(() => renderModeration(presence), 5000);  // lapsed invitations
}
