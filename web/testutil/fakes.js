// Fakes for the tests in test/: fetch, an hls.js instance, media elements.
// No DOM, no timers of their own: a test waits for a condition a bounded
// number of event-loop turns, never for a span of time. This file lives out
// of test/, where node --test would run it as a test file of its own.
import { EventEmitter } from "node:events";

// jsonResponse is what cfcookies answers.
export function jsonResponse(status, body, type = "application/json") {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
}

// answer is a POST's answer: refreshAfter and expiresAt seconds from now.
export function answer({ refreshIn = 480, expiresIn = 600, now = Date.now() } = {}) {
  return {
    expiresAt: new Date(now + expiresIn * 1000).toISOString(),
    refreshAfter: new Date(now + refreshIn * 1000).toISOString(),
    grants: [{ scope: "private", resource: "https://media.example.test/media/dev/*", cookiePath: "/media/dev/" }],
  };
}

// fakeFetch replaces globalThis.fetch for the test t. handler(call) answers
// each call ({url, method, init}) with a Response, a promise of one, or by
// throwing; by default POST answers 200 with answer(), DELETE 204, the rest
// 200. It returns the list of calls.
export function fakeFetch(t, handler = defaultHandler) {
  const calls = [];
  const saved = globalThis.fetch;
  globalThis.fetch = async (url, init = {}) => {
    const call = { url: String(url), method: init.method ?? "GET", init };
    calls.push(call);
    return handler(call);
  };
  t.after(() => {
    globalThis.fetch = saved;
  });
  return calls;
}

export function defaultHandler({ method }) {
  if (method === "POST") return jsonResponse(200, answer());
  if (method === "DELETE") return new Response(null, { status: 204 });
  return new Response("media", { status: 200 });
}

// posts counts the POSTs (refreshes) among calls.
export const posts = (calls) => calls.filter((c) => c.method === "POST").length;

// deferred is a promise with its resolve, for a fetch the test answers later.
export function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// until waits until cond() holds, for at most 1000 turns of the event loop.
export async function until(cond, what = "condition") {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

// settle lets pending promises and callbacks run (a bounded number of turns).
export async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

// FakeHls is an hls.js instance as attachHls sees it: an event emitter whose
// listeners get (event, data), loadSource, startLoad and media. Its
// constructor carries Events, as Hls does.
export class FakeHls extends EventEmitter {
  static Events = {
    ERROR: "hlsError",
    FRAG_LOADED: "hlsFragLoaded",
    LEVEL_LOADED: "hlsLevelLoaded",
    MANIFEST_LOADED: "hlsManifestLoaded",
  };
  calls = [];
  media = null;

  loadSource(url) {
    this.calls.push(["loadSource", url]);
  }

  startLoad(position) {
    this.calls.push(["startLoad", position]);
  }

  trigger(event, data = {}) {
    this.emit(event, event, data);
  }
}

// hlsError is the data of an hls.js network error.
export function hlsError(details, code, { fatal = true, url = "https://media.example.test/media/dev/hls/segment3.ts" } = {}) {
  const data = {
    type: "networkError",
    details,
    fatal,
    error: new Error(`A network error (status ${code})`),
    response: { url, code, text: "" },
  };
  if (details.startsWith("frag")) data.frag = { url };
  else data.context = { url };
  return data;
}

// FakeVideo is a <video>: an EventTarget with src, currentTime, paused and
// play(). Setting src records it and, as the load algorithm does, pauses
// and rewinds.
export class FakeVideo extends EventTarget {
  #src = "";
  srcSets = [];
  currentTime = 0;
  paused = true;
  ended = false;
  plays = 0;

  get src() {
    return this.#src;
  }

  set src(v) {
    this.#src = v;
    this.srcSets.push(v);
    this.paused = true;
    this.currentTime = 0;
  }

  play() {
    this.plays++;
    this.paused = false;
    return Promise.resolve();
  }
}

// FakeImage is an <img>: src and events, no currentTime.
export class FakeImage extends EventTarget {
  #src = "";
  srcSets = [];

  get src() {
    return this.#src;
  }

  set src(v) {
    this.#src = v;
    this.srcSets.push(v);
  }
}
