// Product cards: the viewer's pinned cards with "request a quote" (the form: quotes.js), and the
// studio's full list with pin / unpin. Names come in the card's own languages, prices in the
// visitor's format.
import { el, formatPrice, localized, notify, notifyError, t } from "./i18n.js";

function priceText(card) {
  return Number(card.price) > 0 ? formatPrice(card.price, card.currency) : t("price_on_request");
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
  }

  load(cards) {
    this.cards = new Map((cards ?? []).map((c) => [c.id, c]));
    this.render();
  }

  render() {
    this.list.replaceChildren(...[...this.cards.values()].map((card) => el("li",
      { class: "product", "data-product": card.id },
      el("span", { class: "name", text: localized(card.name) }),
      el("span", { class: "price", text: priceText(card) }),
      // Only a card that takes quote requests offers the button (the server refuses no_quotes).
      card.request_quote && el("button", { type: "button", class: "quote",
                                           text: t("request_quote"),
                                           onclick: () => this.onQuote(card) }))));
    if (this.empty) this.empty.hidden = this.cards.size > 0;
  }
}

/** The studio's catalogue: every card of the room, a form to add one, pin and unpin. */
export class ProductShelf {
  constructor(conn) {
    this.conn = conn;
    this.list = document.getElementById("products");
    this.form = document.getElementById("product-form");
    this.cards = new Map();
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.create(); });
    const update = (e) => {
      const card = this.cards.get(e.product_id);
      if (card) { card.pinned = e.pinned; this.render(); }
    };
    conn.on("product.pinned", update).on("product.unpinned", update);
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
      el("span", { class: "name", text: localized(card.name) }),
      el("span", { class: "price", text: priceText(card) }),
      card.pinned ? el("span", { class: "badge", text: t("pinned") }) : null,
      el("button", { type: "button", class: "pin", "aria-pressed": String(card.pinned),
                     text: card.pinned ? t("unpin") : t("pin"),
                     onclick: () => this.pin(card, !card.pinned) }))));
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

  async create() {
    const form = new FormData(this.form);
    try {
      const data = await this.conn.api("POST", "/products", {
        name: form.get("name"), price: String(form.get("price")).replace(",", "."), currency: form.get("currency"),
        request_quote: form.get("request_quote") === "on", language: document.documentElement.lang,
      });
      this.cards.set(data.product.id, data.product);
      this.render();
      this.form.reset();
      notify(t("product_saved"));
    } catch (err) {
      notifyError(err);
    }
  }
}
