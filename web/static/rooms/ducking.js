// Interpretation channels, the listener's pure logic (issue 17 §5, docs/pages.md
// "Interpretation"): no DOM, no Web Audio, no network, so tests drive it with plain numbers.
//
// - `floorGain(choice, level, silent)`: the gain the floor (the speakers' original audio) gets.
//   "original" (no channel) plays the floor at 1; a language ducks it to `level` while the
//   interpreter speaks, and lets it rise back to 1 while they are silent (a paused or muted
//   booth must not leave the listener in silence).
// - `SilenceDetector`: fed the channel's level (RMS, 0..1) at a steady pace, it says "silent"
//   once the level stayed under `threshold` for `holdMs`, and "speaking" again at the first
//   frame above it (speech returns at once; silence is believed only after a few seconds, so a
//   breath between sentences does not pump the floor up and down).
// - `Remembered`: the listener's choice (language, duck level) in localStorage, one entry for
//   every forum (a delegate who listens in Korean wants Korean in the next session too).

export const ORIGINAL = "original";
export const LANGUAGES = ["zh", "en", "ja", "ko", "ru", "mn"];
export const DUCK_DEFAULT = 0.2;  // the floor at 20 % under an interpreter: heard, not competing
export const DUCK_MIN = 0;
export const DUCK_MAX = 1;
export const SILENCE_THRESHOLD = 0.01;  // RMS of a float signal: about -40 dBFS
export const SILENCE_HOLD_MS = 3000;
const STORE_KEY = "pavilion:interpretation";

/** A duck level from anything (a slider's string, a stored value): clamped to 0..1, else the
 * default. */
export function clampLevel(value) {
  const level = Number(value);
  if (value === null || value === "" || !Number.isFinite(level)) return DUCK_DEFAULT;
  return Math.min(DUCK_MAX, Math.max(DUCK_MIN, level));
}

/** The floor's gain: 1 for "original" or while the interpreter is silent, else `level`. */
export function floorGain(choice, level, silent) {
  if (!choice || choice === ORIGINAL || silent) return 1;
  return clampLevel(level);
}

/** The RMS of a block of float samples (an AnalyserNode's getFloatTimeDomainData). */
export function rms(samples) {
  if (!samples?.length) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

/** The frequency (Hz) of the loudest FFT bin (an AnalyserNode's getFloatFrequencyData, dB):
 * what the tests read to tell the floor's tone from each interpreter's. */
export function peakHz(bins, sampleRate, fftSize) {
  let best = -1;
  let bestDb = -Infinity;
  bins.forEach((db, i) => { if (i > 0 && db > bestDb) { bestDb = db; best = i; } });
  return best < 0 ? 0 : (best * sampleRate) / fftSize;
}

export class SilenceDetector {
  constructor({ threshold = SILENCE_THRESHOLD, holdMs = SILENCE_HOLD_MS } = {}) {
    this.threshold = threshold;
    this.holdMs = holdMs;
    this.quietSince = null;  // when the level last fell under the threshold (ms)
    this.silent = false;
  }

  /** Feed one level at time `now` (ms); returns whether the channel counts as silent. */
  feed(level, now) {
    if (level >= this.threshold) {
      this.quietSince = null;
      this.silent = false;
    } else {
      this.quietSince ??= now;
      this.silent = now - this.quietSince >= this.holdMs;
    }
    return this.silent;
  }

  reset() {
    this.quietSince = null;
    this.silent = false;
  }
}

/** The languages to offer from a `channels` list (join state, `channels.changed`): those with
 * someone live, in the fixed order of LANGUAGES (so the picker does not jump around). */
export function liveLanguages(channels) {
  const live = new Set((channels ?? []).filter((c) => c?.live).map((c) => c.language));
  return LANGUAGES.filter((code) => live.has(code));
}

/** The stored choice {language, level}; bad or missing data gives "original" and the default. */
export class Remembered {
  constructor(storage = globalThis.localStorage) {
    this.storage = storage;
  }

  load() {
    let saved = null;
    try { saved = JSON.parse(this.storage?.getItem(STORE_KEY) ?? "null"); } catch { saved = null; }
    const language = LANGUAGES.includes(saved?.language) ? saved.language : ORIGINAL;
    return { language, level: clampLevel(saved?.level ?? DUCK_DEFAULT) };
  }

  save({ language, level }) {
    const value = { language: LANGUAGES.includes(language) ? language : ORIGINAL,
                    level: clampLevel(level) };
    try { this.storage?.setItem(STORE_KEY, JSON.stringify(value)); } catch { /* private mode */ }
    return value;
  }
}
