// The forum listener's language picker (issue 17 §5, docs/pages.md "Interpretation"): the
// languages live right now (`channels` in the join state, then `channels.changed`) plus
// "original"; a language plays its channel (channel.js) over the floor ducked to the chosen
// level (mixer.js), "original" plays the floor alone; the choice and the level are remembered
// (ducking.js). The mixer is made at the first language picked (or remembered): until then the
// page plays the floor through its tiles as before.
import { config, el, languageName, notifyError, t } from "./i18n.js";
import { nameTag } from "./names.js";
import { ChannelSubscriber } from "./channel.js";
import { Mixer } from "./mixer.js";
import { ORIGINAL, Remembered, liveLanguages } from "./ducking.js";

const FLOOR_POLL_MS = 500;

export class Listener {
  /** `tiles`: the forum's identity -> {video} map (the floor); `program`: the HLS program's
   * <video> (the floor for an audience on HLS); `muted()`: the page's sound switch. */
  constructor(conn, { tiles, program = null, muted }) {
    this.conn = conn;
    this.tiles = tiles;
    this.program = program;
    this.muted = muted;
    this.panel = document.getElementById("interpretation");
    this.picker = document.getElementById("interp-language");
    this.duck = document.getElementById("interp-duck");
    this.status = document.getElementById("interp-status");
    this.moderation = document.getElementById("channel-moderation");  // forums only
    this.memory = new Remembered();
    const saved = this.memory.load();
    this.wanted = saved.language;  // what the listener chose, live or not
    this.level = saved.level;
    this.live = [];
    this.mixer = null;
    this.subscriber = null;
    this.playing = ORIGINAL;  // the channel actually subscribed
    this.duck.value = String(Math.round(this.level * 100));
    this.picker.addEventListener("change", () => this.choose(this.picker.value));
    this.duck.addEventListener("input", () => this.#setLevel(Number(this.duck.value) / 100));
    conn.on("channels.changed", (e) => this.load(e.channels));
    window.pavilion = Object.assign(window.pavilion ?? {}, { listener: this });
  }

  /** A `channels` list (join state or `channels.changed`). */
  load(channels) {
    if (config.moderates && this.moderation) this.#moderation(channels ?? []);
    this.live = liveLanguages(channels);
    this.#render();
    this.#follow();
    this.panel.hidden = this.live.length === 0 && this.playing === ORIGINAL;
  }

  /** The listener picks `language` (or "original"): remembered, then played when live. */
  choose(language) {
    this.wanted = language;
    this.memory.save({ language, level: this.level });
    this.#follow();
  }

  /** Sound on or off (the page's button): the mix follows it once it exists. */
  mute(muted) {
    this.mixer?.mute(muted);
  }

  get active() {
    return this.mixer !== null;
  }

  #setLevel(level) {
    this.level = this.memory.save({ language: this.wanted, level }).level;
    this.mixer?.set({ level: this.level });
    this.#showStatus();
  }

  #render() {
    const codes = [ORIGINAL, ...this.live];
    if (this.wanted !== ORIGINAL && !codes.includes(this.wanted)) codes.push(this.wanted);
    this.picker.replaceChildren(...codes.map((code) => el("option", {
      value: code, text: code === ORIGINAL ? t("interp_original") : languageName(code),
      disabled: code !== ORIGINAL && !this.live.includes(code) })));
    this.picker.value = this.wanted;
  }

  /** Subscribe to what is wanted and live; "original" when the wanted one is not live. */
  #follow() {
    const target = this.live.includes(this.wanted) ? this.wanted : ORIGINAL;
    if (target === this.playing) return this.#showStatus();
    this.subscriber?.stop();
    this.subscriber = null;
    this.playing = target;
    if (target !== ORIGINAL) this.#ensureMixer();
    this.mixer?.setChannel(null);
    this.mixer?.set({ choice: target, level: this.level });
    if (target !== ORIGINAL) {
      const subscriber = new ChannelSubscriber(this.conn, target, {
        onstream: (stream) => { if (this.subscriber === subscriber) this.mixer.setChannel(stream); } });
      this.subscriber = subscriber;
      subscriber.start().catch((err) => this.#failed(subscriber, err));
    }
    this.#showStatus();
  }

  /** A channel that could not be subscribed (it ended meanwhile: `no_such_track`): the floor
   * alone, and the next `channels.changed` tries again. */
  #failed(subscriber, err) {
    if (subscriber.closed || this.subscriber !== subscriber) return;
    notifyError(err);
    subscriber.stop();
    this.subscriber = null;
    this.playing = ORIGINAL;
    this.mixer?.set({ choice: ORIGINAL });
    this.#showStatus();
  }

  /** The mixer takes the floor from the tiles' <video> elements (kept muted from now on). */
  #ensureMixer() {
    if (this.mixer) return;
    this.mixer = new Mixer();
    this.mixer.mute(this.muted());
    this.mixer.addFloorElement(this.program);
    const floor = () => {
      const streams = [];
      for (const [identity, entry] of this.tiles) {
        if (identity === this.conn.identity) continue;  // one's own microphone is not the floor
        entry.video.muted = true;
        if (entry.video.srcObject) streams.push(entry.video.srcObject);
      }
      this.mixer.setFloor(streams);
      this.#showStatus();
    };
    floor();
    setInterval(floor, FLOOR_POLL_MS);
  }

  /** The moderator's list: who is on air in each channel, and mute / unmute (issue 17 §9). */
  #moderation(channels) {
    this.moderation.replaceChildren(...channels.filter((c) => c.live)
      .map((c) => el("li", { "data-language": c.language }, `${languageName(c.language)}: `,
        nameTag(c.live, c.live), c.muted ? el("span", { class: "badge", text: t("air_muted") }) : null,
        el("button", { type: "button", class: "small", text: t(c.muted ? "unmute" : "mute"),
          onclick: () => this.conn.call("channel.mute", { language: c.language, muted: !c.muted })
            .catch(notifyError) }))));
  }

  #showStatus() {
    const words = [];
    if (this.playing !== ORIGINAL) {
      words.push(t("interp_listening", { language: languageName(this.playing) }));
      if (this.mixer?.silent) words.push(t("interp_silent"));
    } else if (this.wanted !== ORIGINAL) {
      words.push(t("interp_not_live", { language: languageName(this.wanted) }));
    }
    this.status.textContent = words.join(" ");
    this.duck.setAttribute("aria-valuetext", t("interp_floor_level",
                                               { num: Math.round(this.level * 100) }));
  }
}
