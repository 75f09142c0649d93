// MediaCookies: refresh, its schedule, ProblemError, fetch, logout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MediaCookies, ProblemError } from "../cfcookies.js";
import { answer, defaultHandler, fakeFetch, jsonResponse, posts, until } from "../testutil/fakes.js";

test("refresh POSTs with credentials, the headers and the scopes, and keeps the answer", async (t) => {
  const calls = fakeFetch(t);
  const media = new MediaCookies({
    baseURL: "https://api.example.test/",
    headers: async () => ({ "X-Dev-User": "alice" }),
    scopes: ["private"],
    autoRefresh: false,
  });
  const refreshed = [];
  media.addEventListener("refresh", (e) => refreshed.push(e.detail));
  const got = await media.refresh();
  assert.equal(calls.length, 1);
  const [{ url, method, init }] = calls;
  assert.equal(url, "https://api.example.test/auth/media-cookies");
  assert.equal(method, "POST");
  assert.equal(init.credentials, "include");
  assert.deepEqual(init.headers, { "X-Dev-User": "alice", "Content-Type": "application/json" });
  assert.deepEqual(JSON.parse(init.body), { scopes: ["private"] });
  assert.deepEqual(media.current, got);
  assert.deepEqual(refreshed, [got]);
});

test("refresh without scopes sends no body", async (t) => {
  const calls = fakeFetch(t);
  await new MediaCookies({ autoRefresh: false }).refresh();
  assert.equal(calls[0].url, "/auth/media-cookies");
  assert.equal(calls[0].init.body, undefined);
});

test("calls to refresh while one is in flight share it", async (t) => {
  const calls = fakeFetch(t);
  const media = new MediaCookies({ autoRefresh: false });
  const [a, b] = await Promise.all([media.refresh(), media.refresh()]);
  assert.equal(a, b);
  assert.equal(posts(calls), 1);
  await media.refresh();
  assert.equal(posts(calls), 2, "a later call asks again");
});

test("a failed refresh is a ProblemError with the problem's fields", async (t) => {
  fakeFetch(t, () =>
    jsonResponse(
      403,
      { type: "https://cfcookies.dev/problems/forbidden-scope", title: "Forbidden", status: 403, detail: "scope shared is not yours", requestId: "r1" },
      "application/problem+json",
    ),
  );
  const err = await new MediaCookies({ autoRefresh: false }).refresh().then(
    () => assert.fail("resolved"),
    (e) => e,
  );
  assert.ok(err instanceof ProblemError);
  assert.equal(err.name, "ProblemError");
  assert.equal(err.status, 403);
  assert.equal(err.type, "https://cfcookies.dev/problems/forbidden-scope");
  assert.equal(err.title, "Forbidden");
  assert.equal(err.detail, "scope shared is not yours");
  assert.equal(err.requestId, "r1");
  assert.equal(err.message, "scope shared is not yours");
});

test("a failure that is not JSON is a ProblemError from the status line", async (t) => {
  fakeFetch(t, () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "Content-Type": "text/html" } }));
  const err = await new MediaCookies({ autoRefresh: false }).refresh().catch((e) => e);
  assert.ok(err instanceof ProblemError);
  assert.equal(err.status, 502);
  assert.equal(err.type, "about:blank");
  assert.equal(err.title, "Bad Gateway");
  assert.equal(err.message, "Bad Gateway");
});

test("refresh is scheduled at refreshAfter", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.UTC(2026, 0, 1) });
  const calls = fakeFetch(t, () => jsonResponse(200, answer({ refreshIn: 480, expiresIn: 600 })));
  const media = new MediaCookies();
  t.after(() => media.stop());
  await media.refresh();
  t.mock.timers.tick(479_999);
  assert.equal(posts(calls), 1);
  t.mock.timers.tick(1);
  assert.equal(posts(calls), 2);
});

test("a browser clock ahead of the server's waits expiresAt - refreshAfter, not 0", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.UTC(2026, 0, 1) });
  // The server's refreshAfter is already past on this clock; the margin is 120 s.
  const calls = fakeFetch(t, () => jsonResponse(200, answer({ refreshIn: -10, expiresIn: 110 })));
  const media = new MediaCookies();
  t.after(() => media.stop());
  await media.refresh();
  t.mock.timers.tick(119_999);
  assert.equal(posts(calls), 1);
  t.mock.timers.tick(1);
  assert.equal(posts(calls), 2);
});

test("never sooner than a second", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.UTC(2026, 0, 1) });
  const calls = fakeFetch(t, () => jsonResponse(200, answer({ refreshIn: 0, expiresIn: 0 })));
  const media = new MediaCookies();
  t.after(() => media.stop());
  await media.refresh();
  t.mock.timers.tick(999);
  assert.equal(posts(calls), 1);
  t.mock.timers.tick(1);
  assert.equal(posts(calls), 2);
});

test("a failed scheduled refresh dispatches error and tries again in 5 s while the cookies last", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.UTC(2026, 0, 1) });
  let n = 0;
  const calls = fakeFetch(t, () => (++n === 1 ? jsonResponse(200, answer({ refreshIn: 60, expiresIn: 70 })) : jsonResponse(503, { title: "Service Unavailable", status: 503 })));
  const media = new MediaCookies();
  t.after(() => media.stop());
  const errors = [];
  media.addEventListener("error", (e) => errors.push(e.detail));
  await media.refresh();
  t.mock.timers.tick(60_000);
  assert.equal(posts(calls), 2);
  await until(() => errors.length === 1, "error event");
  assert.ok(errors[0] instanceof ProblemError);
  assert.equal(errors[0].status, 503);
  t.mock.timers.tick(4_999);
  assert.equal(posts(calls), 2);
  t.mock.timers.tick(1);
  assert.equal(posts(calls), 3, "retried 5 s later, 5 s before expiry");
  await until(() => errors.length === 2, "second error event");
  t.mock.timers.tick(60_000);
  assert.equal(posts(calls), 3, "no retry once the cookies expire within 5 s");
});

test("autoRefresh: false schedules nothing, and stop cancels", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.UTC(2026, 0, 1) });
  const calls = fakeFetch(t);
  await new MediaCookies({ autoRefresh: false }).refresh();
  const stopped = new MediaCookies();
  await stopped.refresh();
  stopped.stop();
  t.mock.timers.tick(3_600_000);
  assert.equal(posts(calls), 2);
});

test("fetch: while signed in, a 403 refreshes and tries once more", async (t) => {
  let gets = 0;
  const calls = fakeFetch(t, (call) => (call.method === "GET" ? new Response("", { status: ++gets === 1 ? 403 : 200 }) : defaultHandler(call)));
  const media = new MediaCookies({ autoRefresh: false });
  const retries = [];
  media.addEventListener("retry", (e) => retries.push(e.detail.url));
  await media.refresh();
  const res = await media.fetch("https://media.example.test/media/dev/a.json", { headers: { Accept: "application/json" } });
  assert.equal(res.status, 200);
  assert.deepEqual(calls.map((c) => c.method), ["POST", "GET", "POST", "GET"]);
  assert.equal(calls[1].init.credentials, "include");
  assert.deepEqual(calls[3].init.headers, { Accept: "application/json" });
  assert.deepEqual(retries, ["https://media.example.test/media/dev/a.json"]);
});

test("fetch: a second 403 is returned, not retried again", async (t) => {
  const calls = fakeFetch(t, (call) => (call.method === "GET" ? new Response("", { status: 403 }) : defaultHandler(call)));
  const media = new MediaCookies({ autoRefresh: false });
  await media.refresh();
  const res = await media.fetch("https://media.example.test/media/dev/a.json");
  assert.equal(res.status, 403);
  assert.deepEqual(calls.map((c) => c.method), ["POST", "GET", "POST", "GET"]);
});

test("fetch: a TypeError (a cross-origin 403) refreshes and tries once more", async (t) => {
  let gets = 0;
  const calls = fakeFetch(t, (call) => {
    if (call.method !== "GET") return defaultHandler(call);
    if (++gets === 1) throw new TypeError("Failed to fetch");
    return new Response("ok");
  });
  const media = new MediaCookies({ autoRefresh: false });
  await media.refresh();
  assert.equal(await (await media.fetch("https://media.example.test/media/dev/a.json")).text(), "ok");
  assert.equal(posts(calls), 2);
});

test("fetch: other answers and errors pass through", async (t) => {
  const abort = new DOMException("aborted", "AbortError");
  const calls = fakeFetch(t, (call) => {
    if (call.method !== "GET") return defaultHandler(call);
    if (call.url.endsWith("/404")) return new Response("", { status: 404 });
    throw abort;
  });
  const media = new MediaCookies({ autoRefresh: false });
  await media.refresh();
  assert.equal((await media.fetch("https://media.example.test/404")).status, 404);
  await assert.rejects(media.fetch("https://media.example.test/abort"), (e) => e === abort);
  assert.equal(posts(calls), 1);
});

test("fetch: signed out, a 403 or a TypeError is not retried", async (t) => {
  const calls = fakeFetch(t, (call) => {
    if (call.method !== "GET") return defaultHandler(call);
    if (call.url.endsWith("/403")) return new Response("", { status: 403 });
    throw new TypeError("Failed to fetch");
  });
  const media = new MediaCookies({ autoRefresh: false });
  assert.equal((await media.fetch("https://media.example.test/403")).status, 403);
  await assert.rejects(media.fetch("https://media.example.test/x"), TypeError);
  await media.refresh();
  await media.logout();
  assert.equal((await media.fetch("https://media.example.test/403")).status, 403);
  assert.deepEqual(calls.map((c) => c.method), ["GET", "GET", "POST", "DELETE", "GET"]);
});

test("logout DELETEs with credentials, forgets the answer and stops refreshing", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.UTC(2026, 0, 1) });
  const calls = fakeFetch(t);
  const media = new MediaCookies({ baseURL: "https://api.example.test" });
  await media.refresh();
  await media.logout();
  assert.equal(media.current, null);
  assert.equal(calls[1].method, "DELETE");
  assert.equal(calls[1].url, "https://api.example.test/auth/media-cookies");
  assert.equal(calls[1].init.credentials, "include");
  t.mock.timers.tick(3_600_000);
  assert.equal(posts(calls), 1);
});

test("logout waits for a refresh in flight, so that its cookies do not land after the DELETE", async (t) => {
  const order = [];
  let release;
  const gate = new Promise((r) => {
    release = r;
  });
  fakeFetch(t, async (call) => {
    order.push(`${call.method} sent`);
    if (call.method === "POST") await gate;
    order.push(`${call.method} answered`);
    return defaultHandler(call);
  });
  const media = new MediaCookies({ autoRefresh: false });
  const refreshing = media.refresh();
  const out = media.logout();
  release();
  await Promise.all([refreshing, out]);
  assert.deepEqual(order, ["POST sent", "POST answered", "DELETE sent", "DELETE answered"]);
});

test("a failed logout is a ProblemError", async (t) => {
  fakeFetch(t, () => jsonResponse(500, { title: "Internal Server Error", status: 500, detail: "internal error" }, "application/problem+json"));
  await assert.rejects(new MediaCookies({ autoRefresh: false }).logout(), (e) => e instanceof ProblemError && e.status === 500);
});
