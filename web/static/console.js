// The organiser console (issue 18 §2, docs/pages.md "Console"): Socket.IO namespace /console
// pushes a snapshot every ~2 s and when a room changes; a room's detail and the actions are acknowledged calls.
import { io } from "./vendor/socket.io.esm.min.js";

const config = JSON.parse(document.getElementById("config").textContent);
const words = JSON.parse(document.getElementById("words").textContent);
const $ = (id) => document.getElementById(id);
const KEY_STORE = "pavilion:console-key";
let socket = null;
let snapshot = null;
let openRoom = null;

function t(key, values = {}) {
  return (words[key] || key).replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""))
    .replace("%%", "%");
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
  return td;
}

function button(label, onClick, cls = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (cls) b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

function title(room) {
  return (room.title && (room.title[config.lang] || room.title.en)) || room.id;
}

function alertText(a) {
  const value = a.kind === "loss_high" ? Math.round(a.value * 1000) / 10 : a.value;
  return (a.room ? `${a.room}: ` : "") + t(a.kind, { value, node: a.node });
}

function renderRooms(data) {
  const rows = $("room-rows");
  rows.replaceChildren();
  for (const room of data.rooms) {
    const h = room.health || {};
    const tr = document.createElement("tr");
    tr.dataset.room = room.id;
    if (room.alerts.length) tr.className = "alerting";
    cell(tr, title(room));
    cell(tr, room.node || "—");
    cell(tr, String(h.viewers ?? 0)).className = "viewers";
    cell(tr, String(Math.round((h.bitrate_bps || 0) / 1000))).className = "bitrate";
    cell(tr, `${Math.round((h.loss || 0) * 1000) / 10} %`);
    cell(tr, String(h.keyframe_requests ?? 0));
    cell(tr, String(h.weak_viewers ?? 0));
    cell(tr, h.recording ? t("on") : t("off"));
    cell(tr, h.hls ? t("on") : t("off"));
    cell(tr, "").append(button(t("details"), () => openDetail(room.id)));
    rows.append(tr);
  }
  if (!data.rooms.length) {
    const tr = document.createElement("tr");
    cell(tr, t("no_rooms")).colSpan = 10;
    rows.append(tr);
  }
  const to = Math.min(data.offset + data.limit, data.total);
  $("page").textContent = t("page", { from: data.total ? data.offset + 1 : 0, to, total: data.total });
  $("prev").disabled = data.offset === 0;
  $("next").disabled = to >= data.total;
}

function renderAlerts(data) {
  const list = $("alerts");
  list.replaceChildren();
  for (const a of data.alerts) {
    const li = document.createElement("li");
    li.textContent = alertText(a);
    list.append(li);
  }
  if (!data.alerts.length) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = t("no_alerts");
    list.append(li);
  }
}

function renderNodes(data) {
  const rows = $("node-rows");
  rows.replaceChildren();
  for (const n of data.nodes) {
    const tr = document.createElement("tr");
    cell(tr, n.id);
    cell(tr, `${Math.round(n.load * 100)} %`);
    cell(tr, String(n.rooms));
    cell(tr, String(n.viewers));
    cell(tr, n.draining ? t("on") : t("off"));
    rows.append(tr);
  }
}

function onSnapshot(data) {
  if (data.error && data.error.code === "token_expired") {  // the server lets the console go
    $("status").textContent = t("expired");
    document.body.dataset.outage = "true";
    return;
  }
  if (data.error) {  // Redis away: the connection stays, the last figures stay, marked stale
    $("status").textContent = t("unavailable");
    document.body.dataset.outage = "true";
    return;
  }
  if (document.body.dataset.outage) {  // the store is back: the notice goes
    delete document.body.dataset.outage;
    if ($("status").textContent === t("unavailable")) $("status").textContent = "";
  }
  snapshot = data;
  $("console").hidden = false;
  renderRooms(data);
  renderAlerts(data);
  renderNodes(data);
  if (openRoom) openDetail(openRoom);
}

function call(event, payload) {
  return new Promise((resolve) => {
    socket.timeout(15000).emit(event, payload, (err, ack) => {
      resolve(err ? { ok: false, error: { code: "timeout", message: String(err) } } : ack);
    });
  });
}

function linkText(link) {
  const parts = [t(link.direction), `${Math.round(link.bitrate_bps / 1000)} kbit/s`,
                 `${Math.round(link.loss * 1000) / 10} %`];
  const layers = Object.values(link.layers || {}).filter((x) => x !== undefined);
  if (layers.length) parts.push(layers.map((x) => x || t("none")).join(", "));
  if (link.rtt_ms !== null && link.rtt_ms !== undefined) {
    parts.push(t("rtt", { value: Math.round(link.rtt_ms) }));
  }
  if (link.weak) parts.push(t("weak"));
  return parts.join(" · ");
}

async function act(event, payload) {
  const ack = await call(event, payload);
  $("status").textContent = ack.ok ? t("done") : (ack.error && ack.error.message) || "";
  if (openRoom) openDetail(openRoom);
}

async function openDetail(room) {
  openRoom = room;
  const ack = await call("console.room", { room });
  if (!ack.ok) {
    $("status").textContent = (ack.error && ack.error.message) || "";
    return;
  }
  $("detail").hidden = false;
  $("detail").dataset.room = room;
  $("detail-heading").textContent = room;
  const rows = $("people-rows");
  rows.replaceChildren();
  for (const p of ack.participants) {
    const tr = document.createElement("tr");
    tr.dataset.identity = p.identity;
    cell(tr, p.name || p.identity);
    cell(tr, p.present ? t(`role_${p.role}`) : t("absent"));
    cell(tr, p.links.map(linkText).join(" / ") || "—");
    const actions = cell(tr, "");
    if (p.present) {
      actions.append(button(p.muted ? t("unmute") : t("mute"),
        () => act("console.mute", { room, identity: p.identity, muted: !p.muted })));
      actions.append(button(t("kick"),
        () => act("console.kick", { room, identity: p.identity }), "danger kick"));
    }
    rows.append(tr);
  }
}

function connect(auth) {
  socket = io(config.namespace, { transports: ["websocket"], auth });
  socket.on("console.snapshot", onSnapshot);
  socket.on("connect", () => { $("status").textContent = ""; $("key-form").hidden = true; });
  socket.on("connect_error", (err) => {
    $("status").textContent = (err.data && err.data.message) ? t("refused") : String(err.message);
    if (auth.api_key) { sessionStorage.removeItem(KEY_STORE); $("key-form").hidden = false; }
    if (err.data) socket.disconnect();
  });
}

$("prev").addEventListener("click", () =>
  call("console.page", { offset: Math.max(0, snapshot.offset - snapshot.limit) }).then(onSnapshot));
$("next").addEventListener("click", () =>
  call("console.page", { offset: snapshot.offset + snapshot.limit }).then(onSnapshot));
$("close-room").addEventListener("click", () => openRoom && act("console.close", { room: openRoom }));
$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const key = $("api-key").value.trim();
  sessionStorage.setItem(KEY_STORE, key);
  connect({ api_key: key });
});

if (config.token) {
  connect({ token: config.token });
} else if (sessionStorage.getItem(KEY_STORE)) {
  connect({ api_key: sessionStorage.getItem(KEY_STORE) });
} else {
  $("key-form").hidden = false;
}
