// Adaptive media in the pages (issue 14; docs/media.md "Simulcast from the pages"): which
// simulcast layers a camera is sent as, the tile reports (`view`), and the server's answers
// (`media.quality` to a viewer, `publish.layers` to a publisher), routed to the Publisher or
// Subscriber (media.js) holding the peer they name. Tests read `quality`, `views`, `layers`
// through window.pavilion.
import { el, t } from "./i18n.js";

export const quality = new Map();  // viewer peer id -> the last `media.quality` for it
export const views = new Map();  // viewer peer id -> the last `view` sent for it
export const layers = new Map();  // publishing peer id -> the last `publish.layers` for it

/** Capture sizes per page. Chromium gives a VP8 sender as many simulcast layers as the capture
 * allows (measured with its getStats: 640×360 → 2, 960×540 and 1280×720 → 3; docs/media.md):
 * the studio (an exhibitor's broadcast, big screens) 1280×720, forum speakers 960×540, meeting
 * participants (four small tiles) 640×360. */
export const CAPTURE = {
  studio: { width: 1280, height: 720 },
  speaker: { width: 960, height: 540 },
  meeting: { width: 640, height: 360 },
};

/** Simulcast layers for a camera of `height` pixels, lowest first (RFC 8853 lists them in the
 * offer in this order): three from 540 lines up, two (½ and full) from 360, else none — Chromium
 * would drop the top layers itself and the full size would never be sent. */
export function simulcastEncodings(height) {
  if (height >= 540) {
    return [{ rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
            { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
            { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 }];
  }
  if (height >= 360) {
    return [{ rid: "h", scaleResolutionDownBy: 2, maxBitrate: 250_000 },
            { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 800_000 }];
  }
  return null;
}

/** How `track` is sent: camera video as simulcast layers where its size allows; audio and
 * small video as one stream. */
export function sendInit(track) {
  const encodings = track.kind === "video" ? simulcastEncodings(track.getSettings().height ?? 0) : null;
  return encodings ? { direction: "sendonly", sendEncodings: encodings } : { direction: "sendonly" };
}

export const SCREEN_LAYERS = 2;  // a shared screen: the top two layers (½ and full)
export const publishers = new Set();  // live Publishers, for `publish.layers`
export const subscribers = new Set();  // live Subscribers, for `media.quality`
const heard = new WeakSet();  // connections whose server events this module already follows

/** Follow the adaptation events of `conn` once (docs/protocol.md §4): each goes to the
 * Publisher or Subscriber holding the peer it names. */
export function follow(conn) {
  if (heard.has(conn)) return;
  heard.add(conn);
  conn.on("publish.layers", (event) => {
    layers.set(event.peer, event);
    for (const p of publishers) if (p.peer === event.peer) p.want(event.active);
  });
  conn.on("media.quality", (event) => {
    quality.set(event.peer, event);
    for (const s of subscribers) if (s.peer === event.peer) s.showQuality(event);
  });
}
const VIEW_DEBOUNCE_MS = 300;
const MAX_TILE_PX = 16384;  // the server's ceiling (signaling/messages.py)

/** Reports what the page shows of one viewer peer's video (`view`, docs/protocol.md §3): the
 * video element's size in device pixels and whether it can be seen (in the viewport, the tab
 * visible). Debounced, and sent only when it changed, so a resize drag costs one event. */
export class TileReport {
  constructor(conn, video) {
    Object.assign(this, { conn, video, peer: null, sent: null, timer: null, seen: true });
    this.onChange = () => this.#later();
    this.resize = new ResizeObserver(this.onChange);
    this.resize.observe(video);
    this.intersect = new IntersectionObserver((entries) => {
      this.seen = entries[entries.length - 1].isIntersecting;
      this.#later();
    });
    this.intersect.observe(video);
    document.addEventListener("visibilitychange", this.onChange);
  }

  /** A new peer shows in this tile: report it afresh. */
  watch(peer) {
    this.peer = peer;
    this.sent = null;
    this.#later();
  }

  #measure() {
    const box = this.video.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const px = (n) => Math.min(MAX_TILE_PX, Math.max(0, Math.round(n * ratio)));
    return { width: px(box.width), height: px(box.height),
             visible: this.seen && document.visibilityState === "visible" };
  }

  #later() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#send(), VIEW_DEBOUNCE_MS);
  }

  async #send() {
    const peer = this.peer;
    const view = this.#measure();
    const last = this.sent;
    if (!peer || (last && last.width === view.width && last.height === view.height
                  && last.visible === view.visible)) return;
    this.sent = view;
    views.set(peer, view);
    try {
      await this.conn.call("view", { peer, ...view });
    } catch (err) {
      if (this.peer === peer && this.sent === view) this.sent = null;  // said again next change
      console.warn("view", err.code ?? err);
    }
  }

  stop() {
    clearTimeout(this.timer);
    this.resize.disconnect();
    this.intersect.disconnect();
    document.removeEventListener("visibilitychange", this.onChange);
    this.peer = null;
  }
}

/** Show `event` (a `media.quality`, or null) on a viewer tile; returns the notice element now
 * shown, if any. "weak": the link carries audio only — say so on the tile and hide the frozen
 * picture; "hidden": the page hid the tile itself, nothing to say; any other reason: video is
 * back by itself, the notice goes. */
export function showQuality(tile, event, notice) {
  if (!tile) return notice;
  const reason = event?.reason ?? "";
  if (reason) tile.dataset.layerReason = reason; else delete tile.dataset.layerReason;
  if (reason === "hidden") return notice;
  const weak = reason === "weak";
  tile.classList.toggle("weak-link", weak);
  if (weak && !notice) {
    const shown = el("p", { class: "tile-notice", role: "status", text: t("weak_audio_only") });
    tile.append(shown);
    return shown;
  }
  if (!weak && notice) notice.remove();
  return weak ? notice : null;
}
