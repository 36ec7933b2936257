// SPDX-License-Identifier: AGPL-3.0-or-later
// A service worker that lets a page of the live server be reloaded while the network is down:
// the page, its scripts and the client library come from a cache when the server cannot be
// reached. Registered by registerOfflineCache() (offline.js) with the scope of the page that
// uses it (/demo/, /openlifter/); the server allows that with `Service-Worker-Allowed: /`.
//
// Network first, cache as fallback: online, a page always gets the files the app serves now
// (a new app version is never hidden behind an old cache); offline, it gets the last ones seen.
// Only GETs of this origin are touched; the WebSocket (/live), /health and /admin never are.

const CACHE = 'openlifter-live-offline-v1';
const NEVER = [/^\/live(\/|$)/, /^\/health$/, /^\/admin(\/|$)/];

const cacheable = (url) => url.origin === self.location.origin && !NEVER.some((re) => re.test(url.pathname));

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// The page sends the URLs it was built from (the document, its modules, styles and images):
// they were loaded before this worker controlled the page, so they are fetched once more here.
self.addEventListener('message', (event) => {
  const urls = Array.isArray(event.data?.cacheUrls) ? event.data.cacheUrls : [];
  const port = event.ports[0];
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    let cached = 0;
    for (const u of urls) {
      const url = new URL(u, self.location.href);
      if (!cacheable(url)) continue;
      try {
        const response = await fetch(url, { cache: 'no-store' });
        if (response.ok) {
          await cache.put(url.href, response);
          cached++;
        }
      } catch { /* offline already: keep what the cache has */ }
    }
    port?.postMessage({ cached });
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || !cacheable(url)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(req);
      if (response.ok) await cache.put(req.url, response.clone());
      return response;
    } catch (err) {
      const hit = await cache.match(req.url) ?? await cache.match(req.url, { ignoreSearch: true });
      if (hit) return hit;
      throw err;
    }
  })());
});
