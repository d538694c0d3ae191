// The invitation to the stage (issue 12, point 9): a moderator's `stage.promote` only invites.
// The invited person sees their own camera and microphone first, may pick other devices, and
// goes on stage (`stage.accept`) or declines (`stage.decline`); an invitation lapses at
// `invited_until`. Nothing is sent to the room before they accept: the preview is local.
import { notify, notifyError, t } from "./i18n.js";
import { CAPTURE, fillDevicePickers, openCamera } from "./media.js";

const byId = (id) => document.getElementById(id);

export class StageInvite {
  constructor(conn) {
    this.conn = conn;
    this.panel = byId("invite");
    this.video = byId("invite-preview");
    this.camera = byId("invite-camera");
    this.mic = byId("invite-mic");
    this.stream = null;
    this.timer = null;
    byId("invite-accept").addEventListener("click", () => this.accept());
    byId("invite-decline").addEventListener("click", () => this.decline());
    this.camera.addEventListener("change", () => this.#preview());
    this.mic.addEventListener("change", () => this.#preview());
  }

  /** Show the invitation until `until` (UTC seconds) with a live local preview. */
  async show(until) {
    const left = until * 1000 - Date.now();
    if (left <= 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.close(); notify(t("invitation_lapsed"), { error: true }); }, left);
    this.panel.hidden = false;
    notify(t("invited_to_stage"));
    await this.#preview();
  }

  async #preview() {
    const choice = { videoDevice: this.camera.value || undefined, audioDevice: this.mic.value || undefined,
                     size: CAPTURE.speaker };
    this.#release();
    try {
      this.stream = await openCamera(choice);
    } catch (err) {
      try { this.stream = await openCamera({ ...choice, video: false }); }  // no camera: the mic alone
      catch { notifyError(err); return; }
    }
    this.video.srcObject = this.stream;
    await fillDevicePickers(this.camera, this.mic, this.stream);
  }

  async accept() {
    try { await this.conn.call("stage.accept"); }  // stage.changed (promoted) follows: take()
    catch (err) {
      notifyError(err);
      if (["invitation_expired", "no_invitation"].includes(err.code)) this.close();
    }
  }

  async decline() {
    try { await this.conn.call("stage.decline"); } catch (err) { notifyError(err); }
    this.close();
  }

  /** The previewed stream, handed to the publisher when the person is on stage (or null). */
  take() {
    const stream = this.stream;
    this.stream = null;
    this.close();
    return stream;
  }

  close() {
    clearTimeout(this.timer);
    this.panel.hidden = true;
    this.#release();
  }

  #release() {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.srcObject = null;
  }
}
