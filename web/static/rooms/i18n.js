// The page's words and settings, rendered by the server into two JSON blocks (web/page_strings.py):
// no English is written in these modules, and an error code is never shown as it is.
const read = (id) => JSON.parse(document.getElementById(id).textContent);

export const config = read("config");
const strings = read("i18n");

/** The translated word `key`, with `%(name)s` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = strings.words[key] ?? strings.fallback.error;
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(vars[name] ?? ""));
}

/** A language code ("ko") as its own speakers write it ("한국어"): issue 17's pickers. */
export function languageName(code) {
  return strings.languages?.[code] ?? code;
}

/** A sentence for an error code (or an Error carrying `.code`), never the code itself. */
export function errorText(codeOrError) {
  const code = typeof codeOrError === "string" ? codeOrError : codeOrError?.code;
  return strings.errors[code] ?? strings.fallback.error;
}

const priceFormats = new Map();
/** "398.00" CNY -> "CN¥398.00" / "398,00 CN¥", as the visitor's language writes prices. */
export function formatPrice(value, currency) {
  if (!priceFormats.has(currency)) {
    try {
      priceFormats.set(currency, new Intl.NumberFormat(config.lang, { style: "currency", currency }));
    } catch {
      priceFormats.set(currency, new Intl.NumberFormat(config.lang, { minimumFractionDigits: 2 }));
    }
  }
  return priceFormats.get(currency).format(Number(value));
}

const timeFormat = new Intl.DateTimeFormat(config.lang, { timeStyle: "short" });
export function formatTime(seconds) {
  return timeFormat.format(new Date(seconds * 1000));
}

const dateTimeFormat = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeStyle: "short" });
export const formatDateTime = (iso) => dateTimeFormat.format(new Date(iso));

const numberFormat = new Intl.NumberFormat(config.lang);
export const formatCount = (n) => numberFormat.format(n);

const notice = document.getElementById("notice");
let noticeTimer = null;
/** Show a sentence in the page's status line; `sticky` keeps it until replaced. */
export function notify(text, { error = false, sticky = false } = {}) {
  if (!notice) return;
  clearTimeout(noticeTimer);
  notice.textContent = text;
  notice.classList.toggle("is-error", error);
  notice.hidden = false;
  if (!sticky) noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
}
export const notifyError = (codeOrError, sticky = false) =>
  notify(errorText(codeOrError), { error: true, sticky });

/** The localized name of a product card (its own six languages, then English, then any). */
export function localized(texts) {
  return texts?.[config.lang] || texts?.en || Object.values(texts ?? {}).find(Boolean) || "";
}

/** A tiny element builder: el("li", {class: "x", text: "y"}, child...). Text only, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}
