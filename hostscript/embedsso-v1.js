// embedsso v1: frames the app on the customer's page, signed in, and keeps
// it signed in. A dependency-free ES module, served by the app itself; the
// app's docs/embedding.md shows it in use.
//
//   import { embed } from "https://app.example.com/embedsso/v1.js";
//   const app = embed({ container, getURL: async ({ returnTo, signal }) => urlFromYourServer });
//   app.addEventListener("signed-in", (e) => console.log(e.detail.orgId));
//   app.destroy(); // removes the frame and the listener
//
// Events (CustomEvent, detail shown):
//   signed-in        {type, orgId}            a page of the app loaded signed in
//   session-expired  {type, orgId, returnTo}  the session ended; a fresh URL is being asked for
//   error            {error, phase}           getURL failed or returned a URL off the app
//                                             (phase "load" or "renew"), or renewals repeat
//                                             too often (phase "renew")

const MAX_RENEWALS = 3; // per RENEWAL_WINDOW_MS, so a frame that keeps ending cannot loop
const RENEWAL_WINDOW_MS = 60000;

export class EmbeddedApp extends EventTarget {
  #iframe;
  #origin;
  #getURL;
  #abort = new AbortController();
  #renewals = [];
  #renewing = false;
  #destroyed = false;
  #onMessage = (event) => this.#message(event);

  constructor({ container, getURL, appOrigin, title = "Embedded app", returnTo } = {}) {
    super();
    if (!(container instanceof Element)) throw new TypeError("embedsso: container must be an Element");
    if (typeof getURL !== "function") throw new TypeError("embedsso: getURL must be a function");
    this.#origin = new URL(appOrigin || import.meta.url).origin;
    this.#getURL = getURL;
    this.#iframe = document.createElement("iframe");
    this.#iframe.title = title;
    container.appendChild(this.#iframe);
    window.addEventListener("message", this.#onMessage);
    this.#load("load", returnTo);
  }

  /** The iframe the app is shown in now: each load puts a new one in the last one's place (null once destroyed). */
  get iframe() { return this.#destroyed ? null : this.#iframe; }

  /** The app's origin: the only one whose messages are heard. */
  get origin() { return this.#origin; }

  /** Removes the frame and the message listener, and abandons a pending getURL. */
  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    window.removeEventListener("message", this.#onMessage);
    this.#abort.abort();
    this.#iframe.remove();
  }

  #message(event) {
    if (this.#destroyed || event.origin !== this.#origin || event.source !== this.#iframe.contentWindow) return;
    const data = event.data;
    if (!data || typeof data.type !== "string") return;
    if (data.type === "embedsso:signed-in") {
      this.#emit("signed-in", { type: data.type, orgId: String(data.orgId || "") });
    } else if (data.type === "embedsso:session-expired") {
      const returnTo = typeof data.returnTo === "string" ? data.returnTo : "";
      this.#emit("session-expired", { type: data.type, orgId: String(data.orgId || ""), returnTo });
      this.#renew(returnTo);
    }
  }

  #renew(returnTo) {
    if (this.#renewing) return;
    const now = Date.now();
    this.#renewals = this.#renewals.filter((t) => now - t < RENEWAL_WINDOW_MS);
    if (this.#renewals.length >= MAX_RENEWALS) {
      this.#fail("renew", new Error("embedsso: the session ended " + MAX_RENEWALS + " times within a minute; not signing in again"));
      return;
    }
    this.#renewals.push(now);
    this.#load("renew", returnTo);
  }

  async #load(phase, returnTo) {
    this.#renewing = true;
    try {
      const url = new URL(await this.#getURL({ returnTo, signal: this.#abort.signal }), location.href);
      if (this.#destroyed) return;
      if (url.origin !== this.#origin) throw new Error("embedsso: getURL returned a URL outside the app (" + url.origin + ")");
      // A new iframe in the old one's place, not a new src: WebKit sends
      // no Referer when a frame showing an app page (Referrer-Policy:
      // no-referrer) is sent elsewhere, even by its parent, and the app
      // could not tell which site frames it. A new frame has no page yet.
      const next = this.#iframe.cloneNode(false);
      next.src = url.href;
      this.#iframe.replaceWith(next);
      this.#iframe = next;
    } catch (error) {
      if (!this.#destroyed) this.#fail(phase, error);
    } finally {
      this.#renewing = false;
    }
  }

  #fail(phase, error) {
    this.#emit("error", { error, phase });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** embed frames the app in options.container; see EmbeddedApp. */
export function embed(options) {
  return new EmbeddedApp(options);
}
