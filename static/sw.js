// Responder's service worker, served from /sw.js so its scope is the whole app.
//
// It keeps ONLY the app shell: styles, scripts, icons, the offline page (with the
// teams' public phone lines) and the
// plan-card checking kit (published keys, the signed revocation list, the
// offline check page and its script). Plans, search results and API answers are
// never put in Cache Storage: everything that is not on the list below goes to
// the network and nowhere else. The server stamps the version below.

const VERSION = "__SHELL_VERSION__";
const CACHE = `responder-shell-${VERSION}`;
const OFFLINE_PAGE = "/offline";

// The shell, cached on install. Anything else is network-only.
const SHELL = [
  OFFLINE_PAGE,
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/js/open-now.js",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/manifest.webmanifest",
];

// The plan-card checking kit: refreshed from the network when online (a
// revocation must reach the phone), served from the cache when offline.
const CARD_KIT = [
  "/.well-known/plan-card-keys.json",
  "/cards/revoked.json",
  "/cards/check",
  "/static/js/card-verify.js",
];

const CACHED = new Set([...SHELL, ...CARD_KIT]);

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" })));
      // The card kit is optional: a deployment without cards still installs.
      await Promise.all(
        CARD_KIT.map((path) =>
          cache.add(new Request(path, { cache: "reload" })).catch(() => undefined),
        ),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

const forget = async () => {
  for (const name of await caches.keys()) await caches.delete(name);
  await self.registration.unregister();
};

// The page says so when the user signs out.
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "sign-out") event.waitUntil(forget());
});

const networkFirst = async (request, path) => {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(path, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(path);
    if (cached) return cached;
    throw error;
  }
};

const cacheFirst = async (request, path) => {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(path);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(path, response.clone());
  return response;
};

// A plan card's own link (/C/<token>): with no signal the cached checker answers
// it, and its script reads the card from the address, so the scanned code is
// checked at once instead of landing on an empty field.
const CARD_LINK = /^\/c\/[a-z2-7]+\/?$/i;

// The offline page lists which team line is open when; refresh the copy once
// per start while there is signal, so a changed number reaches the phone.
let offlinePageFresh = false;

const navigate = async (request) => {
  try {
    const response = await fetch(request);
    // A sign-out answer clears the site's data: follow it here as well.
    if (response.headers.has("Clear-Site-Data")) {
      await forget();
    } else if (!offlinePageFresh) {
      offlinePageFresh = true;
      caches
        .open(CACHE)
        .then((cache) => cache.add(new Request(OFFLINE_PAGE, { cache: "reload" })))
        .catch(() => undefined);
    }
    return response;
  } catch {
    const cache = await caches.open(CACHE);
    if (CARD_LINK.test(new URL(request.url).pathname)) {
      const checker = await cache.match("/cards/check");
      if (checker) return checker;
    }
    return (await cache.match(OFFLINE_PAGE)) || Response.error();
  }
};

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname === "/cards/check") {
      event.respondWith(networkFirst(request, url.pathname));
    } else {
      event.respondWith(navigate(request));
    }
    return;
  }
  if (url.search || !CACHED.has(url.pathname)) return; // network only
  if (CARD_KIT.includes(url.pathname)) {
    event.respondWith(networkFirst(request, url.pathname));
  } else {
    event.respondWith(cacheFirst(request, url.pathname));
  }
});
