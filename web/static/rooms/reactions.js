// Floating reactions over a video, for viewers and in the studio (`reactions` batches, protocol
// §7): at most MAX_FLOATERS bubbles at once, at most 5 per kind per batch.
import { el } from "./i18n.js";

export const EMOJI = { like: "👍", heart: "❤️", clap: "👏", laugh: "😄", wow: "😮", fire: "🔥" };
const MAX_FLOATERS = 24;

/** Float `count` bubbles of `kind` over `floaters` (a positioned, aria-hidden layer). */
export function float(floaters, kind, count) {
  for (let i = 0; i < Math.min(count, 5); i += 1) {
    if (floaters.children.length >= MAX_FLOATERS) return;
    const bubble = el("span", { class: "floater", text: EMOJI[kind] ?? "✨" });
    bubble.style.left = `${10 + Math.random() * 80}%`;
    bubble.addEventListener("animationend", () => bubble.remove());
    floaters.append(bubble);
  }
}

/** Float every batch of `reactions` the connection hears over `floaters`. */
export function showReactions(conn, floaters) {
  conn.on("reactions", (r) => {
    for (const [kind, n] of Object.entries(r.counts ?? {})) float(floaters, kind, n);
  });
}
