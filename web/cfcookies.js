// cfcookies.js keeps the CloudFront signed cookies of a single-page app
// fresh. It is an ES module with no dependencies and no build step.
//
//   import { MediaCookies } from "./cfcookies.js";
//   const media = new MediaCookies({ baseURL: "https://api.example.com" });
//   await media.refresh();        // POST /auth/media-cookies; again before refreshAfter
//   media.watch(img);             // an <img> or <video> that fails refreshes once
//   const res = await media.fetch(url); // a denied fetch refreshes and retries once
//   await media.logout();         // DELETE /auth/media-cookies
//
// What it can see and what it cannot:
//   - The cookies are HttpOnly: it never reads them, only the JSON answer.
//   - fetch: a same-origin 403 shows as a 403. A cross-origin one shows as a
//     TypeError, since CloudFront's 403 carries no CORS headers, and so does a
//     network failure: it retries once on a 403 and on a TypeError.
//   - <img> and <video> only say "error", never why. A failing src is
//     refreshed and reassigned once, whatever the cause (expired cookies, a
//     404, a network failure, a file that does not decode); a second failure
//     of the same src gives up with a "mediaerror" event. Errors of <source>
//     children are not seen: set src on the element itself.
//   - Players that fetch media themselves (hls.js, Shaka) report errors their
//     own way: call refresh() from their error hook.
//   - Media is retried only while signed in: after a successful refresh() and
//     before logout(). A page left with media after logout stays logged out.
//
// Events: "refresh" (detail: the answer); "retry" (detail: {url}) before a
// media retry; "mediaerror" (detail: {element, src, error}) when a watched
// element fails again, or while signed out, or its refresh fails; "error"
// (detail: the error) when a scheduled refresh fails.

// ProblemError is a failed answer of cfcookies: an application/problem+json
// body (RFC 9457) with type, title, status and detail.
export class ProblemError extends Error {
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ProblemError";
    this.status = problem.status ?? status;
    this.type = problem.type ?? "about:blank";
    this.title = problem.title ?? "";
    this.detail = problem.detail ?? "";
    this.requestId = problem.requestId ?? "";
  }
}

const minDelay = 1000; // never refresh more than once a second
const maxDelay = 2 ** 31 - 1; // setTimeout's limit, about 24.8 days
const retryDelay = 5000; // after a failed scheduled refresh, while the cookies last

export class MediaCookies extends EventTarget {
  #endpoint;
  #headers;
  #scopes;
  #autoRefresh;
  #inflight = null;
  #timer = 0;
  #answer = null;
  #active = false; // between a successful refresh and logout: media failures may refresh

  // options:
  //   baseURL      where cfcookies answers, "" (default) for the page's origin
  //   headers      an object, or a function (may be async) returning one, sent
  //                with POST: Authorization, or X-Dev-User in dev mode
  //   scopes       scope names to ask for; default every entitled scope
  //   autoRefresh  refresh at refreshAfter (default true)
  constructor({ baseURL = "", headers = {}, scopes, autoRefresh = true } = {}) {
    super();
    this.#endpoint = baseURL.replace(/\/+$/, "") + "/auth/media-cookies";
    this.#headers = headers;
    this.#scopes = scopes;
    this.#autoRefresh = autoRefresh;
  }

  // The last answer: {expiresAt, refreshAfter, grants: [{scope, resource, cookiePath}]}.
  get current() {
    return this.#answer;
  }

  // refresh asks for fresh cookies. Calls made while one is in flight share
  // its promise, so a burst of failing media makes one request.
  refresh() {
    this.#inflight ??= this.#issue().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #issue() {
    const headers = { ...(typeof this.#headers === "function" ? await this.#headers() : this.#headers) };
    const init = { method: "POST", credentials: "include", headers };
    if (this.#scopes) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify({ scopes: this.#scopes });
    }
    const res = await fetch(this.#endpoint, init);
    if (!res.ok) throw await problemOf(res);
    const answer = await res.json();
    this.#answer = answer;
    this.#active = true;
    // Never sooner than expiresAt - refreshAfter, a span in the server's own
    // clock: a browser clock ahead of it would otherwise refresh in a loop.
    // One behind it refreshes late, and failing media then refreshes.
    const margin = Date.parse(answer.expiresAt) - Date.parse(answer.refreshAfter);
    this.#schedule(Math.max(Date.parse(answer.refreshAfter) - Date.now(), margin));
    this.dispatchEvent(new CustomEvent("refresh", { detail: answer }));
    return answer;
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    if (!this.#autoRefresh) return;
    delay = Math.min(Math.max(delay, minDelay), maxDelay);
    this.#timer = setTimeout(() => {
      this.refresh().catch((err) => {
        this.dispatchEvent(new CustomEvent("error", { detail: err }));
        const left = Date.parse(this.#answer?.expiresAt) - Date.now();
        if (left > retryDelay) this.#schedule(retryDelay);
      });
    }, delay);
  }

  // stop cancels the scheduled refresh.
  stop() {
    clearTimeout(this.#timer);
  }

  // logout stops refreshing and asks cfcookies to expire the cookies.
  async logout() {
    await this.#inflight?.catch(() => {}); // its cookies must not land after ours
    this.stop();
    this.#active = false;
    this.#answer = null;
    const res = await fetch(this.#endpoint, { method: "DELETE", credentials: "include" });
    if (!res.ok) throw await problemOf(res);
  }

  // fetch is window.fetch with credentials: "include" for GET requests of
  // media: while signed in, a 403 or a TypeError (see the top of the file)
  // refreshes the cookies and tries once more.
  async fetch(url, init = {}) {
    const opts = { credentials: "include", ...init };
    try {
      const res = await fetch(url, opts);
      if (res.status !== 403 || !this.#active) return res;
    } catch (err) {
      if (!(err instanceof TypeError) || !this.#active) throw err; // an AbortError stays one
    }
    this.dispatchEvent(new CustomEvent("retry", { detail: { url: String(url) } }));
    await this.refresh();
    return fetch(url, opts);
  }

  // watch makes an <img>, <video> or <audio> refresh the cookies and reload
  // once when its src fails while signed in, and returns it. A successful
  // load re-arms it.
  watch(element) {
    let retried = "";
    const giveUp = (src, error) =>
      this.dispatchEvent(new CustomEvent("mediaerror", { detail: { element, src, error } }));
    element.addEventListener("error", () => {
      const src = element.src;
      if (!src) return;
      if (retried === src || !this.#active) return giveUp(src);
      retried = src;
      this.dispatchEvent(new CustomEvent("retry", { detail: { url: src } }));
      this.refresh().then(
        () => {
          if (element.src === src) element.src = src; // reassigning reloads
        },
        (err) => giveUp(src, err),
      );
    });
    const rearm = () => {
      retried = "";
    };
    element.addEventListener("load", rearm); // <img>
    element.addEventListener("loadeddata", rearm); // <video>, <audio>
    return element;
  }
}

// problemOf turns a failed response into a ProblemError, reading the body
// when it is JSON (problem+json from cfcookies, or what a proxy sent).
async function problemOf(res) {
  const type = res.headers.get("Content-Type") ?? "";
  const body = type.includes("json") ? await res.json().catch(() => ({})) : {};
  return new ProblemError(res.status, { title: res.statusText, ...body });
}
