// Plays a room's live HLS in a <video> (issue 16 §4, docs/hls.md §5): hls.js with Low-Latency
// HLS where the browser has Media Source Extensions, else the browser's own HLS (Safari on
// iOS). hls.js (web/static/vendor/hls.min.mjs, ~600 KB) is loaded only when a page needs it.

const HLS_MODULE = "/static/vendor/hls.min.mjs";
const MPEGURL = "application/vnd.apple.mpegurl";

export class HlsPlayer {
  /** `onfatal(reason)`: the stream cannot be played any more (the page retries later). */
  constructor(video, url, { lowQuality = false, onfatal = () => {} } = {}) {
    this.video = video;
    this.url = url;
    this.lowQuality = lowQuality;
    this.onfatal = onfatal;
    this.hls = null;
    this.native = false;
    this.stopped = false;
  }

  async start() {
    const { default: Hls } = await import(HLS_MODULE);
    if (this.stopped) return;
    if (Hls.isSupported()) {
      this.hls = new Hls({ lowLatencyMode: true, backBufferLength: 30,
                           capLevelToPlayerSize: this.lowQuality, startLevel: this.lowQuality ? 0 : -1 });
      if (this.lowQuality) this.hls.autoLevelCapping = 0;  // data saver: the lowest rung
      this.hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) this.onfatal(data.details || data.type);
      });
      this.hls.loadSource(this.url);
      this.hls.attachMedia(this.video);
    } else if (this.video.canPlayType(MPEGURL)) {
      this.native = true;
      this.video.src = this.url;
      this.video.addEventListener("error", this.#nativeError);
    } else {
      this.onfatal("unsupported");
      return;
    }
    this.video.play().catch(() => {});
  }

  #nativeError = () => { if (!this.stopped) this.onfatal("media_error"); };

  /** Seconds from the playing position's EXT-X-PROGRAM-DATE-TIME to now, or null. */
  get delay() {
    let date = null;
    if (this.hls) date = this.hls.playingDate;
    else if (this.native && this.video.getStartDate) {
      const start = this.video.getStartDate().getTime();
      if (!Number.isNaN(start)) date = new Date(start + this.video.currentTime * 1000);
    }
    if (!date) return null;
    return Math.max(0, (Date.now() - date.getTime()) / 1000);
  }

  stop() {
    this.stopped = true;
    if (this.hls) { this.hls.destroy(); this.hls = null; }
    if (this.native) {
      this.video.removeEventListener("error", this.#nativeError);
      this.video.removeAttribute("src");
      this.video.load();
    }
  }
}
