// The service worker: keeps every file of this build (listed by scripts/build-web.mjs) so the
// page opens and trains offline once it has been loaded. Cache first; a new build has a new
// version, installs beside the old one and removes it when it takes over.
declare const __PRECACHE__: string[];
declare const __VERSION__: string;

interface WaitEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchLikeEvent extends WaitEvent {
  readonly request: Request;
  respondWith(r: Promise<Response>): void;
}
interface ServiceWorkerScope {
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', fn: (e: WaitEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchLikeEvent) => void): void;
}

const sw = self as unknown as ServiceWorkerScope;
const PREFIX = 'shadertrain-web-';
const CACHE = `${PREFIX}${__VERSION__}`;

sw.addEventListener('install', (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(__PRECACHE__.map((p) => new URL(p, sw.registration.scope).href)))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== new URL(sw.registration.scope).origin) return;
  e.respondWith(
    caches.open(CACHE).then(async (c) => {
      const hit = await c.match(req, { ignoreSearch: true });
      return hit ?? fetch(req);
    }),
  );
});
