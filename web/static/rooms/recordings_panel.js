// The studio's "Recordings" panel (issue 15 §6): the room's recordings from the page API, newest
// first, each with its replay, a download, rename, publish/unpublish and delete. A recording
// that starts or stops (`room.recording`) refreshes the list.
import { config, el, notify, notifyError, t } from "./i18n.js";
import { formatInstant } from "../zonetime.js";
import { clock } from "./timeline.js";
import { mainFile, recordingsApi } from "./recordings_api.js";

const STATE_WORDS = { recording: "rec_state_recording", failed: "rec_state_failed",
                      interrupted: "rec_state_interrupted" };

function startedAt(recording) {
  const when = recording.started_at;
  return typeof when === "number" ? new Date(when * 1000).toISOString() : when;
}

export class RecordingsPanel {
  constructor(conn) {
    this.conn = conn;
    this.list = document.getElementById("recordings");
    this.empty = document.getElementById("no-recordings");
    this.recordings = [];
    conn.on("room.recording", () => this.load());
  }

  async load() {
    try {
      const data = await recordingsApi("GET", `?room=${encodeURIComponent(config.room)}&mine=1`,
                                       undefined, this.conn.token);
      this.recordings = (data.recordings ?? []).filter((r) => r.room === config.room)
        .sort((a, b) => (startedAt(b) ?? "").localeCompare(startedAt(a) ?? ""));
      this.render();
    } catch (err) {
      notifyError(err);
    }
  }

  render() {
    this.list.replaceChildren(...this.recordings.map((r) => this.#item(r)));
    this.empty.hidden = this.recordings.length > 0;
  }

  #item(r) {
    const replay = `/replay/${encodeURIComponent(r.id)}?lang=${config.lang}&token=${encodeURIComponent(this.conn.token)}`;
    const busy = r.state === "recording";
    const button = (cls, word, onclick, extra = {}) =>
      el("button", { type: "button", class: `small ${cls}`, text: t(word), onclick, ...extra });
    return el("li", { class: "recording-item", "data-recording": r.id },
      el("a", { class: "title", href: replay, target: "_blank", rel: "noopener", text: r.title || r.id }),
      el("p", { class: "meta" },
        // the visitor's zone with its label, Mongolian too (zonetime.js), as the lobby says times
        el("time", { datetime: startedAt(r), text: formatInstant(new Date(startedAt(r)), config.lang) }),
        busy ? null : el("span", { class: "duration", text: ` · ${clock(r.duration_s ?? 0)}` }),
        STATE_WORDS[r.state] ? el("span", { class: `badge state-${r.state}`, text: t(STATE_WORDS[r.state]) }) : null,
        el("span", { class: r.published ? "badge published" : "badge", text: t(r.published ? "rec_published" : "rec_unpublished") })),
      el("div", { class: "actions" },
        // an HLS replay (issue 16 §5) is a playlist and its segments, no one file to download
        (r.files ?? []).some((f) => f.kind === "hls") ? null
          : button("download", "rec_download", () => this.download(r), { disabled: busy }),
        button("rename", "rec_rename", () => this.rename(r)),
        button("publish", r.published ? "rec_unpublish" : "rec_publish",
               () => this.change(r, { published: !r.published }),
               { "aria-pressed": String(Boolean(r.published)), disabled: busy }),
        button("delete danger", "delete", () => this.remove(r), { disabled: busy })));
  }

  /** Download the main file through its signed URL (no header needed; `download` names it). */
  async download(r) {
    try {
      const record = await recordingsApi("GET", `/${encodeURIComponent(r.id)}`, undefined, this.conn.token);
      const file = mainFile((record.recording ?? record).files ?? [], config.exhibitor);
      if (!file?.url) { notify(t("rec_no_file"), { error: true }); return; }
      const link = el("a", { href: file.url, download: file.name ?? "" });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (err) {
      notifyError(err);
    }
  }

  async rename(r) {
    const title = window.prompt(t("rec_title_prompt"), r.title ?? "");
    if (title === null || title.trim() === (r.title ?? "")) return;
    await this.change(r, { title: title.trim() });
  }

  async change(r, fields) {
    try {
      const data = await recordingsApi("PATCH", `/${encodeURIComponent(r.id)}`, fields, this.conn.token);
      Object.assign(r, data.recording ?? fields);
      this.render();
      notify(t("rec_saved"));
    } catch (err) {
      notifyError(err);
    }
  }

  async remove(r) {
    if (!window.confirm(t("rec_confirm_delete"))) return;
    try {
      await recordingsApi("DELETE", `/${encodeURIComponent(r.id)}`, undefined, this.conn.token);
      this.recordings = this.recordings.filter((x) => x.id !== r.id);
      this.render();
      notify(t("rec_deleted"));
    } catch (err) {
      notifyError(err);
    }
  }
}
