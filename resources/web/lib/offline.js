// SPDX-License-Identifier: AGPL-3.0-or-later
// Offline reload for pages served by the live server (the demo, a local OpenLifter build).
//
// A table that loses the network keeps working: its edits are in IndexedDB. But a reload, or a
// browser restart, needs the page itself, and the server is unreachable. A service worker keeps
// a copy of the page and its scripts and serves them when the network is down.
//
// Browsers allow service workers only in secure contexts: https, or http://localhost /
// http://127.0.0.1. A LAN tablet on http://192.168.x.y gets no service worker (the promise
// resolves with {supported:false}); for it, serve the app over https (docs/openlifter-integration.md).

/**
 * Registers the offline cache for this page's scope and stores the page and everything it has
 * loaded so far. Resolves with {supported, cached} once that copy is complete.
 * @param {object} [options]
 * @param {string} [options.scope] the pages to cover (default: this page's directory)
 * @param {string} [options.workerUrl] the worker script (default: offline-sw.js next to this module)
 */
export async function registerOfflineCache(options = {}) {
  if (!globalThis.isSecureContext || !navigator.serviceWorker) return { supported: false, cached: 0 };
  const workerUrl = options.workerUrl ?? new URL('./offline-sw.js', import.meta.url).href;
  const scope = options.scope ?? new URL('./', location.href).pathname;
  await navigator.serviceWorker.register(workerUrl, { scope, type: 'classic' });
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  const urls = [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]
    .filter((u) => new URL(u).origin === location.origin);
  const cached = await new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (ev) => resolve(ev.data?.cached ?? 0);
    worker.postMessage({ cacheUrls: [...new Set(urls)] }, [channel.port2]);
  });
  return { supported: true, cached };
}
