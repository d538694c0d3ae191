// Trade-meeting pages: exhibitor directory and booking, "my meetings", exhibitor dashboard.
// Data comes from /api/meetings (docs/meetings-api.md) with the token of the page's link; every
// word comes from the page's #meetings-i18n (no English is hard-coded here), and every time is
// shown in the browser's own zone with the zone's label, by the page language's date rules
// (zonetime.js; Mongolian too). Text from people is set with textContent, never as HTML.
import { io } from "./vendor/socket.io.esm.min.js";
import { formatInstant } from "./zonetime.js";

const config = JSON.parse(document.getElementById("meetings-config").textContent);
const strings = JSON.parse(document.getElementById("meetings-i18n").textContent);
const words = strings.words;
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const statusLine = document.getElementById("meetings-status");
const TOKEN_KEY = "pavilion.meetings.token";
let freeSlots = [];  // the exhibitor's free slots (dashboard): what "propose" can offer

function takeToken() {
  const url = new URL(location.href);
  const fromLink = url.searchParams.get("token");
  if (fromLink) {
    sessionStorage.setItem(TOKEN_KEY, fromLink);
    url.searchParams.delete("token");
    history.replaceState(null, "", url);  // the link need not stay in the address bar
  }
  return sessionStorage.getItem(TOKEN_KEY) || "";
}
const token = takeToken();

function say(text) { statusLine.textContent = text; }
function sayError(code) { say(strings.errors[code] || strings.fallback); }
function word(key, num) { return (words[key] || key).replace("%(num)s", String(num ?? "")); }
function local(isoUtc) { return formatInstant(new Date(isoUtc), config.lang, zone); }

async function api(method, path, body) {
  const headers = {"Accept": "application/json"};
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const sep = path.includes("?") ? "&" : "?";
  const response = await fetch(config.api + path + sep + "tz=" + encodeURIComponent(zone),
    {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error ? data.error.code : "http_" + response.status);
    error.code = data.error ? data.error.code : "unknown";
    throw error;
  }
  return data;
}

async function attempt(action) {
  try {
    await action();
    return true;
  } catch (error) {
    sayError(error.code);
    return false;
  }
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function button(key, onclick, extra = {}) {
  const {dataset = {}, ...rest} = extra;
  return el("button", {type: "button", textContent: word(key), onclick, ...rest,
    dataset: {action: key, ...dataset}});
}

function download(path, key) {
  const href = config.api + path + "?tz=" + encodeURIComponent(zone) +
    "&access_token=" + encodeURIComponent(token);
  return el("a", {href, textContent: word(key), download: ""});
}

function timeOf(item) {
  return el("time", {dateTime: item.starts_at, textContent: local(item.starts_at)});
}

// -- the buyer's directory ------------------------------------------------------------------
async function showDirectory(form) {
  const query = new URLSearchParams(new FormData(form));
  const list = document.getElementById("meetings-exhibitors");
  await attempt(async () => {
    const data = await api("GET", "/exhibitors?" + query);
    list.replaceChildren(...data.exhibitors.map((ex) => el("li", {className: "card"},
      el("h3", {textContent: ex.name[config.lang] || ex.name.en}),
      el("p", {textContent: ex.products.join(" · ")}),
      el("p", {textContent: word("languages") + ": " + ex.languages.join(", ")}),
      button("free_slots", () => showExhibitor(ex.id), {dataset: {exhibitor: ex.id}}))));
    if (!data.exhibitors.length) list.replaceChildren(el("li", {textContent: word("nothing")}));
  });
}

async function showExhibitor(id) {
  const section = document.getElementById("meetings-exhibitor");
  const form = document.getElementById("meetings-request");
  await attempt(async () => {
    const ex = await api("GET", "/exhibitors/" + encodeURIComponent(id));
    section.hidden = false;
    document.getElementById("meetings-exhibitor-name").textContent =
      ex.name[config.lang] || ex.name.en;
    const slots = ex.slots.map((slot) => el("li", {},
      el("label", {}, el("input", {type: "radio", name: "slot", value: slot.id}), " ",
        timeOf(slot), " · ", word("minutes", slot.length_min), " · ", slot.languages.join(", "))));
    document.getElementById("meetings-slots").replaceChildren(
      ...(slots.length ? slots : [el("li", {textContent: word("no_slots")})]));
    form.hidden = !slots.length;
  });
}

async function sendRequest(event) {
  event.preventDefault();
  const chosen = document.querySelector("input[name=slot]:checked");
  if (!chosen) { say(word("no_slots")); return; }
  const message = document.getElementById("meetings-message").value;
  const interpreter = document.getElementById("meetings-interpreter")?.value || undefined;
  if (await attempt(() => api("POST", "/requests",
    {slot_id: chosen.value, message, time_zone: zone, interpreter}))) {
    say(word("requested"));
    chosen.closest("li").remove();
  }
}

// -- one request or meeting, with what the viewer may do -------------------------------------
function feedbackForm(item, onSaved) {
  const rating = el("select", {name: "rating"},
    ...[5, 4, 3, 2, 1].map((n) => el("option", {value: String(n), textContent: "★".repeat(n)})));
  const note = el("textarea", {name: "note", maxLength: 2000, rows: 2,
    value: (item.mine && item.mine.note) || ""});
  if (item.mine && item.mine.rating) rating.value = String(item.mine.rating);
  return el("form", {className: "meetings-feedback", onsubmit: async (event) => {
    event.preventDefault();
    if (await attempt(() => api("POST", `/requests/${item.id}/feedback`,
      {rating: Number(rating.value), note: note.value}))) { say(word("saved")); onSaved(); }
  }}, el("label", {}, word("rate"), " ", rating), el("label", {}, word("note"), " ", note),
  el("button", {type: "submit", textContent: word("save")}));
}

function actions(item, side, reload) {
  const act = (name, body = {}) => async () => {
    if (await attempt(() => api("POST", `/requests/${item.id}/${name}`, body))) reload();
  };
  const join = async () => attempt(async () => {
    const link = await api("GET", `/requests/${item.id}/join`);
    location.href = link.url;
  });
  const out = [];
  if (item.state === "pending" && side === "exhibitor") {
    const reason = el("input", {placeholder: word("decline_reason"), maxLength: 500,
      ariaLabel: word("decline_reason")});
    out.push(button("accept", act("accept")), reason,
      button("decline", () => act("decline", {reason: reason.value})()));
    if (freeSlots.length) {
      const other = el("select", {ariaLabel: word("propose")}, ...freeSlots.map((s) => el("option",
        {value: s.id, textContent: local(s.starts_at)})));
      out.push(other, button("propose", () => act("propose", {slot_id: other.value})()));
    }
  }
  if (item.state === "proposed" && side === "buyer") {
    out.push(button("accept", act("accept")), button("decline", act("decline")));
  }
  if (["pending", "proposed"].includes(item.state) && side === "buyer") {
    out.push(button("withdraw", act("withdraw")));
  }
  if (item.state === "accepted") {
    out.push(button("join", join, {className: "primary"}),
      download(`/requests/${item.id}/invite.ics`, "calendar"), button("cancel", act("cancel")));
  }
  const started = item.state === "completed" ||
    (item.state === "accepted" && Date.parse(item.starts_at) < Date.now());
  if (started) {
    out.push(feedbackForm(item, reload));
  }
  return out;
}

function requestItem(item, side, reload) {
  const who = side === "buyer" ? item.exhibitor : item.buyer_name;
  return el("li", {className: "meeting", dataset: {request: item.id, state: item.state}},
    el("strong", {textContent: who}), " · ", timeOf(item), " · ",
    el("span", {className: "state", textContent: word("state_" + item.state)}),
    item.message ? el("p", {textContent: item.message}) : null,
    item.interpreter ? el("p", {className: "interpreter", textContent: words.interpreter_asked
      .replace("%(language)s", strings.languages?.[item.interpreter] ?? item.interpreter)}) : null,
    item.reason ? el("p", {textContent: item.reason}) : null,
    item.attendance ? el("p", {textContent: word("attendance_" + item.attendance)}) : null,
    el("div", {className: "actions"}, ...actions(item, side, reload)));
}

// -- "my meetings" ---------------------------------------------------------------------------
async function showMine() {
  if (!token) { say(word("sign_in")); return; }
  const list = document.getElementById("meetings-mine");
  await attempt(async () => {
    const data = await api("GET", "/mine");
    const views = await Promise.all(data.requests.map((r) => api("GET", "/requests/" + r.id)));
    list.replaceChildren(...views.map((r) => requestItem(r, "buyer", showMine)));
    if (!views.length) list.replaceChildren(el("li", {textContent: word("nothing")}));
  });
  await showFeed();
}

async function showFeed() {
  const feed = document.getElementById("meetings-feed");
  await attempt(async () => {
    const data = await api("GET", "/notifications?limit=20");
    feed.replaceChildren(...data.notifications.map((n) => el("li", {dataset: {kind: n.kind}},
      el("time", {textContent: local(new Date(n.at * 1000).toISOString())}), " ",
      word("notice_" + n.kind.replace(".", "_")),
      // an interpreter's own notice carries their console link (issue 17 §6)
      ...(n.data && n.data.url ? [" ", el("a", {href: n.data.url, textContent: word("open_console")})] : []))));
  });
}

// -- the exhibitor's dashboard ---------------------------------------------------------------
function profileHref() {
  return "/meetings/profile/" + encodeURIComponent(config.exhibitor) + "?lang=" + config.lang;
}

async function showDashboard() {
  if (!token) { say(word("sign_in")); return; }
  const base = "/exhibitors/" + encodeURIComponent(config.exhibitor);
  try {
    await api("GET", base);
  } catch (error) {
    if (error.code !== "no_such_exhibitor") { sayError(error.code); return; }
    statusLine.replaceChildren(word("no_profile"), " ",
      el("a", {href: profileHref(), id: "meetings-create-profile", textContent: word("create_profile")}));
    document.getElementById("meetings-profile-link").hidden = true;
    return;
  }
  await attempt(async () => {
    const slots = await api("GET", base + "/slots?all=1");
    freeSlots = slots.slots.filter((s) => !s.held_by && Date.parse(s.starts_at) > Date.now());
    const board = await api("GET", base + "/dashboard");
    const stats = document.getElementById("meetings-stats");
    const rate = board.no_show_rate === null ? "–" : Math.round(board.no_show_rate * 100) + "%";
    stats.replaceChildren(el("dt", {textContent: word("no_show_rate")}), el("dd", {textContent: rate}),
      el("dt", {textContent: word("average_rating")}),
      el("dd", {textContent: board.rating_average === null ? "–" : String(board.rating_average)}));
    const fill = (id, items) => document.getElementById(id).replaceChildren(...(items.length
      ? items.map((r) => requestItem({...r, mine: r.mine}, "exhibitor", showDashboard))
      : [el("li", {textContent: word("nothing")})]));
    fill("meetings-awaiting", board.awaiting_requests);
    fill("meetings-upcoming", board.upcoming_meetings);
    fill("meetings-past", board.past_meetings);
    document.getElementById("meetings-own-slots").replaceChildren(...slots.slots.map((s) =>
      el("li", {dataset: {slot: s.id}}, timeOf(s), " · ", word("minutes", s.length_min), " ",
        s.held_by ? el("span", {textContent: word("held")})
          : button("remove", async () => {
            if (await attempt(() => api("DELETE", "/slots/" + s.id))) showDashboard();
          }))));
    const csv = document.getElementById("meetings-csv");
    csv.href = config.api + base + "/meetings.csv?tz=" + encodeURIComponent(zone) +
      "&access_token=" + encodeURIComponent(token);
  });
}

async function publish(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const data = Object.fromEntries(form);
  const languages = form.getAll("languages");
  if (!languages.length) { say(word("pick_language")); return; }
  const slot = {date: data.date, start: data.start, length_min: Number(data.length_min),
    time_zone: data.time_zone, languages};
  const base = "/exhibitors/" + encodeURIComponent(config.exhibitor);
  if (await attempt(() => api("POST", base + "/slots", {slots: [slot]}))) {
    say(word("saved"));
    showDashboard();
  }
}

// -- live updates ----------------------------------------------------------------------------
// Trade-meeting notices reach every page of the person on their Socket.IO `user:<identity>`
// channel (docs/protocol.md): "my meetings" and the dashboard redraw when one arrives, and after
// a reconnect (a notice sent meanwhile is in the feed), instead of polling.
const LIVE_EVENTS = ["request.created", "request.accepted", "request.declined", "request.proposed",
  "request.withdrawn", "request.cancelled", "request.expired", "meeting.reminder", "meeting.ending",
  "meeting.ended", "meeting.interpreter"];

function live(redraw) {
  if (!token) return null;
  const socket = io("/rtc", {transports: ["websocket"], auth: {token},
    reconnectionDelay: 500, reconnectionDelayMax: 4000});
  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(redraw, 150); };  // a burst: once
  for (const name of LIVE_EVENTS) socket.on(name, soon);
  let connectedBefore = false;
  socket.on("connect", () => { if (connectedBefore) soon(); connectedBefore = true; });
  return socket;
}

// -- the exhibitor's profile ----------------------------------------------------------------
const LANGS = ["zh", "en", "ja", "ko", "ru", "mn"];

function pickZone(select, wanted) {
  if ([...select.options].some((o) => o.value === wanted)) select.value = wanted;
}

async function showProfile(form) {
  if (!token) { say(word("sign_in")); return; }
  const path = "/exhibitors/" + encodeURIComponent(config.exhibitor);
  let profile = null;
  try {
    profile = await api("GET", path);
  } catch (error) {
    if (error.code !== "no_such_exhibitor") { sayError(error.code); return; }
    say(word("no_profile"));
  }
  pickZone(form.elements.time_zone, profile ? profile.time_zone : zone);
  if (!profile) return;
  for (const lang of LANGS) {
    form.elements["name_" + lang].value = profile.name[lang] || "";
    form.elements["description_" + lang].value = (profile.description || {})[lang] || "";
  }
  form.elements.pavilion.value = profile.pavilion;
  form.elements.products.value = profile.products.join(", ");
  for (const box of form.querySelectorAll("input[name=languages]")) {
    box.checked = profile.languages.includes(box.value);
  }
  form.dataset.team = JSON.stringify(profile.team);
}

async function saveProfile(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const languages = data.getAll("languages");
  if (!languages.length) { say(word("pick_language")); return; }
  const texts = (prefix) => Object.fromEntries(LANGS.map((l) => [l, data.get(prefix + l).trim()])
    .filter(([, text]) => text));
  const body = {name: texts("name_"), description: texts("description_"),
    pavilion: data.get("pavilion"), languages, time_zone: data.get("time_zone"),
    products: data.get("products").split(",").map((p) => p.trim()).filter(Boolean),
    team: JSON.parse(form.dataset.team || "[]")};
  const path = "/exhibitors/" + encodeURIComponent(config.exhibitor);
  if (await attempt(() => api("PUT", path, body))) {
    say(word("profile_saved"));
    const link = document.getElementById("meetings-dashboard-link");
    link.href = "/meetings/dashboard/" + encodeURIComponent(config.exhibitor) +
      "?lang=" + config.lang;
    link.hidden = false;
  }
}

// -- start -----------------------------------------------------------------------------------
function start() {
  let socket = null;
  if (config.page === "directory") {
    const filters = document.getElementById("meetings-filters");
    filters.addEventListener("submit", (e) => { e.preventDefault(); showDirectory(filters); });
    document.getElementById("meetings-request").addEventListener("submit", sendRequest);
    if (config.quote) document.getElementById("meetings-message").value = config.quote;
    showDirectory(filters);
    if (config.exhibitor) showExhibitor(config.exhibitor);
  } else if (config.page === "mine") {
    showMine();
    socket = live(showMine);
  } else if (config.page === "dashboard") {
    const form = document.getElementById("meetings-publish");
    pickZone(form.elements.time_zone, zone);
    form.addEventListener("submit", publish);
    showDashboard();
    socket = live(showDashboard);
  } else if (config.page === "profile") {
    const form = document.getElementById("meetings-profile");
    form.addEventListener("submit", saveProfile);
    showProfile(form);
  }
  window.pavilionMeetings = {api, zone, socket, reload: {directory: showDirectory, mine: showMine,
    dashboard: showDashboard, profile: showProfile}};
}
start();
