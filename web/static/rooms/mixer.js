// The page's Web Audio mix for interpretation (issue 17 §5): the floor (every speaker tile's
// audio, summed) through one GainNode, the chosen channel through another, both to the
// speakers. An AnalyserNode on the channel feeds the SilenceDetector (ducking.js): while the
// interpreter is silent the floor rises back to 1, when they speak it ducks again. Gain moves
// are smoothed (setTargetAtTime) so ducking never clicks.
//
// Chromium plays a remote WebRTC track into Web Audio only while the track is also attached to
// a media element (crbug.com/933677): the floor's tiles already are (muted by the page while the
// mixer owns the sound), the channel gets a muted <audio> of its own.
import { SilenceDetector, floorGain, peakHz, rms } from "./ducking.js";

const TICK_MS = 100;
const SMOOTH_S = 0.08;
const FFT_SIZE = 4096;

function analyser(ctx) {
  const node = ctx.createAnalyser();
  node.fftSize = FFT_SIZE;
  node.smoothingTimeConstant = 0.2;
  return node;
}

export class Mixer {
  constructor() {
    this.ctx = new AudioContext();
    this.master = this.ctx.createGain();
    this.floor = this.ctx.createGain();
    this.channel = this.ctx.createGain();
    this.channel.gain.value = 0;  // nothing chosen yet: the floor alone
    this.floorMeter = analyser(this.ctx);
    this.channelMeter = analyser(this.ctx);
    this.floor.connect(this.floorMeter);
    this.floor.connect(this.master);
    this.channel.connect(this.channelMeter);
    this.channel.connect(this.master);
    this.master.connect(this.ctx.destination);
    this.floorSources = new Map();  // track id -> MediaStreamAudioSourceNode
    this.floorElements = new WeakSet();  // media elements routed into the floor
    this.channelSource = null;
    this.channelElement = new Audio();
    this.channelElement.muted = true;
    this.detector = new SilenceDetector();
    this.choice = "original";
    this.level = 1;
    this.volume = 1;  // the floor's own volume (the interpreter console's slider)
    this.samples = new Float32Array(FFT_SIZE);
    this.timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Mix the audio tracks of `streams` (the tiles' MediaStreams) as the floor; tracks that
   * are gone are let go. */
  setFloor(streams) {
    const live = new Map();
    for (const stream of streams) {
      for (const track of stream?.getAudioTracks() ?? []) {
        if (track.readyState === "live") live.set(track.id, track);
      }
    }
    for (const [id, node] of this.floorSources) {
      if (!live.has(id)) { node.disconnect(); this.floorSources.delete(id); }
    }
    for (const [id, track] of live) {
      if (this.floorSources.has(id)) continue;
      const node = this.ctx.createMediaStreamSource(new MediaStream([track]));
      node.connect(this.floor);
      this.floorSources.set(id, node);
    }
  }

  /** Mix a media element's sound into the floor too (the forum's HLS program, issue 16 §4:
   * an audience on HLS hears the floor from it, not from tiles). An element can be routed into
   * Web Audio once, and then sounds only through it (muting the element still silences it). */
  addFloorElement(element) {
    if (!element || this.floorElements.has(element)) return;
    try {
      this.ctx.createMediaElementSource(element).connect(this.floor);
      this.floorElements.add(element);
    } catch (err) {
      console.warn("floor element", err);
    }
  }

  /** Play `stream` (a channel's audio) or nothing (null: "original"). */
  setChannel(stream) {
    this.channelSource?.disconnect();
    this.channelSource = null;
    this.channelElement.srcObject = stream;
    this.detector.reset();
    if (stream) {
      this.channelElement.play().catch(() => {});
      this.channelSource = this.ctx.createMediaStreamSource(stream);
      this.channelSource.connect(this.channel);
    }
    this.#apply();
  }

  /** The listener's choice (a language or "original") and duck level (0..1). */
  set({ choice = this.choice, level = this.level } = {}) {
    this.choice = choice;
    this.level = level;
    this.#apply();
  }

  /** The floor's own volume (0..1), on top of the ducking. */
  setVolume(volume) {
    this.volume = Math.min(1, Math.max(0, Number(volume) || 0));
    this.#apply();
  }

  /** Sound on or off for the whole mix (the page's "Turn sound on" button). */
  mute(muted) {
    this.master.gain.setTargetAtTime(muted ? 0 : 1, this.ctx.currentTime, SMOOTH_S);
    if (!muted) this.ctx.resume().catch(() => {});
  }

  get silent() {
    return this.detector.silent;
  }

  /** The floor's gain as it should be now (the tests read it, and the UI shows it). */
  get target() {
    return floorGain(this.choice, this.level, this.channelSource === null || this.detector.silent);
  }

  #apply() {
    this.floor.gain.setTargetAtTime(this.target * this.volume, this.ctx.currentTime, SMOOTH_S);
    this.channel.gain.setTargetAtTime(this.channelSource ? 1 : 0, this.ctx.currentTime, SMOOTH_S);
  }

  #tick() {
    if (!this.channelSource) return;
    this.channelMeter.getFloatTimeDomainData(this.samples);
    const was = this.detector.silent;
    if (this.detector.feed(rms(this.samples), performance.now()) !== was) this.#apply();
  }

  /** The loudest frequency (Hz) now on the floor or the channel (tests tell tones apart). */
  peak(which) {
    const meter = which === "floor" ? this.floorMeter : this.channelMeter;
    const bins = new Float32Array(meter.frequencyBinCount);
    meter.getFloatFrequencyData(bins);
    return peakHz(bins, this.ctx.sampleRate, meter.fftSize);
  }

  close() {
    clearInterval(this.timer);
    this.setChannel(null);
    this.ctx.close().catch(() => {});
  }
}
