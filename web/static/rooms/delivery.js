// How this viewer receives the room's video (issue 16 §4, docs/hls.md §5): WebRTC by default;
// the room's HLS when WebRTC cannot connect within `hls.webrtcTimeoutS` (UDP blocked), when
// the room's WebRTC seats are full (`media_full`), or when the viewer turns "data saver" on
// (remembered in localStorage). Back to WebRTC when a seat frees up: a seat is asked for again
// every `hls.seatRetryS` (20 s by default) while on HLS for that reason, never while data
// saver is on. Chat, reactions and product cards ride the Socket.IO connection, which no
// switch here touches.
import { config, notify, t } from "./i18n.js";
import { HlsPlayer } from "./hls_player.js";

const SAVER_KEY = "pavilion.dataSaver";
const HLS_RETRY_MS = 3000;
const TICK_MS = 1000;

function savedSaver() {
  try { return localStorage.getItem(SAVER_KEY) === "1"; } catch { return false; }
}

/** Whether a <video> shows a picture (a decoded frame). */
export const pictureIn = (video) => video.readyState >= 2 && video.videoWidth > 0;

export class Delivery {
  /** `webrtc()`: (re)subscribe over WebRTC even while on HLS; `stopWebrtc()`: drop that.
   * `enabled`: false leaves this viewer on WebRTC (a speaker on a forum's stage).
   * `onmode(mode)`: the mode changed ("webrtc" | "hls"), for a page that shows other
   * elements for each (the forum: the stage's tiles or the program). */
  constructor({ conn, video, webrtc, stopWebrtc, enabled = true, onmode = () => {} }) {
    this.onmode = onmode;
    this.shownMode = "webrtc";
    this.conn = conn;
    this.video = video;
    this.webrtc = webrtc;
    this.stopWebrtc = stopWebrtc;
    this.enabled = Boolean(config.hls?.enabled) && enabled;
    this.timeoutMs = (config.hls?.webrtcTimeoutS ?? 6) * 1000;
    this.seatRetryMs = (config.hls?.seatRetryS ?? 20) * 1000;
    this.mode = "webrtc";
    this.reason = null;  // why HLS: "network" | "seats" | "saver"
    this.player = null;
    this.timers = { media: null, seat: null, retry: null };
    this.saver = document.getElementById("data-saver");
    this.modeEl = document.getElementById("delivery-mode");
    this.delayEl = document.getElementById("delivery-delay");
    this.reasonEl = document.getElementById("delivery-reason");
    if (this.saver) {
      this.saver.checked = savedSaver();
      this.saver.closest("label").hidden = !this.enabled;
      this.saver.addEventListener("change", () => this.setSaver(this.saver.checked));
    }
    globalThis.pavilion = globalThis.pavilion ?? {};
    globalThis.pavilion.hlsQuality = () => this.player?.quality ?? null;  // player.js reads it
    this.ticker = setInterval(() => this.show(), TICK_MS);
    this.show();
  }

  /** Play HLS without trying WebRTC first: data saver, or on HLS already for a reason. */
  get holdsHls() { return this.enabled && (savedSaver() || this.reason !== null); }

  /** A WebRTC subscription is up: a picture must come within the timeout, else HLS.
   * `hasPicture()`: whether one came (default: this player's video has a frame). */
  expectMedia(hasPicture = () => pictureIn(this.video)) {
    clearTimeout(this.timers.media);
    if (!this.enabled) return;
    this.timers.media = setTimeout(() => {
      if (this.mode === "webrtc" && !hasPicture()) this.toHls("network");
    }, this.timeoutMs);
  }

  /** WebRTC media is about to play in the video: leave HLS. */
  onWebrtc() {
    this.#dropHls();
    this.reason = null;
    this.mode = "webrtc";
    this.show();
  }

  /** Play the room's HLS for `reason` (no-op while already playing it). False: no HLS here. */
  async toHls(reason) {
    if (!this.enabled) return false;
    clearTimeout(this.timers.media);
    if (savedSaver()) reason = "saver";
    this.reason = reason;
    this.stopWebrtc();
    clearInterval(this.timers.seat);
    this.timers.seat = reason === "seats"
      ? setInterval(() => this.#askSeat(), this.seatRetryMs) : null;
    this.mode = "hls";
    this.show();
    if (!this.player) await this.#startHls();
    return true;
  }

  async #startHls() {
    let url;
    try {
      ({ url } = await this.conn.api("GET", "/hls"));
    } catch {
      this.#retryHls();
      return;
    }
    if (this.player || this.reason === null) return;  // raced with another start or a leave
    this.player = new HlsPlayer(this.video, url, { lowQuality: this.reason === "saver",
                                                   onfatal: () => this.#lost() });
    await this.player.start();
  }

  #lost() {
    this.player?.stop();
    this.player = null;
    notify(t("hls_retry"));
    this.#retryHls();
  }

  #retryHls() {
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => {
      if (this.reason !== null && !this.player) this.#startHls();
    }, HLS_RETRY_MS);
  }

  #askSeat() {
    if (this.reason === "seats" && !savedSaver()) this.webrtc();
  }

  #dropHls() {
    clearInterval(this.timers.seat);
    clearTimeout(this.timers.retry);
    this.timers.seat = null;
    this.player?.stop();
    this.player = null;
  }

  setSaver(on) {
    try { localStorage.setItem(SAVER_KEY, on ? "1" : "0"); } catch { /* private mode */ }
    if (on) {
      this.#dropHls();  // restart at the lowest quality
      this.toHls("saver");
    } else if (this.reason === "saver") {
      this.onWebrtc();
      this.webrtc();
    }
  }

  /** This viewer goes on a forum's stage: WebRTC only from now on. */
  leave() {
    const was = this.mode;
    this.stop();
    this.enabled = false;
    this.mode = "webrtc";
    this.show();
    if (was === "hls") this.webrtc();
  }

  /** The room ended: nothing more to play. */
  stop() {
    this.#dropHls();
    clearTimeout(this.timers.media);
    clearInterval(this.ticker);
    this.reason = null;
  }

  show() {
    const hls = this.mode === "hls";
    if (this.mode !== this.shownMode) {
      this.shownMode = this.mode;
      this.onmode(this.mode);
    }
    document.body.dataset.delivery = this.mode;
    if (this.modeEl) this.modeEl.textContent = t(hls ? "mode_hls" : "mode_webrtc");
    if (this.delayEl) {
      const delay = this.player?.delay;
      this.delayEl.textContent = !hls ? t("delay_live")
        : delay == null ? "" : t("delay_seconds", { seconds: delay.toFixed(1) });
      if (delay != null) this.delayEl.dataset.seconds = delay.toFixed(2);
    }
    if (this.reasonEl) {
      this.reasonEl.hidden = !hls || !this.reason;
      this.reasonEl.textContent = hls && this.reason ? t(`hls_${this.reason}`) : "";
    }
  }
}
