// Player controls (issue 12) for every `[data-player-controls]` bar of a room page: full screen
// of the frame around the bar (Fullscreen API), the volume of the videos in that frame, the
// quality as received (resolution and bitrate from getStats: the sender sends one quality
// today; choosing simulcast layers comes later), and copying the room's public link (Clipboard
// API, else a selected field and execCommand, else the link shown to copy by hand). Every
// control is a real button or range input: keyboard-accessible, labelled from the catalogs.
import { config, formatCount, notify, t } from "./i18n.js";
import { peers } from "./media.js";

const QUALITY_EVERY_MS = 2000;

/** The room's link without the personal token (a visitor who opens it gets their own). */
export function publicLink() {
  return `${location.origin}${location.pathname}?lang=${encodeURIComponent(config.lang)}`;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const field = Object.assign(document.createElement("textarea"), { value: text, readOnly: true });
    field.className = "visually-hidden";
    document.body.append(field);
    field.select();
    let copied = false;
    try { copied = document.execCommand("copy"); } catch { copied = false; }
    field.remove();
    return copied;
  }
}

/** Inbound video of the peers whose label starts with `prefix`: the largest one received. */
async function received(prefix) {
  let best = null;
  for (const [label, pc] of peers) {
    if (!label.startsWith(prefix)) continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "inbound-rtp" && s.kind === "video" && s.frameWidth
          && (!best || s.frameWidth > best.frameWidth)) best = { ...s, label };
    }
  }
  return best;
}

export class PlayerControls {
  constructor(bar) {
    this.bar = bar;
    this.frame = bar.closest("[data-fullscreen]") ?? bar.parentElement;
    this.prefix = bar.dataset.media || "broadcast";
    this.fullscreen = bar.querySelector('[data-action="fullscreen"]');
    this.volume = bar.querySelector('[data-action="volume"]');
    this.quality = bar.querySelector("[data-quality]");
    this.last = null;
    this.fullscreen.hidden = !document.fullscreenEnabled && !this.#nativeVideo();
    this.fullscreen.addEventListener("click", () => this.toggleFullscreen());
    document.addEventListener("fullscreenchange", () => this.#fullscreenChanged());
    this.volume?.addEventListener("input", () => this.applyVolume());
    // tiles come and go: a new video gets the chosen volume, a new tile its full-screen button
    new MutationObserver(() => { this.applyVolume(); this.#tileButtons(); })
      .observe(this.frame, { childList: true, subtree: true });
    this.#tileButtons();
    bar.querySelector('[data-action="copy-link"]')?.addEventListener("click", () => this.copyLink());
    if (this.quality) setInterval(() => this.showQuality(), QUALITY_EVERY_MS);
  }

  /** iPhone Safari has no element full screen, only its own for a video. */
  #nativeVideo() {
    return [...this.frame.querySelectorAll("video")].find((v) => v.webkitEnterFullscreen) ?? null;
  }

  /** A forum or meeting tile (figure.tile) gets its own full-screen button. */
  #tileButtons() {
    if (!document.fullscreenEnabled) return;
    for (const tile of this.frame.querySelectorAll("figure.tile")) {
      if (tile.querySelector(":scope > .tile-fullscreen")) continue;
      const button = document.createElement("button");
      Object.assign(button, { type: "button", className: "tile-fullscreen small",
                              textContent: t("fullscreen") });
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", () => this.toggleFullscreen(tile));
      tile.append(button);
    }
  }

  async toggleFullscreen(target = this.frame) {
    try {
      if (!document.fullscreenEnabled) this.#nativeVideo()?.webkitEnterFullscreen();
      else if (document.fullscreenElement) await document.exitFullscreen();
      else await target.requestFullscreen();
    } catch {
      // refused (no user gesture, an iframe without allowfullscreen): the page stays as it is
    }
  }

  #fullscreenChanged() {
    const label = (button, on) => {
      button.textContent = on ? t("exit_fullscreen") : t("fullscreen");
      button.setAttribute("aria-pressed", String(on));
    };
    label(this.fullscreen, document.fullscreenElement === this.frame);
    for (const button of this.frame.querySelectorAll(".tile-fullscreen")) {
      label(button, document.fullscreenElement === button.parentElement);
    }
  }

  applyVolume() {
    if (!this.volume) return;
    const level = Number(this.volume.value) / 100;
    for (const media of this.frame.querySelectorAll("video, audio")) {
      if (media.volume !== level) media.volume = level;
    }
  }

  async copyLink() {
    const link = publicLink();
    if (await copyText(link)) notify(t("link_copied"));
    else notify(t("copy_by_hand", { url: link }), { sticky: true });
  }

  /** On HLS (issue 16 §4): the playing picture's size and the rung's bit rate. */
  showHlsQuality() {
    const now = globalThis.pavilion?.hlsQuality?.();
    if (!now) return false;
    this.quality.textContent = t("receiving", { width: now.width, height: now.height,
                                                kbps: now.kbps === null ? "?" : formatCount(now.kbps) });
    this.quality.dataset.width = String(now.width);
    this.quality.dataset.height = String(now.height);
    return true;
  }

  async showQuality() {
    if (document.body.dataset.delivery === "hls" && this.showHlsQuality()) return;
    const now = await received(this.prefix);
    if (!now) {
      this.quality.textContent = t("nothing_received");
      this.last = null;
      return;
    }
    const before = this.last?.label === now.label ? this.last : null;
    const kbps = before && now.timestamp > before.timestamp
      ? Math.round(((now.bytesReceived - before.bytesReceived) * 8) / (now.timestamp - before.timestamp))
      : null;
    this.last = now;
    if (kbps === null) return;
    this.quality.textContent = t("receiving", { width: now.frameWidth, height: now.frameHeight,
                                                kbps: formatCount(kbps) });
    this.quality.dataset.width = String(now.frameWidth);
    this.quality.dataset.height = String(now.frameHeight);
  }
}

for (const bar of document.querySelectorAll("[data-player-controls]")) new PlayerControls(bar);
