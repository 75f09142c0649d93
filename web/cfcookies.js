// cfcookies.js keeps the CloudFront signed cookies of a single-page app
// fresh. It is an ES module with no dependencies and no build step.
//
//   import { MediaCookies } from "./cfcookies.js";
//   const media = new MediaCookies({ baseURL: "https://api.example.com" });
//   await media.refresh();        // POST /auth/media-cookies; again before refreshAfter
//   media.watch(img);             // an <img> or <video> that fails refreshes once
//   const res = await media.fetch(url); // a denied fetch refreshes and retries once
//   const hls = new Hls(media.hlsConfig()); // hls.js sends the cookies cross-origin
//   const detach = media.attachHls(hls);    // a denied playlist or segment refreshes once
//   await media.logout();         // DELETE /auth/media-cookies
//
// What it can see and what it cannot:
//   - The cookies are HttpOnly: it never reads them, only the JSON answer.
//   - fetch: a same-origin 403 shows as a 403. A cross-origin one shows as a
//     TypeError, since CloudFront's 403 carries no CORS headers, and so does a
//     network failure: it retries once on a 403 and on a TypeError.
//   - hls.js: a same-origin 403 shows as response code 403, a cross-origin
//     one (or a network failure) as code 0. On either, for a playlist or a
//     segment, it refreshes once and resumes loading; other errors (404,
//     500, decoding) are left to the app. hls.js retries a failed segment
//     or variant playlist by itself when it has no other variant to switch
//     to, so the refresh usually lands before its next try; a fatal error
//     (the manifest, or a segment out of retries) is resumed here with
//     loadSource or startLoad.
//   - <img> and <video> only say "error", never why. A failing src is
//     refreshed and reassigned once, whatever the cause (expired cookies, a
//     404, a network failure, a file that does not decode); a second failure
//     of the same src gives up with a "mediaerror" event. A <video> resumes
//     where it was, playing if it was. Errors of <source> children are not
//     seen: set src on the element itself.
//   - Other players that fetch media themselves (Shaka, dash.js) report
//     errors their own way: call refresh() from their error hook.
//   - Media is retried only while signed in: after a successful refresh() and
//     before logout(). A page left with media after logout stays logged out.
//   - Cross-origin media needs the CDN to answer CORS with the page's exact
//     origin and Access-Control-Allow-Credentials: true (hls.js and fetch
//     send the cookies only with credentials; <img>/<video> without a
//     crossorigin attribute send them anyway).
//
// Events: "refresh" (detail: the answer); "retry" (detail: {url}) before a
// media retry; "mediaerror" (detail: {element, src, error}) when watched or
// attached media fails again, or while signed out, or its refresh fails
// (element is hls.media for hls.js); "error" (detail: the error) when a
// scheduled refresh fails.

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
  // once when its src fails while signed in, and returns it. A <video> or
  // <audio> resumes at the time it failed, playing if it was. A successful
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
      // Reassigning src starts over at 0, paused: remember where it was.
      const time = element.currentTime ?? 0;
      const playing = element.paused === false && !element.ended;
      this.dispatchEvent(new CustomEvent("retry", { detail: { url: src } }));
      this.refresh().then(
        () => {
          if (element.src !== src) return; // the app moved on
          if (time > 0 || playing) {
            element.addEventListener(
              "loadedmetadata",
              () => {
                if (time > 0) element.currentTime = time;
                if (playing) element.play()?.catch?.(() => {}); // autoplay policy: the app's call
              },
              { once: true },
            );
          }
          element.src = src; // reassigning reloads
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

  // hlsConfig returns a new hls.js config: config plus an xhrSetup and a
  // fetchSetup that send cookies with every request (withCredentials,
  // credentials: "include"), which a CDN on another origin needs. A
  // caller's own xhrSetup or fetchSetup in config runs first.
  hlsConfig(config = {}) {
    const { xhrSetup, fetchSetup } = config;
    return {
      ...config,
      xhrSetup(xhr, url) {
        const done = xhrSetup?.call(this, xhr, url);
        if (typeof done?.then === "function") {
          return done.then(() => {
            xhr.withCredentials = true;
          });
        }
        xhr.withCredentials = true;
        return done;
      },
      fetchSetup(context, initParams) {
        if (!fetchSetup) return new Request(context.url, { ...initParams, credentials: "include" });
        const req = fetchSetup.call(this, context, initParams); // a Request, or a promise of one
        const include = (r) => new Request(r, { credentials: "include" });
        return typeof req?.then === "function" ? req.then(include) : include(req);
      },
    };
  }

  // attachHls makes an hls.js instance refresh the cookies once when a
  // playlist or segment is denied (response code 403, or 0 cross-origin)
  // while signed in, and resume loading; it returns a function that
  // detaches. A second denial without a successful load in between that
  // hls.js gives up on (a fatal error) dispatches "mediaerror"; errors
  // hls.js still retries by itself are left to it. Any playlist or segment
  // loaded re-arms it. Other errors are left to the app.
  attachHls(hls) {
    const events = hls.constructor?.Events ?? {};
    const errorEvent = events.ERROR ?? "hlsError";
    const loadedEvents = [
      events.FRAG_LOADED ?? "hlsFragLoaded",
      events.LEVEL_LOADED ?? "hlsLevelLoaded",
      events.MANIFEST_LOADED ?? "hlsManifestLoaded",
    ];
    // armed: the next denial refreshes; refreshing: denials share the
    // refresh in flight; retried: a fatal denial gives up; gaveUp: wait for
    // a successful load.
    let state = "armed";
    let resume = null; // {manifest: url} or {load: true}: what a fatal error stopped
    let attached = true;
    const giveUp = (src, error) => {
      state = "gaveUp";
      this.dispatchEvent(new CustomEvent("mediaerror", { detail: { element: hls.media ?? null, src, error } }));
    };
    const onError = (_event, data) => {
      if (!hlsDenied(data)) return;
      const url = data.url ?? data.context?.url ?? data.frag?.url ?? data.response?.url ?? "";
      if (!this.#active) {
        if (data.fatal && state !== "gaveUp") giveUp(url, data.error);
        return;
      }
      switch (state) {
        case "armed":
          state = "refreshing";
          resume = null;
          noteResume(data, url);
          this.dispatchEvent(new CustomEvent("retry", { detail: { url } }));
          this.refresh().then(
            () => {
              if (!attached) return;
              if (state === "refreshing") state = "retried";
              const r = resume;
              resume = null;
              if (r?.manifest) hls.loadSource(r.manifest);
              else if (r?.load) hls.startLoad(hls.media?.currentTime ?? -1);
            },
            (err) => {
              if (attached) giveUp(url, err);
            },
          );
          return;
        case "refreshing":
          noteResume(data, url);
          return;
        case "retried":
          if (data.fatal) giveUp(url, data.error);
          return;
      }
    };
    const noteResume = (data, url) => {
      if (!data.fatal) return; // hls.js tries again by itself, with the fresh cookies
      if (data.details === "manifestLoadError") resume = { manifest: url };
      else resume ??= { load: true };
    };
    const onLoaded = () => {
      if (state !== "refreshing") state = "armed";
    };
    hls.on(errorEvent, onError);
    for (const e of loadedEvents) hls.on(e, onLoaded);
    return () => {
      attached = false;
      hls.off(errorEvent, onError);
      for (const e of loadedEvents) hls.off(e, onLoaded);
    };
  }
}

// The hls.js errors (data.details) of a playlist or a segment that did not
// load, and the response codes of a denial: 403 same-origin, 0 cross-origin
// (CloudFront's 403 has no CORS headers, so the browser hides it).
const hlsLoadErrors = new Set(["manifestLoadError", "levelLoadError", "audioTrackLoadError", "fragLoadError"]);

function hlsDenied(data) {
  const code = data?.response?.code;
  return hlsLoadErrors.has(data?.details) && (code === 403 || code === 0);
}

// problemOf turns a failed response into a ProblemError, reading the body
// when it is JSON (problem+json from cfcookies, or what a proxy sent).
async function problemOf(res) {
  const type = res.headers.get("Content-Type") ?? "";
  const body = type.includes("json") ? await res.json().catch(() => ({})) : {};
  return new ProblemError(res.status, { title: res.statusText, ...body });
}
