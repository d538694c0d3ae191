// Product cards: the viewer's pinned cards with "request a quote" (the form: quotes.js), and the
// studio's full list with add / edit / delete / picture / pin / unpin. Names come in the card's own languages, prices in the
// visitor's format.
import { config, el, formatPrice, localized, notify, notifyError, t } from "./i18n.js";

/** A card's picture (only a node-served, content-checked one: a path under /pictures/). */
function picture(card) {
  const url = card.picture_url ?? "";
  if (!url.startsWith("/pictures/")) return null;
  return el("img", { class: "picture", src: url, alt: "", loading: "lazy", width: "64", height: "64" });
}

function priceText(card) {
  return Number(card.price) > 0 ? formatPrice(card.price, card.currency) : t("price_on_request");
}

/** One card as a viewer sees it (picture, name, price, description), then `extra` controls:
 * the live page's pinned cards and the replay's (issue 15) look the same. */
export function productItem(card, ...extra) {
  return el("li", { class: "product", "data-product": card.id },
    picture(card),
    el("span", { class: "name", text: localized(card.name) }),
    el("span", { class: "price", text: priceText(card) }),
    localized(card.description) ? el("p", { class: "description", text: localized(card.description) }) : null,
    ...extra);
}

/** The pinned cards a viewer sees; `product.pinned`/`unpinned` keep them current. */
export class PinnedProducts {
  /** `onQuote(card)`: the buyer pressed "request a quote" (the page opens its form). */
  constructor(conn, onQuote) {
    this.conn = conn;
    this.onQuote = onQuote;
    this.list = document.getElementById("products");
    this.empty = document.getElementById("no-products");
    this.cards = new Map();
    conn.on("product.pinned", (e) => { if (e.product) this.cards.set(e.product_id, e.product); this.render(); });
    conn.on("product.unpinned", (e) => { this.cards.delete(e.product_id); this.render(); });
    conn.on("product.updated", (e) => {
      if (this.cards.has(e.product_id) && e.product) { this.cards.set(e.product_id, e.product); this.render(); }
    });
    conn.on("product.deleted", (e) => { this.cards.delete(e.product_id); this.render(); });
  }

  load(cards) {
    this.cards = new Map((cards ?? []).map((c) => [c.id, c]));
    this.render();
  }

  render() {
    this.list.replaceChildren(...[...this.cards.values()].map((card) => productItem(card,
      // Only a card that takes quote requests offers the button (the server refuses no_quotes).
      card.request_quote && el("button", { type: "button", class: "quote",
                                           text: t("request_quote"),
                                           onclick: () => this.onQuote(card) }))));
    if (this.empty) this.empty.hidden = this.cards.size > 0;
  }
}

/** The studio's catalogue: every card of the room, a form to add or edit one (name and
 * description in the page's language, price, quote requests, a picture), pin, unpin, delete. */
export class ProductShelf {
  constructor(conn) {
    this.conn = conn;
    this.list = document.getElementById("products");
    this.form = document.getElementById("product-form");
    this.submit = this.form.querySelector("button[type=submit]");
    this.addLabel = this.submit.textContent;
    this.editing = null;  // the card the form is editing, or null: the form adds one
    this.cards = new Map();
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    const update = (e) => {
      const card = this.cards.get(e.product_id);
      if (card) { card.pinned = e.pinned; this.render(); }
    };
    conn.on("product.pinned", update).on("product.unpinned", update);
    conn.on("product.updated", (e) => { this.cards.set(e.product_id, e.product); this.render(); });
    conn.on("product.deleted", (e) => { this.cards.delete(e.product_id); this.render(); });
  }

  async load() {
    try {
      const data = await this.conn.api("GET", "/products");
      this.cards = new Map(data.products.map((c) => [c.id, c]));
      this.render();
    } catch (err) {
      notifyError(err);
    }
  }

  render() {
    this.list.replaceChildren(...[...this.cards.values()].map((card) => el("li",
      { class: card.pinned ? "product pinned" : "product", "data-product": card.id },
      picture(card),
      el("span", { class: "name", text: localized(card.name) }),
      el("span", { class: "price", text: priceText(card) }),
      card.pinned ? el("span", { class: "badge", text: t("pinned") }) : null,
      el("div", { class: "actions" },
        el("button", { type: "button", class: "pin", "aria-pressed": String(card.pinned),
                       text: card.pinned ? t("unpin") : t("pin"),
                       onclick: () => this.pin(card, !card.pinned) }),
        el("button", { type: "button", class: "edit", text: t("edit"), onclick: () => this.edit(card) }),
        el("button", { type: "button", class: "delete danger", text: t("delete"),
                       onclick: () => this.remove(card) })))));
  }

  async pin(card, pinned) {
    try {
      await this.conn.call(pinned ? "product.pin" : "product.unpin", { product: card.id });
      card.pinned = pinned;
      this.render();
    } catch (err) {
      notifyError(err);
    }
  }

  /** Fill the form with `card` (its texts in this page's language); submit saves the changes. */
  edit(card) {
    const lang = document.documentElement.lang;
    const fields = this.form.elements;
    this.editing = card;
    fields.name.value = card.name?.[lang] ?? localized(card.name);
    fields.description.value = card.description?.[lang] ?? "";
    fields.price.value = card.price;
    fields.currency.value = card.currency;
    fields.request_quote.checked = card.request_quote;
    this.submit.textContent = t("save");
    fields.name.focus();
  }

  async save() {
    const form = new FormData(this.form);
    const fields = {
      name: form.get("name"), description: form.get("description") ?? "",
      price: String(form.get("price")).replace(",", "."), currency: form.get("currency"),
      request_quote: form.get("request_quote") === "on", language: document.documentElement.lang,
    };
    const file = form.get("picture");
    try {
      const data = this.editing
        ? await this.conn.api("PATCH", `/products/${encodeURIComponent(this.editing.id)}`, fields)
        : await this.conn.api("POST", "/products", fields);
      let card = data.product;
      if (file && file.size) card = await this.upload(card, file);
      this.cards.set(card.id, { ...card, pinned: this.cards.get(card.id)?.pinned ?? card.pinned });
      this.render();
      this.reset();
      notify(t("product_saved"));
    } catch (err) {
      notifyError(err);
    }
  }

  reset() {
    this.form.reset();
    this.editing = null;
    this.submit.textContent = this.addLabel;
  }

  /** Send the file's bytes as they are: the server decides what they are (PNG, JPEG, WebP). */
  async upload(card, file) {
    const response = await fetch(`/api/pages/rooms/${encodeURIComponent(config.room)}/products/${encodeURIComponent(card.id)}/picture`, {
      method: "PUT", headers: { Authorization: `Bearer ${this.conn.token}`, "Content-Type": "application/octet-stream" },
      body: file,
    });
    let data = {};
    try { data = await response.json(); } catch { data = {}; }
    if (!response.ok || !data.ok) throw Object.assign(new Error("upload"), { code: data.error?.code ?? "internal_error" });
    return data.product;
  }

  async remove(card) {
    if (!window.confirm(t("confirm_delete"))) return;
    try {
      await this.conn.api("DELETE", `/products/${encodeURIComponent(card.id)}`);
      this.cards.delete(card.id);
      if (this.editing?.id === card.id) this.reset();
      this.render();
      notify(t("product_deleted"));
    } catch (err) {
      notifyError(err);
    }
  }
}
