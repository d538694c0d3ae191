// The exhibitor's inbox in the studio (issue 12): quote requests with the buyer's contact details
// and the staff's replies, viewers' questions and trade-meeting requests, updated live over Socket.IO
// (`quote.requested` / `quote.replied` / `quote.withdrawn` on the staff channel, `question.asked`
// on the room's, `request.created`
// on the person's user channel). Unread counts survive a reload (localStorage, capped); a sound
// on arrival is the exhibitor's choice; "Export CSV" downloads every request.
import { config, el, formatDateTime, formatTime, notify, notifyError, t } from "./i18n.js";
import { shownName } from "./names.js";

const READ_KEY = `pavilion.inbox.read.${config.room}`;
const SOUND_KEY = "pavilion.inbox.sound";
const MAX_ITEMS = 300;  // the server keeps 200 quote requests per room; meeting notices add some
const MAX_READ = 500;

function load(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key) ?? "null") ?? fallback; } catch { return fallback; }
}
function save(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ }
}

function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    gain.gain.value = 0.08;
    tone.frequency.value = 880;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
    tone.onended = () => audio.close();
  } catch { /* no audio: the badge still counts */ }
}

export class Inbox {
  constructor(conn) {
    this.conn = conn;
    this.list = document.getElementById("quotes");
    this.empty = document.getElementById("inbox-empty");
    this.badge = document.getElementById("inbox-unread");
    this.sound = document.getElementById("inbox-sound");
    this.items = new Map();  // id -> {kind: "quote" | "meeting", at, data}
    this.read = new Set(load(READ_KEY, []));
    this.title = document.title;
    this.sound.checked = Boolean(load(SOUND_KEY, false));
    this.sound.addEventListener("change", () => save(SOUND_KEY, this.sound.checked));
    document.getElementById("inbox-read").addEventListener("click", () => this.markAllRead());
    document.getElementById("inbox-csv").addEventListener("click", (e) => { e.preventDefault(); this.exportCsv(); });
    conn.on("quote.requested", (q) => this.arrive("quote", q.id, q.requested_at, q));
    conn.on("quote.replied", (q) => this.update(q));
    conn.on("quote.withdrawn", (q) => this.withdrawn(q.id));
    conn.on("request.created", (n) => this.arrive("meeting", n.id, n.at, n.data));
    conn.on("question.asked", (q) => this.arrive("question", `question-${q.id}`, q.asked_at, q));
    conn.on("question.answered", (q) => this.withdrawnQuietly(`question-${q.question_id ?? q.id}`));
  }

  /** The open questions of the join state (the studio's state carries the top ones). */
  loadQuestions(questions) {
    for (const q of questions ?? []) this.items.set(`question-${q.id}`, { kind: "question", at: q.asked_at, data: q });
    this.render();
  }

  withdrawnQuietly(id) {
    if (this.items.delete(id)) this.render();
  }

  async load() {
    try {
      const data = await this.conn.api("GET", "/quotes");
      for (const q of data.requests) this.items.set(q.id, { kind: "quote", at: q.requested_at, data: q });
    } catch (err) {
      notifyError(err);
    }
    this.render();
  }

  arrive(kind, id, at, data) {
    const known = this.items.has(id);
    this.items.set(id, { kind, at, data });
    while (this.items.size > MAX_ITEMS) this.items.delete(this.items.keys().next().value);
    this.render();
    if (known) return;
    if (this.sound.checked) beep();
    if (kind === "quote") notify(t("new_request", { name: shownName(data.name) }));
  }

  update(quote) {
    const item = this.items.get(quote.id);
    if (item) { item.data = quote; this.render(); }
  }

  withdrawn(id) {
    const item = this.items.get(id);
    if (!item) return;
    this.items.delete(id);
    this.render();
    notify(t("request_withdrawn_by", { name: shownName(item.data.name) }));
  }

  unread() {
    return [...this.items.keys()].filter((id) => !this.read.has(id)).length;
  }

  markAllRead() {
    for (const id of this.items.keys()) this.read.add(id);
    save(READ_KEY, [...this.read].slice(-MAX_READ));
    this.render();
  }

  render() {
    const sorted = [...this.items.entries()].sort((a, b) => b[1].at - a[1].at);
    const draw = { quote: this.quoteItem, meeting: this.meetingItem, question: this.questionItem };
    this.list.replaceChildren(...sorted.map(([id, item]) => draw[item.kind].call(this, id, item.data)));
    const unread = this.unread();
    this.badge.hidden = unread === 0;
    this.badge.textContent = t("unread", { num: unread });
    document.title = unread ? `(${unread}) ${this.title}` : this.title;
    this.empty.hidden = this.items.size > 0;
  }

  quoteItem(id, q) {
    const form = el("form", { class: "inline-form reply-form" },
      el("label", { for: `reply-${id}`, class: "visually-hidden", text: t("reply") }),
      el("textarea", { id: `reply-${id}`, name: "text", maxlength: "2000", rows: "2", required: true }),
      el("button", { type: "submit", text: t("reply") }),
      el("button", { type: "button", class: "propose", text: t("propose_meeting"),
                     onclick: () => this.reply(id, form, true) }));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.reply(id, form); });
    return el("li", { class: this.read.has(id) ? "inbox-item quote-item" : "inbox-item quote-item unread",
                      "data-quote": id },
      el("div", { class: "quote-head" },
        el("time", { text: formatTime(q.requested_at) }), " ",
        el("span", { text: t("quote_from", { name: shownName(q.name), product: q.product_name }) })),
      el("p", { class: "contact" },
        q.company ? el("span", { class: "company", text: q.company }) : null, q.company ? " · " : null,
        q.email ? el("a", { class: "email", href: `mailto:${q.email}`, text: q.email }) : null,
        q.email && q.phone ? " · " : null,
        q.phone ? el("a", { class: "phone", href: `tel:${q.phone.replace(/[^0-9+]/g, "")}`, text: q.phone }) : null),
      q.message ? el("p", { class: "quote-message", text: q.message }) : null,
      ...q.replies.map((r) => el("p", { class: r.meeting ? "quote-reply meeting" : "quote-reply" },
        el("span", { class: "who", text: t("reply_from", { name: r.author }) }), " ",
        r.meeting ? el("span", { class: "badge", text: t("meeting_proposal_sent") }) : null, " ",
        el("span", { class: "text", text: r.text }))),
      form);
  }

  meetingItem(id, data) {
    return el("li", { class: this.read.has(id) ? "inbox-item meeting-item" : "inbox-item meeting-item unread",
                      "data-meeting": data.request_id ?? id },
      el("span", { text: t("meeting_request_from", { name: data.buyer_name ?? "",
                                                     when: data.starts_at ? formatDateTime(data.starts_at) : "" }) }));
  }

  questionItem(id, q) {
    return el("li", { class: this.read.has(id) ? "inbox-item question-item" : "inbox-item question-item unread",
                      "data-question": q.id },
      el("div", { class: "quote-head" },
        el("time", { text: formatTime(q.asked_at) }), " ",
        el("span", { text: t("question_from", { name: shownName(q.name) }) })),
      el("p", { class: "quote-message", text: q.text }));
  }

  /** Send the reply box's text; `meeting` also proposes a meeting (the text may be empty). */
  async reply(id, form, meeting = false) {
    const text = String(new FormData(form).get("text") ?? "");
    try {
      const data = await this.conn.api("POST", `/quotes/${encodeURIComponent(id)}/replies`, { text, meeting });
      this.read.add(id);
      save(READ_KEY, [...this.read].slice(-MAX_READ));
      this.update(data.request);
      notify(t("reply_sent"));
    } catch (err) {
      notifyError(err);
    }
  }

  async exportCsv() {
    try {
      const response = await fetch(`/api/pages/rooms/${encodeURIComponent(config.room)}/quotes.csv`,
                                   { headers: { Authorization: `Bearer ${this.conn.token}` } });
      if (!response.ok) throw Object.assign(new Error("csv"), { code: "internal_error" });
      const url = URL.createObjectURL(await response.blob());
      const link = el("a", { href: url, download: `quotes-${config.room}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      notifyError(err);
    }
  }
}
