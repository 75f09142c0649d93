// probe.js is what the browser tests run in a page of the SPA origin. Each
// function resolves to plain JSON describing what the page saw: whether an
// image decoded, a fetch status or the name of the error fetch threw, the
// fields of a problem. Never a cookie value: the cookies are HttpOnly.
window.probe = (() => {
  let media = null; // the MediaCookies helper under test
  let counts = {};
  let loads = 0;
  let player = null; // the <video> of video(), its hls.js and what they did
  // fresh gives each load its own query, so the browser asks the CDN
  // instead of reusing an image or a response it already has. The grants'
  // trailing * covers the query, as CloudFront's does.
  const fresh = (url) => `${url}${url.includes("?") ? "&" : "?"}load=${++loads}`;
  const errorOf = (err) => ({
    name: err.name,
    status: err.status ?? 0,
    type: err.type ?? "",
    title: err.title ?? "",
  });

  return {
    // start imports the SPA's cfcookies.js and makes a helper with
    // options, replacing the previous one; its events are counted.
    async start(options) {
      const { MediaCookies } = await import("/cfcookies.js");
      media?.stop();
      media = new MediaCookies(options);
      counts = { refresh: 0, retry: 0, mediaerror: 0, error: 0 };
      for (const name of Object.keys(counts)) media.addEventListener(name, () => counts[name]++);
      return true;
    },

    counts: () => ({ ...counts }),

    async refresh() {
      try {
        return { ok: true, answer: await media.refresh() };
      } catch (err) {
        return { ok: false, error: errorOf(err) };
      }
    },

    // burst calls refresh n times at once and says how many distinct
    // answers came back.
    async burst(n) {
      const answers = await Promise.all(Array.from({ length: n }, () => media.refresh()));
      return new Set(answers).size;
    },

    async logout() {
      try {
        await media.logout();
        return { ok: true };
      } catch (err) {
        return { ok: false, error: errorOf(err) };
      }
    },

    // img loads url in a new <img>, watched by the helper when watch is
    // true, and says whether it decoded; a watched image that fails is
    // settled by the helper's "mediaerror" event, after its one retry.
    img(url, watch) {
      return new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve({ loaded: true, width: img.naturalWidth });
        if (watch) {
          media.watch(img);
          media.addEventListener("mediaerror", (e) => {
            if (e.detail.element === img) resolve({ loaded: false, width: 0 });
          });
        } else {
          img.onerror = () => resolve({ loaded: false, width: 0 });
        }
        img.src = fresh(url);
      });
    },

    // fetch GETs url with credentials, through the helper when viaHelper
    // is true, and gives the status, or the name of the error fetch threw
    // (TypeError when the browser hides the response).
    async fetch(url, viaHelper) {
      try {
        url = fresh(url);
        const res = await (viaHelper ? media.fetch(url) : fetch(url, { credentials: "include" }));
        const body = await res.arrayBuffer();
        return { status: res.status, bytes: body.byteLength, error: "" };
      } catch (err) {
        return { status: 0, bytes: 0, error: err.name };
      }
    },

    // video plays the HLS stream at url with the vendored hls.js in a new
    // muted <video>, replacing the previous one: the helper's hlsConfig
    // (cookies sent cross-origin) over config, and attachHls (a denial
    // refreshes once). It resolves once loading started; videoState says
    // what happened since.
    async video(url, config) {
      const { default: Hls } = await import("/vendor/hls.js/hls.light.mjs");
      player?.hls.destroy();
      player?.element.remove();
      const element = document.createElement("video");
      element.muted = true;
      document.body.append(element);
      const hls = new Hls(media.hlsConfig(config));
      const state = { errors: [], fragments: 0, deniedAt: -1, playError: "" };
      player = { element, hls, state };
      media.attachHls(hls);
      hls.on(Hls.Events.ERROR, (_event, data) => {
        const code = data.response?.code ?? -1;
        state.errors.push({ details: data.details, fatal: data.fatal, code });
        if (data.details === "fragLoadError" && state.deniedAt < 0) state.deniedAt = element.currentTime;
      });
      hls.on(Hls.Events.FRAG_LOADED, () => state.fragments++);
      hls.on(Hls.Events.MANIFEST_PARSED, () => element.play().catch((err) => (state.playError = err.name)));
      hls.loadSource(url);
      hls.attachMedia(element);
      return true;
    },

    // videoState is what the <video> of video() and its hls.js did: the
    // playback position, hls.js's errors (details, fatal, response code),
    // how many segments it loaded, the position when a segment first
    // failed to load, and why play() was refused, if it was.
    videoState() {
      if (!player) return null;
      const { element, state } = player;
      return {
        currentTime: element.currentTime,
        paused: element.paused,
        ended: element.ended,
        mediaError: element.error?.code ?? 0,
        ...state,
      };
    },

    // issue POSTs to the endpoint with credentials without the helper, as a
    // hand-written SPA would, and says what the page could read.
    async issue(endpoint, headers) {
      try {
        const res = await fetch(endpoint, { method: "POST", credentials: "include", headers });
        return { status: res.status, bytes: (await res.arrayBuffer()).byteLength, error: "" };
      } catch (err) {
        return { status: 0, bytes: 0, error: err.name };
      }
    },
  };
})();
