// The chat panel: history from the join state, live messages from `chat.message` (deduplicated by
// stream id, so a resume never shows a message twice), sending with translated refusals, and
// for moderators a delete and a remove button on each message of someone else.
import { el, formatTime, notifyError, t } from "./i18n.js";
import { nameTag } from "./names.js";

const MAX_SHOWN = 300;

export class ChatPanel {
  constructor(conn, { moderate = false } = {}) {
    this.conn = conn;
    this.moderate = moderate;
    this.log = document.getElementById("chat-log");
    this.form = document.getElementById("chat-form");
    this.input = document.getElementById("chat-text");
    this.seen = new Set();
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    conn.on("chat.message", (m) => this.add(m));
    conn.on("chat.deleted", (d) => this.log.querySelector(`[data-id="${CSS.escape(d.message_id)}"]`)?.remove());
  }

  load(messages) {
    for (const m of messages ?? []) this.add(m);
  }

  add(message) {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    this.conn.lastChat = message.id;
    const mine = message.sender === this.conn.identity;
    const item = el("li", { class: mine ? "mine" : "", "data-id": message.id },
      nameTag(message.sender, message.name, { you: mine }),
      el("time", { class: "when", text: formatTime(message.sent_at) }),
      el("span", { class: "text", text: message.text }));
    if (this.moderate && !mine) item.append(this.#tools(message));
    this.log.append(item);
    while (this.log.children.length > MAX_SHOWN) this.log.firstElementChild.remove();
    this.log.scrollTop = this.log.scrollHeight;
  }

  #tools(message) {
    const act = (event, payload) => async () => {
      try { await this.conn.call(event, payload); } catch (err) { notifyError(err); }
    };
    return el("span", { class: "tools" },
      el("button", { type: "button", class: "small", text: t("delete"),
                     onclick: act("chat.delete", { message: message.id }) }),
      el("button", { type: "button", class: "small danger", text: t("remove"),
                     onclick: act("participant.remove", { identity: message.sender }) }));
  }

  async send() {
    const text = this.input.value;
    if (!text.trim()) return;
    try {
      const reply = await this.conn.call("chat.send", { text });
      this.input.value = "";
      this.add(reply.message);
    } catch (err) {
      notifyError(err);
    }
  }
}
