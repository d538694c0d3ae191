// One name per person on every page (issue 12, point 8): the name a person chose (remembered in
// this browser and sent with `join`, changed with `name.set`), shown the same in chat, the
// participant list, stage tiles and captions; the room's exhibitor in the reader's language
// (`names` of their presence record, or the join state's `exhibitor_names`).
import { config, el, notify, notifyError, t } from "./i18n.js";

const STORE_KEY = "pavilion:name";
const known = new Map();  // identity -> {name, names}
let exhibitorNames = null;

/** The name this browser chose before (sent with every join), or null. */
export function savedName() {
  try { return localStorage.getItem(STORE_KEY) || null; } catch { return null; }
}

function remember(name) {
  try { localStorage.setItem(STORE_KEY, name); } catch { /* private mode: this page only */ }
}

/** Learn a person's current names from a presence record. */
export function learn(participant) {
  if (participant?.identity) known.set(participant.identity, { name: participant.name, names: participant.names });
}

/** The join state's localized name of the room's exhibitor (it may have left). */
export function learnExhibitor(names) { exhibitorNames = names || null; }

/** How `identity` is shown to this reader: localized for the exhibitor, else the person's
 * current name, else `fallback` (the name a chat message was sent under). */
export function nameOf(identity, fallback = "") {
  const person = known.get(identity);
  const names = person?.names || (identity === config.exhibitor ? exhibitorNames : null);
  return names?.[config.lang] || person?.name || fallback || identity;
}

/** The "your name" form in the chat panel: `name.set`, remembered for the next join. */
export function bindNameForm(conn, me) {
  const form = document.getElementById("name-form");
  const input = document.getElementById("name-text");
  if (!form || !input) return;
  input.value = nameOf(conn.identity, me?.name ?? "");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { participant } = await conn.call("name.set", { name: input.value });
      remember(participant.name);
      learn(participant);
      input.value = participant.name;
      notify(t("name_saved", { name: participant.name }));
    } catch (err) { notifyError(err); }
  });
}

/** A caption element for `identity` that follows renames (data-name-of marks it). */
export function nameTag(identity, fallback, { you = false, cls = "who" } = {}) {
  const text = nameOf(identity, fallback);
  return el("span", { class: cls, "data-name-of": identity, "data-you": you ? "1" : null,
                      "data-fallback": fallback || null,
                      text: you ? t("you", { name: text }) : text });
}

/** Redraw every caption of `identity` after a rename (or of everyone, without one). */
export function refreshNames(identity = null) {
  for (const tag of document.querySelectorAll("[data-name-of]")) {
    const who = tag.getAttribute("data-name-of");
    if (identity && who !== identity) continue;
    const text = nameOf(who, tag.dataset.fallback || "");
    tag.textContent = tag.dataset.you ? t("you", { name: text }) : text;
  }
}

const PEOPLE_SHOWN = 100;

/** The "people in the room" list under the chat: on stage first, then in join order, each
 * under the same name as everywhere else. */
export function showPeople(presence, me) {
  const box = document.getElementById("people-box");
  const list = document.getElementById("people");
  if (!box || !list) return;
  box.hidden = false;
  const render = () => {
    const people = presence.list().sort((a, b) => Number(b.on_stage) - Number(a.on_stage))
      .slice(0, PEOPLE_SHOWN);
    list.replaceChildren(...people.map((p) => el("li", { "data-identity": p.identity },
      nameTag(p.identity, p.name, { you: p.identity === me }))));
  };
  presence.onchange(render);
  render();
}
