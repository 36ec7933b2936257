// SPDX-License-Identifier: AGPL-3.0-or-later
// OpenLifter Live's browser library, one import:
//
//   import { connectLive, defineLivePanel } from '/lib/openlifter-live.js';
//
// Plain ES modules, no build step; served by the live server at /lib/. See
// docs/openlifter-integration.md for wiring it into OpenLifter's store.

import { LiveClient } from './sync-client.js';
import { createLiveAdapter } from './redux-adapter.js';

export {
  LiveClient, Status, newClientId, normalizeMeetId, displayMeetId, defaultServerUrl, displayTokenFromUrl, isDisplayToken,
  DISPLAY_LINK_REVOKED,
} from './sync-client.js';
export { createLiveAdapter, diffState, projectState, buildLookup, APPLY, ID_BLOCK_BASE, ID_BLOCK_SIZE } from './redux-adapter.js';
export { MemoryStore, IdbStore, defaultStore } from './storage.js';
export { parseKey, applyUpdate, valueAt, deepEqual } from './keypath.js';
export { LivePanel, defineLivePanel } from './live-panel.js';
export { registerOfflineCache } from './offline.js';

/**
 * A client and its Redux adapter, ready to be put into a store whose creation cannot wait:
 * the middleware and the reducer wrapper work at once (passing everything through while the
 * browser is not live), and `ready` resolves once IndexedDB is read, the store is brought up to
 * the meet this browser had and the socket is reconnecting.
 * @param {object} [options] LiveClient options (url, store, ...) plus createLiveAdapter options
 */
export function connectLive(options = {}) {
  const client = new LiveClient(options);
  const adapter = createLiveAdapter({ ...options, client });
  const ready = client.load().then(() => {
    if (client.hasSession) client.setOnline(true);
    adapter.applyNow();
    return adapter;
  });
  return { client, adapter, ready };
}
