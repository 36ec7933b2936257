// SPDX-License-Identifier: AGPL-3.0-or-later
// Setup shared by the unit tests: the meet's password and locations, a LiveClient on the fake
// server, and a "table" (client + Redux adapter + OpenLifter-shaped store) for the adapter tests.
import { LiveClient } from '../../../resources/web/lib/sync-client.js';
import { MemoryStore } from '../../../resources/web/lib/storage.js';
import { createLiveAdapter } from '../../../resources/web/lib/redux-adapter.js';
import { applyMiddleware, createStore } from '../../../resources/web/demo/mini-redux.js';
import { newDefaultEntry, rootReducer } from '../../../resources/web/demo/openlifter-model.js';
import { until } from './fake-server.js';

export const PASSWORD = 'correct horse battery';
export const ENDPOINTS = [
  { locationName: 'Platform A', priority: 10 },
  { locationName: 'Weigh-in', priority: 5 },
  { locationName: 'Board', priority: 0 },
];

/** A LiveClient on the fake server, reconnecting quickly. */
export function openClient(server, store = new MemoryStore()) {
  return LiveClient.open({ url: 'ws://fake/live', store, WebSocket: server.WebSocket, window: null,
    reconnectDelayMs: 2, reconnectMaxDelayMs: 20 });
}

/** A client, its adapter and a store wired as OpenLifter would wire them. */
export async function table(server) {
  const client = await openClient(server);
  const adapter = createLiveAdapter({ client, newEntry: newDefaultEntry });
  const store = createStore(adapter.wrapReducer(rootReducer), applyMiddleware(adapter.middleware));
  return { client, adapter, store, dispatch: store.dispatch, state: () => store.getState() };
}

/** Waits until every table is synced, has nothing pending or claimed and is at the same seq. */
export async function settled(...tables) {
  await until(() => tables.every((t) => t.client.pendingCount === 0 && t.client.synced && !t.client.outOfSync
    && t.adapter.idBlocks().claims.length === 0)
    && new Set(tables.map((t) => t.client.lastServerSeq)).size === 1);
}

/** The keys of every UPDATE_INIT the server received from message `from` on. */
export const sentKeys = (server, from = 0) => server.received.slice(from).filter((m) => m.msgType === 'UPDATE_INIT')
  .flatMap((m) => m.updates.map((u) => u.updateKey));
