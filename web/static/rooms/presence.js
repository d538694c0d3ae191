// Who is in the room: the join state's list, kept current by participant.* events; when the
// server sheds presence to counts under load (docs/protocol.md §4), the counts still add up.
import { formatCount, t } from "./i18n.js";
import { learn, refreshNames } from "./names.js";

export class Presence {
  constructor(conn, { countEl = null, word = "viewers", counted = () => true } = {}) {
    this.conn = conn;
    this.people = new Map();
    this.shed = 0;
    this.countEl = countEl;
    this.word = word;
    this.counted = counted;
    this.listeners = [];
    conn.on("participant.joined", (e) => this.#set(e.participant));
    conn.on("stage.invited", (e) => this.#set(e.participant));
    conn.on("stage.declined", (e) => this.#set(e.participant));
    conn.on("stage.invitation_lapsed", (e) => this.#set(e.participant));
    conn.on("participant.changed", (e) => this.#set(e.participant));
    conn.on("stage.changed", (e) => this.#set(e.participant));
    conn.on("hand.raised", (e) => this.#set(e.participant));
    conn.on("hand.lowered", (e) => this.#set(e.participant));
    conn.on("participant.muted", (e) => this.#set(e.participant));
    conn.on("waiting.admitted", (e) => this.#set(e.participant));
    conn.on("participant.left", (e) => this.#drop(e.identity));
    conn.on("participant.removed", (e) => this.#drop(e.identity));
    conn.on("presence", (p) => { this.shed += (p.joined || 0) - (p.left || 0); this.#changed(); });
    // after a Redis outage the node re-sends the list (events of other nodes were lost):
    // it replaces ours; we stay in it even when a big room's list does not name us
    conn.on("presence.sync", (e) => {
      const me = this.people.get(conn.identity);
      this.load(e.participants);
      if (me && !this.people.has(conn.identity)) this.#set(me);
    });
  }

  load(participants) {
    this.people = new Map((participants ?? []).map((p) => [p.identity, p]));
    for (const p of this.people.values()) learn(p);
    refreshNames();
    this.shed = 0;
    this.#changed();
  }

  onchange(fn) { this.listeners.push(fn); }

  get(identity) { return this.people.get(identity); }

  list() { return [...this.people.values()]; }

  #set(participant) {
    if (!participant?.identity) return;
    const before = this.people.get(participant.identity);
    this.people.set(participant.identity, participant);
    learn(participant);
    if (before?.name !== participant.name) refreshNames(participant.identity);
    this.#changed();
  }

  #drop(identity) {
    this.people.delete(identity);
    this.#changed();
  }

  count() {
    return Math.max(0, this.list().filter(this.counted).length + this.shed);
  }

  #changed() {
    if (this.countEl) this.countEl.textContent = t(this.word, { num: formatCount(this.count()) });
    for (const fn of this.listeners) fn(this);
  }
}
