// attachHls and hlsConfig against a fake hls.js instance.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MediaCookies, ProblemError } from "../cfcookies.js";
import { FakeHls, FakeVideo, answer, deferred, fakeFetch, hlsError, jsonResponse, posts, settle, until } from "../testutil/fakes.js";

const manifestURL = "https://media.example.test/media/dev/hls/index.m3u8";

// signedIn returns a MediaCookies after one successful refresh, and the
// events it dispatches.
async function signedIn(t, handler) {
  const calls = fakeFetch(t, handler);
  const media = new MediaCookies({ autoRefresh: false });
  const events = [];
  for (const type of ["retry", "mediaerror", "refresh"]) {
    media.addEventListener(type, (e) => events.push([type, e.detail]));
  }
  await media.refresh();
  events.length = 0;
  return { media, calls, events };
}

function attached(media) {
  const hls = new FakeHls();
  hls.media = new FakeVideo();
  hls.media.currentTime = 12.5;
  const detach = media.attachHls(hls);
  return { hls, detach };
}

test("hlsConfig keeps the caller's options and sets withCredentials after the caller's xhrSetup", () => {
  const media = new MediaCookies({ autoRefresh: false });
  const seen = [];
  const config = { maxBufferLength: 10, xhrSetup: (xhr, url) => seen.push([xhr.withCredentials, url]) };
  const got = media.hlsConfig(config);
  assert.equal(got.maxBufferLength, 10);
  assert.notEqual(got, config, "a new object");
  assert.notEqual(got.xhrSetup, config.xhrSetup);
  const xhr = { withCredentials: false };
  got.xhrSetup(xhr, manifestURL);
  assert.deepEqual(seen, [[false, manifestURL]], "the caller's xhrSetup ran first, once");
  assert.equal(xhr.withCredentials, true);
  assert.equal(config.xhrSetup.length, 2, "the caller's config is not changed");
});

test("hlsConfig without options sets withCredentials", () => {
  const got = new MediaCookies({ autoRefresh: false }).hlsConfig();
  const xhr = { withCredentials: false };
  assert.equal(got.xhrSetup(xhr, manifestURL), undefined);
  assert.equal(xhr.withCredentials, true);
});

test("hlsConfig waits for an async xhrSetup of the caller", async () => {
  const media = new MediaCookies({ autoRefresh: false });
  const xhr = { withCredentials: false };
  const gate = deferred();
  const done = media.hlsConfig({ xhrSetup: () => gate.promise }).xhrSetup(xhr, manifestURL);
  assert.equal(typeof done.then, "function", "hls.js waits for the promise");
  gate.resolve();
  await done;
  assert.equal(xhr.withCredentials, true);
});

test("hlsConfig's fetchSetup makes a Request with credentials: include", () => {
  const got = new MediaCookies({ autoRefresh: false }).hlsConfig();
  const req = got.fetchSetup({ url: manifestURL }, { method: "GET", headers: { Range: "bytes=0-99" } });
  assert.ok(req instanceof Request);
  assert.equal(req.url, manifestURL);
  assert.equal(req.credentials, "include");
  assert.equal(req.headers.get("Range"), "bytes=0-99");
});

test("hlsConfig's fetchSetup chains the caller's, sync or async", async () => {
  const media = new MediaCookies({ autoRefresh: false });
  const mine = (context, init) => new Request(context.url, { ...init, headers: { "X-Mine": "1" }, credentials: "omit" });
  const sync = media.hlsConfig({ fetchSetup: mine }).fetchSetup({ url: manifestURL }, {});
  assert.equal(sync.credentials, "include");
  assert.equal(sync.headers.get("X-Mine"), "1");
  const async = await media.hlsConfig({ fetchSetup: async (c, i) => mine(c, i) }).fetchSetup({ url: manifestURL }, {});
  assert.equal(async.credentials, "include");
  assert.equal(async.headers.get("X-Mine"), "1");
});

test("attachHls: a fatal fragLoadError 403 refreshes once and resumes at the current time", async (t) => {
  const { media, calls, events } = await signedIn(t);
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("fragLoadError", 403));
  await until(() => hls.calls.length > 0, "startLoad");
  assert.deepEqual(hls.calls, [["startLoad", 12.5]]);
  assert.equal(posts(calls), 2, "the sign-in and one refresh");
  assert.deepEqual(events.map(([type]) => type), ["retry", "refresh"]);
  assert.deepEqual(events[0][1], { url: "https://media.example.test/media/dev/hls/segment3.ts" });
});

test("attachHls: a second denial without a successful load gives up, once, with no second refresh", async (t) => {
  const { media, calls, events } = await signedIn(t);
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("fragLoadError", 403));
  await until(() => hls.calls.length > 0, "startLoad");
  const second = hlsError("fragLoadError", 403);
  hls.trigger("hlsError", second);
  hls.trigger("hlsError", hlsError("fragLoadError", 403)); // hls.js would not, but no loop either way
  await settle();
  assert.equal(posts(calls), 2, "exactly one refresh after the sign-in");
  assert.deepEqual(hls.calls, [["startLoad", 12.5]], "no second resume");
  const gaveUp = events.filter(([type]) => type === "mediaerror");
  assert.equal(gaveUp.length, 1);
  assert.equal(gaveUp[0][1].element, hls.media);
  assert.equal(gaveUp[0][1].src, "https://media.example.test/media/dev/hls/segment3.ts");
  assert.equal(gaveUp[0][1].error, second.error);
});

test("attachHls: status 0 (a cross-origin 403) is a denial too", async (t) => {
  const { media, calls } = await signedIn(t);
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("levelLoadError", 0));
  await until(() => hls.calls.length > 0, "startLoad");
  assert.deepEqual(hls.calls, [["startLoad", 12.5]]);
  assert.equal(posts(calls), 2);
});

test("attachHls: a denied manifest is loaded again with loadSource", async (t) => {
  const { media, calls } = await signedIn(t);
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("manifestLoadError", 0, { url: manifestURL }));
  await until(() => hls.calls.length > 0, "loadSource");
  assert.deepEqual(hls.calls, [["loadSource", manifestURL]]);
  assert.equal(posts(calls), 2);
});

test("attachHls: without media attached, startLoad gets -1", async (t) => {
  const { media } = await signedIn(t);
  const hls = new FakeHls();
  media.attachHls(hls);
  hls.trigger("hlsError", hlsError("audioTrackLoadError", 403));
  await until(() => hls.calls.length > 0, "startLoad");
  assert.deepEqual(hls.calls, [["startLoad", -1]]);
});

test("attachHls: a non-fatal denial refreshes and leaves the retry to hls.js", async (t) => {
  const { media, calls, events } = await signedIn(t);
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("fragLoadError", 403, { fatal: false }));
  await until(() => posts(calls) === 2, "refresh");
  await settle();
  assert.deepEqual(hls.calls, [], "hls.js retries by itself");
  // hls.js's own retries fail too (not fatal yet): still no second refresh.
  hls.trigger("hlsError", hlsError("fragLoadError", 403, { fatal: false }));
  await settle();
  assert.equal(posts(calls), 2);
  assert.equal(events.filter(([type]) => type === "mediaerror").length, 0);
  // Out of retries, hls.js makes it fatal: give up.
  hls.trigger("hlsError", hlsError("fragLoadError", 403, { fatal: true }));
  assert.deepEqual(events.map(([type]) => type), ["retry", "refresh", "mediaerror"]);
  assert.equal(posts(calls), 2);
});

test("attachHls: signed out, a denial never refreshes", async (t) => {
  for (const when of ["before sign-in", "after logout"]) {
    await t.test(when, async (t) => {
      const calls = fakeFetch(t);
      const media = new MediaCookies({ autoRefresh: false });
      if (when === "after logout") {
        await media.refresh();
        await media.logout();
      }
      const before = calls.length;
      const events = [];
      media.addEventListener("retry", () => events.push("retry"));
      media.addEventListener("mediaerror", () => events.push("mediaerror"));
      const { hls } = attached(media);
      hls.trigger("hlsError", hlsError("fragLoadError", 403, { fatal: false }));
      hls.trigger("hlsError", hlsError("fragLoadError", 403));
      hls.trigger("hlsError", hlsError("fragLoadError", 403));
      await settle();
      assert.equal(calls.length, before, "no request");
      assert.deepEqual(hls.calls, []);
      assert.deepEqual(events, ["mediaerror"], "one mediaerror for the fatal denial");
    });
  }
});

test("attachHls: other errors are left to the app", async (t) => {
  const { media, calls, events } = await signedIn(t);
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("fragLoadError", 404));
  hls.trigger("hlsError", hlsError("fragLoadError", 500));
  hls.trigger("hlsError", hlsError("manifestLoadError", 404));
  hls.trigger("hlsError", hlsError("fragLoadTimeout", 0));
  hls.trigger("hlsError", hlsError("keyLoadError", 403));
  hls.trigger("hlsError", { type: "mediaError", details: "bufferStalledError", fatal: false });
  await settle();
  assert.equal(posts(calls), 1, "only the sign-in");
  assert.deepEqual(hls.calls, []);
  assert.deepEqual(events, []);
});

test("attachHls: a successful load re-arms it", async (t) => {
  for (const loaded of ["hlsFragLoaded", "hlsLevelLoaded", "hlsManifestLoaded"]) {
    await t.test(loaded, async (t) => {
      const { media, calls, events } = await signedIn(t);
      const { hls } = attached(media);
      hls.trigger("hlsError", hlsError("fragLoadError", 403));
      await until(() => hls.calls.length === 1, "first startLoad");
      hls.trigger(loaded, {});
      hls.trigger("hlsError", hlsError("fragLoadError", 403));
      await until(() => hls.calls.length === 2, "second startLoad");
      assert.equal(posts(calls), 3, "sign-in and two refreshes");
      assert.equal(events.filter(([type]) => type === "mediaerror").length, 0);
    });
  }
});

test("attachHls: the function it returns detaches", async (t) => {
  const { media, calls, events } = await signedIn(t);
  const { hls, detach } = attached(media);
  assert.ok(hls.listenerCount("hlsError") > 0);
  detach();
  for (const e of ["hlsError", "hlsFragLoaded", "hlsLevelLoaded", "hlsManifestLoaded"]) {
    assert.equal(hls.listenerCount(e), 0, e);
  }
  hls.trigger("hlsError", hlsError("fragLoadError", 403));
  await settle();
  assert.equal(posts(calls), 1);
  assert.deepEqual(events, []);
});

test("attachHls: detached while refreshing, it does not resume", async (t) => {
  const gate = deferred();
  let n = 0;
  const { media } = await signedIn(t, ({ method }) => {
    if (method === "POST" && ++n === 2) return gate.promise;
    return jsonResponse(200, answer());
  });
  const { hls, detach } = attached(media);
  hls.trigger("hlsError", hlsError("fragLoadError", 403));
  detach();
  gate.resolve(jsonResponse(200, answer()));
  await settle();
  assert.deepEqual(hls.calls, []);
});

test("attachHls: concurrent denials share one refresh and one resume", async (t) => {
  const gate = deferred();
  let n = 0;
  const { media, calls, events } = await signedIn(t, ({ method }) => {
    if (method === "POST" && ++n === 2) return gate.promise.then(() => jsonResponse(200, answer()));
    return jsonResponse(200, answer());
  });
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("fragLoadError", 403));
  hls.trigger("hlsError", hlsError("audioTrackLoadError", 0));
  hls.trigger("hlsError", hlsError("levelLoadError", 403, { fatal: false }));
  gate.resolve();
  await until(() => hls.calls.length > 0, "startLoad");
  await settle();
  assert.equal(posts(calls), 2, "one refresh for three denials");
  assert.deepEqual(hls.calls, [["startLoad", 12.5]]);
  assert.deepEqual(events.map(([type]) => type), ["retry", "refresh"]);
});

test("attachHls: a manifest denied with a segment resumes with loadSource", async (t) => {
  const gate = deferred();
  let n = 0;
  const { media } = await signedIn(t, ({ method }) => {
    if (method === "POST" && ++n === 2) return gate.promise.then(() => jsonResponse(200, answer()));
    return jsonResponse(200, answer());
  });
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("fragLoadError", 403));
  hls.trigger("hlsError", hlsError("manifestLoadError", 403, { url: manifestURL }));
  gate.resolve();
  await until(() => hls.calls.length > 0, "loadSource");
  await settle();
  assert.deepEqual(hls.calls, [["loadSource", manifestURL]]);
});

test("attachHls: a failed refresh gives up with its error", async (t) => {
  let n = 0;
  const { media, events } = await signedIn(t, ({ method }) => {
    if (method === "POST" && ++n === 2) {
      return jsonResponse(401, { type: "https://cfcookies.dev/problems/unauthenticated", title: "Unauthorized", status: 401 }, "application/problem+json");
    }
    return jsonResponse(200, answer());
  });
  const { hls } = attached(media);
  hls.trigger("hlsError", hlsError("fragLoadError", 403));
  await until(() => events.some(([type]) => type === "mediaerror"), "mediaerror");
  const [, detail] = events.find(([type]) => type === "mediaerror");
  assert.ok(detail.error instanceof ProblemError);
  assert.equal(detail.error.status, 401);
  assert.deepEqual(hls.calls, []);
});

test("attachHls: without Hls.Events it listens to hls.js's event names", async (t) => {
  const { media, calls } = await signedIn(t);
  const listeners = new Map(); // not an EventEmitter, and no constructor.Events
  const plain = {
    media: null,
    calls: [],
    on(e, fn) {
      listeners.set(e, fn);
    },
    off(e) {
      listeners.delete(e);
    },
    loadSource() {},
    startLoad(p) {
      this.calls.push(p);
    },
  };
  const detach = media.attachHls(plain);
  assert.deepEqual([...listeners.keys()].sort(), ["hlsError", "hlsFragLoaded", "hlsLevelLoaded", "hlsManifestLoaded"]);
  listeners.get("hlsError")("hlsError", hlsError("fragLoadError", 403));
  await until(() => plain.calls.length > 0, "startLoad");
  assert.deepEqual(plain.calls, [-1]);
  assert.equal(posts(calls), 2);
  detach();
  assert.equal(listeners.size, 0);
});
