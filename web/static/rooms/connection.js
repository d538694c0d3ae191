// One Socket.IO session on /rtc (docs/protocol.md): acknowledged calls, batched events unpacked,
// and recovery: the socket reconnects by itself after a network drop and resumes its session
// (auth.session); a reloaded page resumes the session it left (sessionStorage), then rejoins.
import { io } from "../vendor/socket.io.esm.min.js";
import { config, notify, notifyError, t } from "./i18n.js";
import { learnExhibitor, savedName } from "./names.js";

export class RtcError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.code = code;
    Object.assign(this, extra);
  }
}

const STORE_KEY = `pavilion:${config.room}`;
const EXPIRY_MARGIN_S = 300;
const CALL_TIMEOUT_MS = 15000;
const FAILOVER_MS = 3000;  // a node unreachable this long is taken as dead: try the others
const PROBE_MS = 1500;

function tokenExpiry(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp || 0;
  } catch {
    return 0;
  }
}

/** The token and session to use: a page reloaded with a minted visitor token keeps its old one. */
function credentials() {
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null"); } catch { saved = null; }
  const fresh = saved && tokenExpiry(saved.token) > Date.now() / 1000 + EXPIRY_MARGIN_S;
  if (fresh && (config.minted || saved.identity === config.identity)) {
    return { token: config.minted ? saved.token : config.token, identity: saved.identity,
             session: saved.session };
  }
  return { token: config.token, identity: config.identity, session: null };
}

export class Connection {
  constructor() {
    const creds = credentials();
    this.token = creds.token;
    this.identity = creds.identity;
    this.session = creds.session;
    this.iceServers = null;  // from the `session` event
    this.handlers = new Map();
    this.joined = false;
    this.lastChat = null;
    this.stalePeers = [];
    this.nodes = [];  // the other live nodes, as the last `session` or `nodes` event listed them
    this.failover = null;
    // Query parameters a page carries to the node it moves to (the studio: `on_air` while live)
    this.onMove = () => ({});
    this.readyPromise = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.socket = io(config.namespace, {
      transports: ["websocket"],
      auth: (cb) => cb({ token: this.token, session: this.session }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
    });
    this.socket.onAny((name, payload) => this.#incoming(name, payload));
    this.socket.on("connect_error", (err) => this.#refused(err));
    this.socket.on("disconnect", (reason) => this.#dropped(reason));
    addEventListener("pagehide", () => this.socket.disconnect());
  }

  /** Register `fn` for a server event (batched ones included); returns this for chaining. */
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, []);
    this.handlers.get(name).push(fn);
    return this;
  }

  #fire(name, payload) {
    for (const fn of this.handlers.get(name) ?? []) {
      try { fn(payload); } catch (err) { console.error(name, err); }
    }
  }

  #incoming(name, payload) {
    if (name === "session") return this.#session(payload);
    if (name === "node.draining") return this.#draining(payload);
    if (name === "nodes") return this.#nodesChanged(payload);
    if (name !== "batch") return this.#fire(name, payload);
    for (const [inner, data] of payload.events ?? []) this.#fire(inner, data);
    if (payload.reactions) this.#fire("reactions", payload.reactions);
    if (payload.presence) this.#fire("presence", payload.presence);
  }

  /** This node is leaving (docs/protocol.md, `node.draining`): move to the node it names, as
   * a `wrong_node` answer does. With no node named, or one at this page's own origin (every
   * node behind one address), stay: when the node stops, the socket reconnects through that
   * address to a live node. */
  #draining(info) {
    this.#fire("node.draining", info);
    const there = info?.node_url ? pageOn(info.node_url, this.onMove()) : null;
    if (there) moveTo(this, there);
  }

  /** The other live nodes changed (docs/protocol.md, `nodes`): where to go if this node dies
   * is now this list (a node that started after this page connected, or one that left). */
  #nodesChanged(info) {
    this.nodes = info?.nodes ?? [];
    this.#fire("nodes", info);
  }

  #save() {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(
      { token: this.token, identity: this.identity, session: this.session }));
  }

  async #session(info) {
    const resumedFromPage = info.resumed && !this.joined;
    clearTimeout(this.failover);
    this.failover = null;
    this.session = info.session;
    this.identity = info.identity;
    this.nodes = info.nodes ?? [];
    this.iceServers = info.ice_servers ?? null;  // fresh TURN credentials for new peers
    this.#save();
    if (resumedFromPage) this.stalePeers = info.peers ?? [];
    if (this.joined) {
      notify(t("reconnected"));
      try {
        this.#fire("rejoined", { state: await this.join(), resumed: info.resumed });
      } catch (err) {
        this.#fire("failed", err);
      }
    }
    this.resolveReady();
    this.#fire("ready", info);
  }

  #refused(err) {
    const code = err?.data?.code;
    if (code) {
      notifyError(code, true);  // a refused token: reconnecting cannot help
      const error = new RtcError(code, err.data.message);
      this.rejectReady(error);
      this.#fire("failed", error);
    } else {
      notify(t("reconnecting"), { error: true, sticky: true });
    }
  }

  #dropped(reason) {
    if (reason === "io client disconnect") return;
    if (reason === "io server disconnect") {
      this.#fire("failed", new RtcError("not_allowed"));
      return;
    }
    notify(t("reconnecting"), { error: true, sticky: true });
    this.failover ??= setTimeout(() => this.#failOver(), FAILOVER_MS);
  }

  /** This node stayed unreachable (killed: issue 13, node loss). Behind one address (every
   * node at this page's origin) the socket's own reconnection reaches a live node; with a node
   * per origin, the page moves to the first other node the last `session` or `nodes` event
   * listed that answers `/healthz`, and joins there (chat, media and presence: the same room). */
  async #failOver() {
    this.failover = null;
    if (this.socket.connected) return;
    for (const node of this.nodes) {
      const there = pageOn(node.url, this.onMove());
      if (!there || !await reachable(node.url)) continue;  // refused or silent: dead too
      if (!this.socket.connected) moveTo(this, there);
      return;
    }
    if (!this.socket.connected) this.failover = setTimeout(() => this.#failOver(), FAILOVER_MS);
  }

  /** Wait until the server has said who we are (the `session` event). */
  ready() {
    return this.readyPromise;
  }

  /** Emit `event` with an acknowledgement; resolve with the ack's fields or throw RtcError. */
  async call(event, payload = {}) {
    let reply;
    try {
      reply = await this.socket.timeout(CALL_TIMEOUT_MS).emitWithAck(
        event, { room: config.room, ...payload });
    } catch {
      throw new RtcError("network_error");
    }
    if (!reply?.ok) {
      const error = reply?.error ?? {};
      const there = error.code === "wrong_node" ? pageOn(error.node_url) : null;
      if (there && await reachable(error.node_url)) return moveTo(this, there);
      throw new RtcError(error.code ?? "internal_error", error.message, error);
    }
    return reply;
  }

  /** Join the page's room (again after a reconnect: the server resends state and missed chat). */
  async join() {
    const payload = { language: config.lang };
    if (this.lastChat) payload.after = this.lastChat;
    const name = savedName();
    if (name) payload.name = name;
    const state = await this.call("join", payload);
    learnExhibitor(state.exhibitor_names);
    this.joined = true;
    return state;
  }

  /** Close the media peers a previous page of this session left behind. */
  async dropStalePeers() {
    const stale = this.stalePeers;
    this.stalePeers = [];
    for (const peer of stale) {
      try { await this.call("unsubscribe", { peer }); } catch { /* already gone */ }
    }
  }

  /** An authenticated JSON request to the page API (web/page_api.py). */
  async api(method, path, body) {
    const response = await fetch(`/api/pages/rooms/${config.room}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch { data = {}; }
    if (!response.ok || !data.ok) throw new RtcError(data.error?.code ?? "internal_error");
    return data;
  }
}

/** The same page on the node at `url` (with the `extra` query parameters), or null when that is
 * this page's own origin. */
function pageOn(url, extra = {}) {
  let target;
  try { target = new URL(url, location.href); } catch { return null; }
  if (target.origin === location.origin) return null;
  const search = new URLSearchParams(location.search);
  search.set("lang", config.lang);  // the language cookie does not cross origins
  for (const [key, value] of Object.entries(extra)) search.set(key, value);
  return `${target.origin}${location.pathname}?${search}${location.hash}`;
}

/** Whether the node at `url` answers at all (`/healthz`; cross-origin, so the answer itself is
 * opaque). A node just killed still counts as live for the others until its load report
 * expires (docs/deploy.md, "Node loss"): a page sent there stays where it is instead. */
async function reachable(url) {
  try {
    await fetch(new URL("/healthz", url), { mode: "no-cors", cache: "no-store",
                                            signal: AbortSignal.timeout(PROBE_MS) });
    return true;
  } catch {
    return false;
  }
}

/** Media lives on another node (docs/protocol.md: `media_node`, `wrong_node`): until nodes
 * cascade media, the page moves there (chat and presence are the same room on every node).
 * Returns a promise that never settles: the page is being replaced. */
function moveTo(conn, url) {
  notify(t("moving_to_media"), { sticky: true });
  conn.socket.disconnect();
  location.replace(url);
  return new Promise(() => {});
}

/** Connect and join; on failure show the translated reason and return null. */
export async function enter() {
  const conn = new Connection();
  window.pavilion = Object.assign(window.pavilion ?? {}, { connection: conn });
  try {
    await conn.ready();
    const state = await conn.join();
    const there = state.media_node ? pageOn(state.media_node.url) : null;
    if (there && state.media_node.id !== config.node && await reachable(state.media_node.url)) {
      return moveTo(conn, there);
    }
    return { conn, state };
  } catch (err) {
    notifyError(err, true);
    return { conn, state: null, error: err };
  }
}
