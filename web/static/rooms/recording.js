// Recording on the room pages (issue 15 §5, docs/recordings.md §3-4): every participant sees a
// red REC dot while the room is recorded (the join ack's `recording`, then `room.recording`);
// whoever may record (studio host, forum moderator, meeting host) gets a Record/Stop button; in
// a meeting every participant is asked to agree first (`record.consent_asked` opens a dialog,
// Agree/Decline answers `record.consent`), and `record.consent_changed` shows who has agreed.
import { config, el, notify, notifyError, t } from "./i18n.js";
import { nameOf } from "./names.js";

export class RecordingControls {
  /** `canRecord`: show the Record/Stop button (the server's gate still decides). */
  constructor(conn, { canRecord = config.moderates } = {}) {
    this.conn = conn;
    this.on = false;
    this.indicator = document.getElementById("rec-indicator");
    this.button = document.getElementById("rec-toggle");
    this.consentState = document.getElementById("rec-consent-state");
    this.dialog = document.getElementById("rec-consent");
    this.askedBy = null;  // the name of who asked for the current consent round
    if (this.button) {
      this.button.hidden = !canRecord;
      this.button.addEventListener("click", () => this.#toggle());
    }
    document.getElementById("rec-agree")?.addEventListener("click", () => this.#answer(true));
    document.getElementById("rec-decline")?.addEventListener("click", () => this.#answer(false));
    conn.on("room.recording", (e) => this.#changed(e));
    conn.on("record.consent_asked", (e) => this.#asked(e));
    conn.on("record.consent_changed", (e) => this.#consent(e));
    conn.on("rejoined", ({ state }) => this.load(state?.recording));
  }

  /** The join ack's `recording`: `{id, started_at}` while recorded, else null. */
  load(recording) {
    this.#show(Boolean(recording));
  }

  #show(on) {
    this.on = on;
    if (this.indicator) {
      this.indicator.replaceChildren(...(on ? [
        el("span", { class: "rec-dot", "aria-hidden": "true" }),
        el("span", { class: "rec-text", text: t("rec_on") })] : []));
      this.indicator.classList.toggle("is-on", on);
    }
    if (this.button) {
      this.button.textContent = on ? t("rec_stop") : t("rec_start");
      this.button.setAttribute("aria-pressed", String(on));
      this.button.classList.toggle("danger", on);
    }
  }

  /** `room.recording` {room_id, recording, id?, started_at?, reason?}. */
  #changed(e) {
    if (e.room_id && e.room_id !== config.room) return;
    const was = this.on;
    this.#show(Boolean(e.recording));
    if (e.recording) this.#closeConsent();
    if (was === this.on) return;
    if (this.on) notify(t("rec_started"));
    else if (e.reason) notify(t("rec_failed"), { error: true });
    else notify(t("rec_stopped"));
  }

  async #toggle() {
    this.button.disabled = true;
    try {
      const reply = await this.conn.call(this.on ? "record.stop" : "record.start");
      if (reply.consent === "asked") notify(t("rec_consent_sent"));
      else if (reply.recording) this.#show(reply.recording.state === "recording");
    } catch (err) {
      notifyError(err);
    } finally {
      this.button.disabled = false;
    }
  }

  /** `record.consent_asked` {room_id, by, name}: everyone but the asker answers. */
  #asked(e) {
    this.askedBy = nameOf(e.by, e.name);
    if (e.by !== this.conn.identity) this.#openConsent();
  }

  /** `record.consent_changed` {room_id, agreed, waiting, declined?}. */
  #consent(e) {
    const names = (ids) => (ids ?? []).map((id) => nameOf(id, id)).join(", ");
    const declined = (e.declined ?? []).length > 0;
    if (declined) {
      this.#closeConsent();
      notify(t("rec_declined"), { error: true });
    }
    const waiting = e.waiting ?? [];
    if (this.consentState) {
      const parts = [];
      if ((e.agreed ?? []).length) parts.push(t("rec_agreed_by", { names: names(e.agreed) }));
      if (waiting.length) parts.push(t("rec_waiting_for", { names: names(waiting) }));
      this.consentState.textContent = parts.join(" · ");
      this.consentState.hidden = declined || waiting.length === 0;
    }
    if (waiting.includes(this.conn.identity)) this.#openConsent();
    else this.#closeConsent();
  }

  #openConsent() {
    if (!this.dialog || this.dialog.open) return;
    // a newcomer to a meeting already asked hears no `record.consent_asked`: no asker to name
    document.getElementById("rec-consent-text").textContent = this.askedBy
      ? t("rec_consent_asked", { name: this.askedBy }) : t("rec_consent_joined");
    this.dialog.showModal();
  }

  #closeConsent() {
    if (this.dialog?.open) this.dialog.close();
  }

  async #answer(agree) {
    this.#closeConsent();
    try {
      await this.conn.call("record.consent", { agree });
    } catch (err) {
      notifyError(err);
    }
  }
}
