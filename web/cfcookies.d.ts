// Type declarations of cfcookies.js. hls.js is typed structurally (HlsLike,
// HlsErrorData): this package depends on no hls.js types.

/** A grant of the answer: one scope's resource and the Path of its cookies. */
export interface Grant {
  scope: string;
  resource: string;
  cookiePath: string;
}

/** The answer of POST /auth/media-cookies. */
export interface MediaCookiesAnswer {
  /** RFC 3339: when the policy and the cookies expire. */
  expiresAt: string;
  /** RFC 3339: when to ask again. */
  refreshAfter: string;
  grants: Grant[];
}

/** An application/problem+json body (RFC 9457) as cfcookies writes it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  requestId?: string;
}

/** A failed answer of cfcookies. */
export declare class ProblemError extends Error {
  constructor(status: number, problem?: Problem);
  readonly name: "ProblemError";
  status: number;
  /** The problem type URI, "about:blank" when the body had none. */
  type: string;
  title: string;
  detail: string;
  requestId: string;
}

export type HeadersObject = Record<string, string>;

export interface MediaCookiesOptions {
  /** Where cfcookies answers; "" (default) for the page's origin. */
  baseURL?: string;
  /** Sent with POST: an object, or a function (may be async) returning one. */
  headers?: HeadersObject | (() => HeadersObject | Promise<HeadersObject>);
  /** Scope names to ask for; default every entitled scope. */
  scopes?: string[];
  /** Refresh at refreshAfter (default true). */
  autoRefresh?: boolean;
}

/** The data of an hls.js ERROR event, as far as attachHls reads it. */
export interface HlsErrorData {
  type?: string;
  details: string;
  fatal: boolean;
  url?: string;
  error?: Error;
  response?: { code: number; text?: string; url?: string };
  context?: { url?: string };
  frag?: { url?: string };
}

/** What attachHls needs of an hls.js instance (hls.js's Hls fits). */
export interface HlsLike {
  on(event: string, listener: (event: string, data: any) => void): void;
  off(event: string, listener: (event: string, data: any) => void): void;
  loadSource(url: string): void;
  startLoad(startPosition?: number): void;
  readonly media?: HTMLMediaElement | null;
}

/** The hls.js loader hooks hlsConfig sets. */
export interface HlsCredentialsConfig {
  xhrSetup(xhr: XMLHttpRequest, url: string): void | Promise<void>;
  fetchSetup(context: { url: string }, initParams: RequestInit): Request | Promise<Request>;
}

export interface RetryDetail {
  url: string;
}

export interface MediaErrorDetail {
  /** The watched element, or hls.media for hls.js (null when detached). */
  element: HTMLImageElement | HTMLMediaElement | null;
  src: string;
  /** Why, when known: the failed refresh's error, or hls.js's. */
  error?: unknown;
}

export interface MediaCookiesEventMap {
  refresh: CustomEvent<MediaCookiesAnswer>;
  retry: CustomEvent<RetryDetail>;
  mediaerror: CustomEvent<MediaErrorDetail>;
  error: CustomEvent<unknown>;
}

/** Keeps the CloudFront signed cookies of a single-page app fresh. */
export declare class MediaCookies extends EventTarget {
  constructor(options?: MediaCookiesOptions);
  /** The last answer, null before the first refresh and after logout. */
  readonly current: MediaCookiesAnswer | null;
  /** POST /auth/media-cookies; calls while one is in flight share it. */
  refresh(): Promise<MediaCookiesAnswer>;
  /** Cancels the scheduled refresh. */
  stop(): void;
  /** Stops refreshing and DELETEs /auth/media-cookies. */
  logout(): Promise<void>;
  /** fetch with credentials: "include"; while signed in, a 403 or a TypeError refreshes and tries once more. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** Refreshes and reloads an element once when its src fails while signed in; returns the element. */
  watch<E extends HTMLImageElement | HTMLMediaElement>(element: E): E;
  /** A new hls.js config: config plus xhrSetup and fetchSetup that send cookies (the caller's run first). */
  hlsConfig<C extends object = {}>(config?: C & Partial<HlsCredentialsConfig>): Omit<C, keyof HlsCredentialsConfig> & HlsCredentialsConfig;
  /** Refreshes once and resumes when hls.js is denied a playlist or segment while signed in; returns a function that detaches. */
  attachHls(hls: HlsLike): () => void;

  addEventListener<K extends keyof MediaCookiesEventMap>(
    type: K,
    listener: (this: MediaCookies, ev: MediaCookiesEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof MediaCookiesEventMap>(
    type: K,
    listener: (this: MediaCookies, ev: MediaCookiesEventMap[K]) => any,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
