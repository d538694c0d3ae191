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

// A default name the server gave (a visitor "Visitor 1234", a demo buyer "Buyer 1234": web/
// room_pages.py, web/page_access.py) is a language-neutral marker, not a name: every reader sees
// it in their own language with the same number, so one person is "访客 1234" to a Chinese reader
// and "Visitor 1234" to an English one — never a word made up in another reader's language.
const DEFAULT_NAME = /^(Visitor|Buyer) (\d{1,6})$/;
const DEFAULT_WORD = { Visitor: "visitor_default", Buyer: "buyer_default" };

/** Whether `name` is a default the server gave (the person has not set one). */
export function isDefaultName(name) { return DEFAULT_NAME.test(name ?? ""); }

/** `name` as this reader sees it: a default name in the reader's language, else as it is. */
export function shownName(name) {
  const found = DEFAULT_NAME.exec(name ?? "");
  return found ? t(DEFAULT_WORD[found[1]], { num: found[2] }) : name;
}

/** How `identity` is shown to this reader: their organisation's name in the reader's language
 * (the exhibitor), else the person's current name, else `fallback` (the name a chat message
 * was sent under); default names in the reader's language. */
export function nameOf(identity, fallback = "") {
  const person = known.get(identity);
  const names = person ? person.names : (identity === config.exhibitor ? exhibitorNames : null);
  return names?.[config.lang] || shownName(person?.name || fallback) || identity;
}

/** The "your name" form in the chat panel: `name.set`, remembered for the next join. */
export function bindNameForm(conn, me) {
  const form = document.getElementById("name-form");
  const input = document.getElementById("name-text");
  if (!form || !input || form.dataset.bound) return;
  form.dataset.bound = "1";  // a page that enters again (the meeting) binds it once
  if (me) learn(me);
  const mine = () => {  // a default name is a placeholder in the reader's language, not a value
    const current = known.get(conn.identity)?.name ?? me?.name ?? "";
    input.value = isDefaultName(current) ? "" : nameOf(conn.identity, current);
    input.placeholder = isDefaultName(current) ? shownName(current) : "";
  };
  mine();
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { participant } = await conn.call("name.set", { name: input.value });
      remember(participant.name);
      learn(participant);
      mine();
      refreshNames(conn.identity);
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
