// A recording's timeline (docs/recordings.md §5, issue 15 §6): chat messages and product pins at
// their offset in seconds from the recording's start. Pure: what the replay shows at a moment is
// a function of the entries and that moment, so a seek backwards is as right as playing on.

/** An entry's payload: the contract's fields, flat on the entry or under `message`. */
const body = (entry) => entry.message ?? entry;

export class Timeline {
  /** `entries`: `[{at_s, kind: "chat"|"pin"|"unpin", ...}]`, in any order. */
  constructor(entries) {
    this.entries = (entries ?? []).filter((e) => Number.isFinite(e?.at_s))
      .map((e, index) => ({ e, index }))
      .sort((a, b) => a.e.at_s - b.e.at_s || a.index - b.index)  // ties keep their order
      .map(({ e }) => e);
  }

  /** How many entries happened at or before `seconds` (binary search). */
  countAt(seconds) {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.entries[mid].at_s <= seconds) low = mid + 1; else high = mid;
    }
    return low;
  }

  /** The last `max` chat messages of the first `count` entries, oldest first. */
  chat(count, max) {
    const shown = [];
    for (let i = count - 1; i >= 0 && shown.length < max; i--) {
      if (this.entries[i].kind === "chat") shown.push({ ...body(this.entries[i]), at_s: this.entries[i].at_s });
    }
    return shown.reverse();
  }

  /** The cards pinned once the first `count` entries happened: product id -> card. */
  pinned(count) {
    const cards = new Map();
    for (let i = 0; i < count; i++) {
      const entry = this.entries[i];
      if (entry.kind === "pin" && entry.product) cards.set(entry.product_id, entry.product);
      else if (entry.kind === "unpin") cards.delete(entry.product_id);
    }
    return cards;
  }
}

/** "1:02:03" / "2:03": an offset in the recording, the way players write it. */
export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
