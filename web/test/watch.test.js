// watch: <img>, <video> and <audio> that fail refresh once and reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MediaCookies } from "../cfcookies.js";
import { FakeImage, FakeVideo, answer, deferred, fakeFetch, jsonResponse, posts, settle, until } from "../testutil/fakes.js";

const src = "https://media.example.test/media/dev/hls/index.m3u8";

async function signedIn(t) {
  const calls = fakeFetch(t);
  const media = new MediaCookies({ autoRefresh: false });
  const events = [];
  for (const type of ["retry", "mediaerror"]) media.addEventListener(type, (e) => events.push([type, e.detail]));
  await media.refresh();
  return { media, calls, events };
}

function playingVideo(at) {
  const video = new FakeVideo();
  video.src = src;
  video.srcSets.length = 0;
  video.currentTime = at;
  video.paused = false;
  return video;
}

test("watch: a playing video that fails resumes where it was, playing", async (t) => {
  const { media, calls, events } = await signedIn(t);
  const video = media.watch(playingVideo(17.25));
  video.dispatchEvent(new Event("error"));
  await until(() => video.srcSets.length > 0, "src reassigned");
  assert.deepEqual(video.srcSets, [src]);
  assert.equal(posts(calls), 2);
  assert.deepEqual(events, [["retry", { url: src }]]);
  assert.equal(video.currentTime, 0, "reloading starts over");
  video.dispatchEvent(new Event("loadedmetadata"));
  assert.equal(video.currentTime, 17.25);
  assert.equal(video.plays, 1);
  assert.equal(video.paused, false);
  video.dispatchEvent(new Event("loadedmetadata")); // a later load is the app's
  assert.equal(video.plays, 1);
});

test("watch: a paused video resumes where it was, paused", async (t) => {
  const { media } = await signedIn(t);
  const video = playingVideo(4);
  video.paused = true;
  media.watch(video);
  video.dispatchEvent(new Event("error"));
  await until(() => video.srcSets.length > 0, "src reassigned");
  video.dispatchEvent(new Event("loadedmetadata"));
  assert.equal(video.currentTime, 4);
  assert.equal(video.plays, 0);
});

test("watch: play() refused by the autoplay policy is no unhandled rejection", async (t) => {
  const { media } = await signedIn(t);
  const video = playingVideo(3);
  video.play = () => Promise.reject(new DOMException("no user gesture", "NotAllowedError"));
  media.watch(video);
  video.dispatchEvent(new Event("error"));
  await until(() => video.srcSets.length > 0, "src reassigned");
  video.dispatchEvent(new Event("loadedmetadata"));
  await settle(); // an unhandled rejection would fail this test file
  assert.equal(video.currentTime, 3);
});

test("watch: a second failure without a load gives up, with one refresh", async (t) => {
  const { media, calls, events } = await signedIn(t);
  const video = media.watch(playingVideo(1));
  video.dispatchEvent(new Event("error"));
  await until(() => video.srcSets.length > 0, "src reassigned");
  video.dispatchEvent(new Event("error"));
  await settle();
  assert.equal(posts(calls), 2);
  assert.deepEqual(
    events.map(([type]) => type),
    ["retry", "mediaerror"],
  );
  assert.equal(events[1][1].element, video);
  assert.equal(events[1][1].src, src);
});

test("watch: loadeddata re-arms a video, load an image", async (t) => {
  const { media, calls } = await signedIn(t);
  const video = media.watch(playingVideo(1));
  const img = new FakeImage();
  img.src = "https://media.example.test/media/dev/image.svg";
  media.watch(img);
  for (const [el, loaded] of [[video, "loadeddata"], [img, "load"]]) {
    el.dispatchEvent(new Event("error"));
    await until(() => el.srcSets.length === 2 - (el === video ? 1 : 0), "first retry");
    el.dispatchEvent(new Event(loaded));
    el.dispatchEvent(new Event("error"));
    await until(() => el.srcSets.length === 3 - (el === video ? 1 : 0), "second retry");
  }
  assert.equal(posts(calls), 5, "the sign-in and two refreshes each");
});

test("watch: signed out, a failure gives up at once", async (t) => {
  const calls = fakeFetch(t);
  const media = new MediaCookies({ autoRefresh: false });
  const gaveUp = [];
  media.addEventListener("mediaerror", (e) => gaveUp.push(e.detail.src));
  const video = media.watch(playingVideo(2));
  video.dispatchEvent(new Event("error"));
  await settle();
  assert.equal(calls.length, 0);
  assert.deepEqual(gaveUp, [src]);
});

test("watch: an app that changed src meanwhile keeps its src", async (t) => {
  const gate = deferred();
  let n = 0;
  const calls = fakeFetch(t, ({ method }) => {
    if (method === "POST" && ++n === 2) return gate.promise;
    return jsonResponse(200, answer());
  });
  const media = new MediaCookies({ autoRefresh: false });
  await media.refresh();
  const video = media.watch(playingVideo(5));
  video.dispatchEvent(new Event("error"));
  video.src = "https://media.example.test/media/dev/other.mp4";
  gate.resolve(jsonResponse(200, answer()));
  await until(() => posts(calls) === 2, "refresh");
  await settle();
  assert.deepEqual(video.srcSets, ["https://media.example.test/media/dev/other.mp4"]);
});
