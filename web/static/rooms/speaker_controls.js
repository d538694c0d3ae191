// A speaker's own controls (issue 12, point 9): mute / unmute the microphone (the track is
// disabled: silence, no renegotiation), camera off / on (the video track is stopped and the
// sender sends nothing; a fresh camera track replaces it), and leave the stage (`stage.leave`:
// demoted, the tracks end). Each change is announced with `media.state`, so every page shows it.
import { notifyError, t } from "./i18n.js";
import { CAPTURE, openCamera } from "./media.js";

const byId = (id) => document.getElementById(id);

export class SpeakerControls {
  constructor(conn, { onchange = () => {} } = {}) {
    this.conn = conn;
    this.onchange = onchange;
    this.publisher = null;
    this.audioOff = false;
    this.videoOff = false;
    this.cameraDevice = undefined;
    this.box = byId("speaker-controls");
    this.mic = byId("mic-toggle");
    this.cam = byId("camera-toggle");
    this.mic.addEventListener("click", () => this.toggleMic());
    this.cam.addEventListener("click", () => this.toggleCamera());
    byId("stage-leave").addEventListener("click", async () => {
      try { await conn.call("stage.leave"); } catch (err) { notifyError(err); }
    });
  }

  /** Controls for `publisher` (null: off stage, hidden). */
  attach(publisher) {
    this.publisher = publisher;
    this.audioOff = false;
    this.videoOff = false;
    this.cameraDevice = publisher?.stream.getVideoTracks()[0]?.getSettings().deviceId;
    this.#show();
  }

  async toggleMic() {
    const off = !this.audioOff;
    this.publisher?.stream.getAudioTracks().forEach((track) => { track.enabled = !off; });
    try {
      await this.conn.call("media.state", { audio_off: off });
      this.audioOff = off;
    } catch (err) {
      this.publisher?.stream.getAudioTracks().forEach((track) => { track.enabled = !this.audioOff; });
      notifyError(err);
    }
    this.#show();
  }

  async toggleCamera() {
    const publisher = this.publisher;
    if (!publisher) return;
    const off = !this.videoOff;
    try {
      if (off) {
        const track = publisher.stream.getVideoTracks()[0];
        await publisher.replaceVideo(null);
        if (track) { track.stop(); publisher.stream.removeTrack(track); }
      } else {
        const camera = await openCamera({ audio: false, videoDevice: this.cameraDevice,
                                          size: CAPTURE.speaker });
        const track = camera.getVideoTracks()[0];
        publisher.stream.addTrack(track);
        await publisher.replaceVideo(track);
      }
      await this.conn.call("media.state", { video_off: off });
      this.videoOff = off;
    } catch (err) { notifyError(err); }
    this.#show();
  }

  #show() {
    const on = Boolean(this.publisher);
    this.box.hidden = !on;
    this.mic.textContent = this.audioOff ? t("mic_on") : t("mic_off");
    this.mic.setAttribute("aria-pressed", String(this.audioOff));
    this.cam.textContent = this.videoOff ? t("camera_on") : t("camera_off");
    this.cam.setAttribute("aria-pressed", String(this.videoOff));
    this.cam.hidden = on && !this.cameraDevice && !this.videoOff;  // a microphone-only speaker
    this.onchange(this);
  }
}
