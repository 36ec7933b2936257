// SPDX-License-Identifier: AGPL-3.0-or-later
// Where the sync client keeps what must survive a page reload: its clientId, the session, the
// pending log (own updates the server has not acked), the canonical log (sequenced entries) and
// the recovery outbox (RECOVERY_PUSH messages the server has not answered: their entries already
// left the canonical log, so this is their only copy until the server has them back).
//
// Browsers get IndexedDB (IdbStore); tests and browsers without it get MemoryStore, which has the
// same interface. The meet password is never handed to a store.
//
// Writes are queued and committed in order, several per transaction; `flushed()` resolves once
// everything queued so far is committed. The client never waits for a write before it goes on
// (the UI must not stall on storage), but everything it queues is written in the order it
// happened, so a reload finds a consistent prefix of the client's history.

/**
 * @typedef {object} LoadedState
 * @property {{clientId:string}|undefined} identity
 * @property {object|undefined} session   meet, token, location, role, epoch, counters, extras
 * @property {{seq:number, doc:object, compactedAfter:(number|null)}|undefined} base
 *           state at `seq` from a compacted pull; seqs 1..compactedAfter are held one by one
 * @property {Array<object>} pending      ascending localSeqNum
 * @property {Array<object>} canonical    ascending serverSeqNum
 * @property {Array<{epoch:string, entries:Array<object>}>} outbox   unanswered RECOVERY_PUSH
 *           messages (without msgType and token), oldest first
 */

/** In-memory store: the same interface as IdbStore, for tests and as a fallback. */
export class MemoryStore {
  constructor() {
    this._identity = undefined;
    this._session = undefined;
    this._base = undefined;
    this._pending = new Map();
    this._canonical = new Map();
    this._outbox = [];
  }

  /** @returns {Promise<LoadedState>} */
  async load() {
    const clone = (v) => (v === undefined ? undefined : structuredClone(v));
    return {
      identity: clone(this._identity),
      session: clone(this._session),
      base: clone(this._base),
      pending: [...this._pending.values()].sort((a, b) => a.localSeqNum - b.localSeqNum).map(clone),
      canonical: [...this._canonical.values()].sort((a, b) => a.serverSeqNum - b.serverSeqNum).map(clone),
      outbox: this._outbox.map(clone),
    };
  }

  putIdentity(identity) { this._identity = structuredClone(identity); }
  putSession(session) { this._session = session === undefined ? undefined : structuredClone(session); }
  putBase(base) { this._base = base === undefined ? undefined : structuredClone(base); }
  /** Replaces the whole recovery outbox (it is short: one message per 1000 lost entries). */
  putOutbox(list) { this._outbox = (list ?? []).map((m) => structuredClone(m)); }
  putPending(list) { for (const p of list) this._pending.set(p.localSeqNum, structuredClone(p)); }
  deletePending(localSeqNums) { for (const n of localSeqNums) this._pending.delete(n); }
  putCanonical(list) { for (const e of list) this._canonical.set(e.serverSeqNum, structuredClone(e)); }
  deleteCanonicalAbove(seq) {
    for (const k of [...this._canonical.keys()]) if (k > seq) this._canonical.delete(k);
  }
  clearLogs() {
    this._pending.clear();
    this._canonical.clear();
    this._base = undefined;
    this._outbox = [];
  }
  /** The canonical log and its base only: pending updates and the outbox stay. */
  clearCanonical() {
    this._canonical.clear();
    this._base = undefined;
  }
  flushed() { return Promise.resolve(); }
  close() {}
}

const STORES = ['meta', 'pending', 'canonical'];

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** IndexedDB store. One database per name; one meet at a time. */
export class IdbStore {
  /**
   * @param {string} name database name; one per origin is enough (the clientId is per browser)
   * @param {IDBFactory} [idb]
   */
  constructor(name = 'openlifter-live', idb = globalThis.indexedDB) {
    this._name = name;
    this._idb = idb;
    this._db = null;
    this._queue = [];
    this._scheduled = false;
    this._last = Promise.resolve();
    this.lastError = null;
  }

  async _open() {
    if (this._db) return this._db;
    const req = this._idb.open(this._name, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('meta');
      db.createObjectStore('pending', { keyPath: 'localSeqNum' });
      db.createObjectStore('canonical', { keyPath: 'serverSeqNum' });
    };
    this._db = await promisify(req);
    return this._db;
  }

  /** @returns {Promise<LoadedState>} */
  async load() {
    const db = await this._open();
    const tx = db.transaction(STORES, 'readonly');
    const meta = tx.objectStore('meta');
    const [identity, session, base, pending, canonical, outbox] = await Promise.all([
      promisify(meta.get('identity')),
      promisify(meta.get('session')),
      promisify(meta.get('base')),
      promisify(tx.objectStore('pending').getAll()),
      promisify(tx.objectStore('canonical').getAll()),
      promisify(meta.get('outbox')),
    ]);
    // getAll() returns key order
    return { identity, session, base, pending, canonical, outbox: Array.isArray(outbox) ? outbox : [] };
  }

  _enqueue(op) {
    this._queue.push(op);
    if (this._scheduled) return;
    this._scheduled = true;
    // Everything queued in this task goes into one transaction, in order.
    queueMicrotask(() => {
      this._scheduled = false;
      const ops = this._queue;
      this._queue = [];
      this._last = this._last.then(() => this._commit(ops));
    });
  }

  async _commit(ops) {
    try {
      const db = await this._open();
      const tx = db.transaction(STORES, 'readwrite');
      for (const op of ops) op(tx);
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } catch (err) {
      // Storage full or the database deleted under us: keep running from memory and say so.
      this.lastError = err;
    }
  }

  putIdentity(identity) { this._enqueue((tx) => tx.objectStore('meta').put(identity, 'identity')); }
  putSession(session) {
    this._enqueue((tx) => (session === undefined ? tx.objectStore('meta').delete('session')
      : tx.objectStore('meta').put(session, 'session')));
  }
  putBase(base) {
    this._enqueue((tx) => (base === undefined ? tx.objectStore('meta').delete('base')
      : tx.objectStore('meta').put(base, 'base')));
  }
  /** Replaces the whole recovery outbox, in the same transaction as the writes queued with it. */
  putOutbox(list) {
    const copy = (list ?? []).slice();
    this._enqueue((tx) => (copy.length === 0 ? tx.objectStore('meta').delete('outbox')
      : tx.objectStore('meta').put(copy, 'outbox')));
  }
  putPending(list) { this._enqueue((tx) => { for (const p of list) tx.objectStore('pending').put(p); }); }
  deletePending(localSeqNums) {
    this._enqueue((tx) => { for (const n of localSeqNums) tx.objectStore('pending').delete(n); });
  }
  putCanonical(list) { this._enqueue((tx) => { for (const e of list) tx.objectStore('canonical').put(e); }); }
  deleteCanonicalAbove(seq) {
    this._enqueue((tx) => tx.objectStore('canonical').delete(IDBKeyRange.lowerBound(seq, true)));
  }
  clearLogs() {
    this._enqueue((tx) => {
      tx.objectStore('pending').clear();
      tx.objectStore('canonical').clear();
      tx.objectStore('meta').delete('base');
      tx.objectStore('meta').delete('outbox');
    });
  }
  clearCanonical() {
    this._enqueue((tx) => {
      tx.objectStore('canonical').clear();
      tx.objectStore('meta').delete('base');
    });
  }

  /** Resolves when every write queued before this call is committed. */
  flushed() {
    return new Promise((resolve) => queueMicrotask(() => resolve(this._last)));
  }

  close() {
    if (this._db) this._db.close();
    this._db = null;
  }
}

/** The store a browser should use: IndexedDB when it exists, memory otherwise. */
export function defaultStore(name) {
  return globalThis.indexedDB ? new IdbStore(name) : new MemoryStore();
}
