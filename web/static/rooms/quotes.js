// The buyer's side of "request a quote" (issue 12): a form asking how to reach them (kept in this
// browser's localStorage, editable each time), the list of their own requests with the
// exhibitor's replies (live: `quote.replied` on the person's user channel), and withdraw.
// Nothing here books a meeting: "meet about it" is a link the buyer may follow.
import { config, el, formatTime, localized, notify, notifyError, t } from "./i18n.js";

const CONTACT_KEY = "pavilion.quote.contact";
const CONTACT_FIELDS = ["name", "company", "email", "phone"];
const MAX_SHOWN = 50;  // the server keeps at most 200 per room; a buyer sees their latest 50

function rememberedContact() {
  try { return JSON.parse(localStorage.getItem(CONTACT_KEY) ?? "{}") ?? {}; } catch { return {}; }
}

/** The dialog that asks for contact details and a message, then sends the request. */
export class QuoteForm {
  constructor(conn, onSent) {
    this.conn = conn;
    this.onSent = onSent;
    this.dialog = document.getElementById("quote-dialog");
    this.form = document.getElementById("quote-form");
    this.meet = document.getElementById("quote-meet");
    this.meetBase = this.meet?.getAttribute("href") ?? "";
    this.card = null;
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    document.getElementById("quote-cancel").addEventListener("click", () => this.dialog.close());
  }

  open(card) {
    this.card = card;
    const name = localized(card.name);
    document.getElementById("quote-title").textContent = t("quote_for", { product: name });
    const saved = rememberedContact();
    for (const field of CONTACT_FIELDS) this.form.elements[field].value = saved[field] ?? "";
    this.form.elements.message.value = "";
    if (this.meet) this.meet.href = `${this.meetBase}&quote=${encodeURIComponent(t("quote_for", { product: name }))}`;
    this.dialog.showModal();
  }

  async send() {
    const data = Object.fromEntries(new FormData(this.form));
    const contact = Object.fromEntries(CONTACT_FIELDS.map((f) => [f, String(data[f] ?? "").trim()]));
    try { localStorage.setItem(CONTACT_KEY, JSON.stringify(contact)); } catch { /* private mode */ }
    try {
      const reply = await this.conn.api("POST", "/quotes", {
        product: this.card.id, language: config.lang, ...contact, message: String(data.message ?? "") });
      this.dialog.close();
      notify(t("quote_sent"));
      this.onSent(reply.request);
    } catch (err) {
      notifyError(err);
    }
  }
}

/** "My quote requests": the buyer's own requests in this room, replies, withdraw. */
export class MyQuotes {
  constructor(conn) {
    this.conn = conn;
    this.list = document.getElementById("my-quotes");
    this.empty = document.getElementById("no-my-quotes");
    this.requests = new Map();
    this.meetHref = document.getElementById("quote-meet")?.getAttribute("href") ?? "";
    conn.on("quote.replied", (q) => {
      if (q.room_id !== config.room || !this.requests.has(q.id)) return;
      this.put(q);
      notify(t("new_reply"));
    });
    conn.on("quote.requested", (q) => { if (q.room_id === config.room && q.requester === conn.identity) this.put(q); });
    conn.on("quote.withdrawn", (q) => { this.requests.delete(q.id); this.render(); });
  }

  async load() {
    try {
      const data = await this.conn.api("GET", "/quotes/mine");
      this.requests = new Map(data.requests.map((q) => [q.id, q]));
      this.render();
    } catch { /* not in the room yet: the list stays empty */ }
  }

  put(request) {
    this.requests.set(request.id, request);
    while (this.requests.size > MAX_SHOWN) this.requests.delete(this.requests.keys().next().value);
    this.render();
  }

  render() {
    const items = [...this.requests.values()].reverse().map((q) => el("li",
      { class: "quote-item", "data-quote": q.id },
      el("div", { class: "quote-head" },
        el("time", { text: formatTime(q.requested_at) }), " ",
        el("strong", { text: q.product_name })),
      q.message ? el("p", { class: "quote-message", text: q.message }) : null,
      ...(q.replies.length ? q.replies.map((r) => el("p", { class: "quote-reply" },
        el("span", { class: "who", text: t("reply_from", { name: r.author }) }), " ",
        el("span", { class: "text", text: r.text }),
        r.meeting && this.meetHref ? el("a", { class: "meet", href: `${this.meetHref}&quote=${encodeURIComponent(q.product_name)}`,
                                               target: "_blank", rel: "noopener", text: t("meeting_proposed") }) : null))
        : [el("p", { class: "empty", text: t("no_reply_yet") })]),
      el("button", { type: "button", class: "withdraw", text: t("withdraw"),
                     onclick: () => this.withdraw(q) })));
    this.list.replaceChildren(...items);
    if (this.empty) this.empty.hidden = this.requests.size > 0;
  }

  async withdraw(request) {
    try {
      await this.conn.api("DELETE", `/quotes/${encodeURIComponent(request.id)}`);
      this.requests.delete(request.id);
      this.render();
      notify(t("withdrawn"));
    } catch (err) {
      notifyError(err);
    }
  }
}
