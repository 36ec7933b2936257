// SPDX-License-Identifier: AGPL-3.0-or-later
// Connects OpenLifter's Redux store to a LiveClient (DESIGN.md §5,
// shared research note on OpenLifter's state, §1-§3 and §9).
//
// Outgoing: a middleware compares, after every action, the synced part of the Redux state with
// the client's local document (canonical log + pending updates) and turns the differences into
// update keys. Comparing with the client's own copy, not with the previous Redux state, matters:
// OpenLifter's ENTER_ATTEMPT reducer changes the old entry object in place, so "previous state"
// already holds the new value and a before/after diff would see nothing.
//
// Incoming: whenever the client's local document changes for any other reason (relays, pulls,
// rejections, the rebase), the adapter dispatches ONE action, `OPENLIFTER_LIVE/APPLY`, and the
// reducer wrapper copies the synced slices into the store, reusing unchanged objects.
//
// What is synced, and how (keys as in docs/protocol.md §7):
// - `versions`: whole value.
// - `meet`: one key per member, `meet.<field>`; arrays (`meet.plates`, `meet.divisions`,
//   weight classes, `platformsOnDays`) as whole values. SET_IN_KG thus becomes 5 keys.
// - `registration.entries`: addressed by id, never by index: a new entry is
//   `registration.entries[id=N]` (whole entry), a deleted one `registration.entries[id=N] = null`,
//   a changed field `registration.entries[id=N].<field>`; the attempt and status arrays per
//   attempt (`registration.entries[id=N].squatKg[1]`) so two tables entering different attempts
//   do not collide; other arrays (divisions, events) whole.
// - `registration.lookup` is derived: never sent, rebuilt here after every incoming change.
// - `registration.nextEntryId` is local: every client allocates entry ids from blocks of its own,
//   so two clients adding lifters at once never take the same id (below).
// - Load from file / New meet (OVERWRITE_STORE): `versions`, `meet`, `registration` as whole
//   slices.
// - `lifting` is each scoring table's own view: never synced, never overwritten by another table.
//   A table publishes it for its platform as `live.platforms[id=<platform>]` for boards and
//   overlays when it acts on the Lifting page (SET_LIFTING_GROUP, OVERRIDE_ATTEMPT,
//   OVERRIDE_ENTRY_ID, MARK_LIFT), and afterwards keeps its publication current for as long as
//   it is the table that published it last. Any other action (a weigh-in table loading a file,
//   whose `lifting` is whatever the file held) never replaces another table's publication.
// - `language` and `lifting.columnDivisionWidthPx` stay local.
//
// Entry-id blocks: the client writes a claim `live.idBlockClaims.c<clientId>` and the server
// sequences it; the claim's serverSeqNum s gives the client the ids
// ID_BLOCK_BASE + s*ID_BLOCK_SIZE ... + ID_BLOCK_SIZE-1. Sequence numbers are unique in a meet, so
// blocks never overlap, and every client can tell whose block an id is in.

import { deepEqual, idKey, jsonClone, reconcile, valueAt } from './keypath.js';

export const APPLY = 'OPENLIFTER_LIVE/APPLY';
export const ID_BLOCK_BASE = 1000000;
export const ID_BLOCK_SIZE = 1000;
/** Claim a new block when fewer ids than this are left. */
const ID_BLOCK_LOW_WATER = 200;
/**
 * Ids used before the first block arrives (a client that adds a lifter in the moment between
 * going live and its claim's ack): a random range far above every block, so that a collision
 * needs two clients to draw the same 41-bit number.
 */
const PROVISIONAL_BASE = 2 ** 52;

/** Entry fields holding one value per attempt: synced per attempt, not as whole arrays. */
export const ATTEMPT_FIELDS = Object.freeze(['squatKg', 'benchKg', 'deadliftKg', 'squatStatus', 'benchStatus',
  'deadliftStatus']);
/** The lifting fields a table publishes for its platform (the column width stays local). */
export const PUBLISHED_LIFTING_FIELDS = Object.freeze(['day', 'platform', 'flight', 'lift', 'overrideAttempt',
  'overrideEntryId']);

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
/** A member name a key can address with `.name` (docs/protocol.md §7). */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const hasNumericIds = (arr) => Array.isArray(arr) && arr.every((e) => isObject(e) && Number.isSafeInteger(e.id)
  && e.id >= 0);

/** `registration.lookup` from `entries`: id (as a string key) -> index. */
export function buildLookup(entries) {
  const lookup = {};
  entries.forEach((e, i) => { lookup[String(e.id)] = i; });
  return lookup;
}

/** The synced part of an OpenLifter state, shaped like the meet document. */
export function projectState(state) {
  const out = {};
  if (state.versions !== undefined) out.versions = state.versions;
  if (state.meet !== undefined) out.meet = state.meet;
  if (state.registration !== undefined) out.registration = { entries: state.registration.entries };
  return out;
}

/**
 * Update keys that turn `doc` (the client's document) into `state` (OpenLifter's Redux state)
 * for the synced slices. `skipMissing`: slices the document does not have yet are left alone (a
 * client that has joined but not pulled yet must not publish its own old meet).
 * @returns {Array<[string, *]>}
 */
export function diffState(state, doc, { skipMissing = false } = {}) {
  const mine = projectState(state);
  const theirs = isObject(doc) ? doc : {};
  const out = [];
  for (const slice of ['versions', 'meet', 'registration']) {
    if (!(slice in mine) || mine[slice] === undefined) continue;
    const a = mine[slice];
    const b = theirs[slice];
    if (b === undefined) {
      if (!skipMissing) out.push([slice, a]);
      continue;
    }
    if (slice === 'versions' || !isObject(a) || !isObject(b)) {
      if (!deepEqual(a, b)) out.push([slice, a]);
      continue;
    }
    if (slice === 'meet') {
      diffObjectMembers('meet', a, b, out);
      continue;
    }
    diffEntries(a.entries, b.entries, out);
  }
  return out;
}

function diffObjectMembers(prefix, a, b, out) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (!FIELD_NAME.test(k)) continue; // not addressable; OpenLifter has none
    const va = a[k];
    const vb = b[k];
    if (va === undefined && vb === undefined) continue;
    if (!deepEqual(va, vb)) out.push([`${prefix}.${k}`, va === undefined ? null : va]);
  }
}

const ENTRIES = 'registration.entries';

function diffEntries(mine, theirs, out) {
  if (!Array.isArray(mine)) return;
  const unique = (arr) => new Set(arr.map((e) => e.id)).size === arr.length;
  if (!hasNumericIds(mine) || !hasNumericIds(theirs) || !unique(mine) || !unique(theirs)) {
    if (!deepEqual(mine, theirs)) out.push([ENTRIES, mine]);
    return;
  }
  const mineIds = new Set(mine.map((e) => e.id));
  const theirsById = new Map(theirs.map((e) => [e.id, e]));
  // The order the keyed updates would give: surviving entries where they are, new ones appended.
  const expected = theirs.filter((e) => mineIds.has(e.id)).map((e) => e.id);
  const added = mine.filter((e) => !theirsById.has(e.id));
  for (const e of added) expected.push(e.id);
  if (expected.some((id, i) => id !== mine[i].id)) {
    out.push([ENTRIES, mine]); // reordered: only the whole array says that
    return;
  }
  for (const e of theirs) if (!mineIds.has(e.id)) out.push([idKey(ENTRIES, e.id), null]);
  for (const e of mine) {
    const t = theirsById.get(e.id);
    if (t) diffEntry(e, t, out);
  }
  for (const e of added) out.push([idKey(ENTRIES, e.id), e]);
}

function diffEntry(mine, theirs, out) {
  const base = idKey(ENTRIES, mine.id);
  // A member that disappeared (OpenLifter's optional `instagram`) can only be removed by
  // writing the whole entry.
  for (const k of Object.keys(theirs)) {
    if (theirs[k] !== undefined && mine[k] === undefined) {
      out.push([base, mine]);
      return;
    }
  }
  for (const k of Object.keys(mine)) {
    const a = mine[k];
    const b = theirs[k];
    if (a === undefined || deepEqual(a, b)) continue;
    if (!FIELD_NAME.test(k)) {
      out.push([base, mine]);
      return;
    }
    if (ATTEMPT_FIELDS.includes(k) && Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((v, i) => { if (!deepEqual(v, b[i])) out.push([`${base}.${k}[${i}]`, v]); });
    } else {
      out.push([`${base}.${k}`, a]);
    }
  }
}

/** The whole-slice updates of a load-from-file or new meet. */
export function wholeSliceUpdates(state) {
  const p = projectState(state);
  return Object.entries(p).filter(([, v]) => v !== undefined);
}

/**
 * Creates the adapter.
 * @param {object} options
 * @param {import('./sync-client.js').LiveClient} options.client
 * @param {(id:number)=>object} [options.newEntry] OpenLifter's default entry for an id; fills in
 *        members an incoming entry lacks (older files, other versions)
 * @param {string[]} [options.wholeSliceActions] actions that replace whole slices
 * @param {string[]} [options.resyncActions] actions after which the client's document wins over
 *        the store (redux-persist's REHYDRATE restores an older copy from localStorage)
 * @param {(state:object)=>object} [options.publishExtra] extra members for the platform's
 *        published lifting (e.g. the current lifter from OpenLifter's getLiftingOrder)
 * @param {string[]} [options.liftingActions] the Lifting page's actions: they make this table
 *        the one that publishes its platform's lifting
 */
export function createLiveAdapter(options) {
  const client = options.client;
  const newEntry = options.newEntry ?? null;
  const wholeSliceActions = new Set(options.wholeSliceActions ?? ['OVERWRITE_STORE']);
  const resyncActions = new Set(options.resyncActions ?? ['persist/REHYDRATE']);
  const publishExtra = options.publishExtra ?? null;
  const liftingActions = new Set(options.liftingActions ?? ['SET_LIFTING_GROUP', 'OVERRIDE_ATTEMPT',
    'OVERRIDE_ENTRY_ID', 'MARK_LIFT']);
  let store = null;
  let applying = false;
  const listeners = [];

  const active = () => !!client.meetId;
  const updating = () => active() && !client.isDisplay;

  // --- entry-id blocks -------------------------------------------------------------------

  const claimKey = () => `live.idBlockClaims.c${client.clientId}`;
  const blocks = () => client.extras.idBlocks ?? { claims: [], ranges: [], provisional: null };

  /** Turns acked claims into id ranges; claims a new block when few ids are left. */
  function refreshBlocks() {
    if (!updating()) return;
    const b = structuredClone(blocks());
    let changed = false;
    for (const c of b.claims.slice()) {
      const s = client.serverSeqOf(c);
      if (s !== null) {
        b.ranges.push({ next: ID_BLOCK_BASE + s * ID_BLOCK_SIZE, end: ID_BLOCK_BASE + (s + 1) * ID_BLOCK_SIZE });
        b.claims = b.claims.filter((x) => x !== c);
        changed = true;
      }
    }
    const left = b.ranges.reduce((n, r) => n + (r.end - r.next), 0);
    if (left < ID_BLOCK_LOW_WATER && b.claims.length === 0) {
      const [seq] = client.updateMany([[claimKey(), { clientId: client.clientId, claim: Date.now() }]]);
      b.claims.push(seq);
      changed = true;
    }
    if (changed) client.setExtra('idBlocks', b);
  }

  /**
   * Reserves `count` consecutive entry ids (MERGE_PLATFORM numbers its entries consecutively
   * from nextEntryId) and returns the first.
   */
  function reserveIds(count) {
    const b = structuredClone(blocks());
    const state = store?.getState();
    const taken = new Set((state?.registration?.entries ?? []).map((e) => e.id));
    let first = null;
    for (const r of b.ranges) {
      while (r.next < r.end && taken.has(r.next)) r.next++;
      if (r.end - r.next >= count) {
        first = r.next;
        r.next += count;
        break;
      }
    }
    b.ranges = b.ranges.filter((r) => r.next < r.end);
    if (first === null) {
      if (b.provisional === null) {
        const r = new Uint32Array(2);
        globalThis.crypto.getRandomValues(r);
        b.provisional = PROVISIONAL_BASE + ((r[0] % 2 ** 19) * 2 ** 22 + (r[1] % 2 ** 22)) * 1024;
      }
      first = b.provisional;
      b.provisional += count;
    }
    client.setExtra('idBlocks', b);
    return first;
  }

  /** The id OpenLifter's reducer should see as nextEntryId (shown nowhere; used on add). */
  function peekNextId() {
    const r = blocks().ranges.find((x) => x.next < x.end);
    return r ? r.next : blocks().provisional ?? null;
  }

  // --- outgoing ----------------------------------------------------------------------------

  function liftingPublication(state) {
    const l = state.lifting;
    if (!isObject(l) || !Number.isSafeInteger(l.platform) || l.platform < 0) return null;
    const value = { id: l.platform };
    for (const f of PUBLISHED_LIFTING_FIELDS) if (l[f] !== undefined) value[f] = l[f];
    value.locationName = client.locationName;
    value.clientId = client.clientId;
    if (publishExtra) Object.assign(value, jsonClone(publishExtra(state)));
    return [idKey('live.platforms', l.platform), value];
  }

  /**
   * Adds this table's publication for its platform to `updates` when it differs from the meet's,
   * and either the action is one of the Lifting page's (this table takes the platform over) or
   * this table is the one that published the platform last (it keeps it current). Comparing with
   * the meet document, not with what was sent last, means a table re-publishes after a reload or
   * a rejected publication, and never sends the same value twice.
   */
  function publishLifting(state, actionType, updates) {
    const pub = liftingPublication(state);
    if (!pub) return;
    const current = valueAt(client.localState, pub[0]);
    const mine = isObject(current) && current.clientId === client.clientId;
    if (!mine && !liftingActions.has(actionType)) return;
    if (!deepEqual(current, pub[1])) updates.push(pub);
  }

  function send(updates) {
    if (updates.length === 0) return;
    client.updateMany(updates);
  }

  // --- incoming ----------------------------------------------------------------------------

  function applyDoc() {
    if (!store || !active()) return;
    applying = true;
    try {
      store.dispatch({ type: APPLY, doc: client.localState, nextEntryId: peekNextId() });
    } finally {
      applying = false;
    }
    // The extra members (the current lifter) depend on the meet: a remote change can change them.
    if (publishExtra && updating()) {
      const updates = [];
      publishLifting(store.getState(), APPLY, updates);
      send(updates);
    }
  }

  /** The reducer wrapper's half of APPLY: copy the synced slices in, rebuild `lookup`. */
  function applyToState(state, doc, nextEntryId) {
    if (!isObject(state) || !isObject(doc)) return state;
    let next = state;
    const set = (k, v) => {
      if (next[k] === v) return;
      if (next === state) next = { ...state };
      next[k] = v;
    };
    if (doc.versions !== undefined) set('versions', reconcile(state.versions, doc.versions));
    if (isObject(doc.meet)) set('meet', reconcile(state.meet, doc.meet));
    if (isObject(doc.registration) && Array.isArray(doc.registration.entries)) {
      let incoming = doc.registration.entries.filter((e) => isObject(e) && Number.isSafeInteger(e.id));
      if (newEntry) incoming = incoming.map((e) => ({ ...newEntry(e.id), ...e }));
      const reg = isObject(state.registration) ? state.registration : {};
      const entries = reconcile(reg.entries, incoming);
      const nextId = nextEntryId ?? reg.nextEntryId;
      if (entries !== reg.entries || reg.nextEntryId !== nextId || !reg.lookup) {
        set('registration', { ...reg, entries, lookup: buildLookup(entries), nextEntryId: nextId });
      }
    }
    return next;
  }

  // --- the two Redux pieces -----------------------------------------------------------------

  /** Reducer wrapper: handles APPLY and hands NEW_REGISTRATION/MERGE_PLATFORM their ids. */
  function wrapReducer(reducer) {
    return (state, action) => {
      if (action && action.type === APPLY) return applyToState(state, action.doc, action.nextEntryId);
      if (action && Number.isSafeInteger(action.liveEntryId) && isObject(state) && isObject(state.registration)) {
        state = { ...state, registration: { ...state.registration, nextEntryId: action.liveEntryId } };
      }
      return reducer(state, action);
    };
  }

  const middleware = (api) => {
    if (!store) attach(api);
    return (next) => (action) => {
      if (!action || action.type === APPLY || !active()) return next(action);
      // Entry ids come from this client's blocks, not from the shared counter.
      if (updating() && (action.type === 'NEW_REGISTRATION' || action.type === 'MERGE_PLATFORM')) {
        const count = action.type === 'MERGE_PLATFORM' ? Math.max(1, action.platformEntries?.length ?? 1) : 1;
        action = { ...action, liveEntryId: reserveIds(count) };
      }
      const result = next(action);
      if (applying) return result;
      const state = api.getState();
      if (resyncActions.has(action.type) || !updating()) {
        // The client's document wins: the store got an older copy (REHYDRATE), or this is a
        // display-only client whose store must only ever show the meet.
        if (!deepEqual(projectState(state), projectState(applyToState(state, client.localState, null)))) applyDoc();
        return result;
      }
      const updates = wholeSliceActions.has(action.type) ? wholeSliceUpdates(state)
        : diffState(state, client.localState, { skipMissing: !client.synced });
      publishLifting(state, action.type, updates);
      send(updates);
      if (action.type === 'NEW_REGISTRATION' || action.type === 'MERGE_PLATFORM') refreshBlocks();
      return result;
    };
  };

  // --- wiring and session helpers ---------------------------------------------------------------

  const onChange = (ev) => { if (ev.detail?.remote) applyDoc(); };
  const onSynced = () => applyDoc();
  const onAcked = () => {
    if (blocks().claims.length) refreshBlocks();
  };
  // A table publishes its lifting when it acts on the Lifting page, not merely by joining: a
  // weigh-in table that joins must not replace what the scoring table of platform 1 published.
  const onLoggedIn = () => refreshBlocks();

  /**
   * Connects the adapter to the store. The middleware does this by itself when the store is
   * built; calling it again with the full store is harmless. Brings the store in line with the
   * client's document when the meet is live.
   */
  function attach(s) {
    if (store === s) return adapter;
    detach();
    store = s;
    client.addEventListener('change', onChange);
    client.addEventListener('synced', onSynced);
    client.addEventListener('acked', onAcked);
    client.addEventListener('loggedin', onLoggedIn);
    listeners.push(() => {
      client.removeEventListener('change', onChange);
      client.removeEventListener('synced', onSynced);
      client.removeEventListener('acked', onAcked);
      client.removeEventListener('loggedin', onLoggedIn);
    });
    // Not at once: attach() runs while Redux builds the middleware, when dispatching is refused.
    queueMicrotask(() => {
      if (store === s && active() && (client.synced || client.lastServerSeq > 0 || client.pendingCount > 0)) {
        applyDoc();
      }
    });
    return adapter;
  }

  function detach() {
    while (listeners.length) listeners.pop()();
  }

  /**
   * Makes the meet in this store live: creates it on the server and publishes the store's meet
   * as whole slices. Resolves with MEET_CREATED.
   */
  async function goLive({ thisLocationName, password, endpoints }) {
    const m = await client.createMeet({ thisLocationName, password, endpoints });
    if (store) send(wholeSliceUpdates(store.getState()));
    return m;
  }

  /**
   * Joins a live meet. The store's meet is replaced by the live one as soon as it arrives.
   * Resolves with MEET_JOINED.
   */
  function join({ meetId, password, locationName, role }) {
    return client.joinMeet({ meetId, password, locationName, role });
  }

  /** Stops being live: the store keeps the meet as it is, as a plain local OpenLifter meet. */
  function leave() {
    client.leaveMeet();
  }

  const adapter = {
    client,
    middleware,
    wrapReducer,
    attach,
    detach,
    goLive,
    join,
    leave,
    applyNow: applyDoc,
    /** The published lifting of every platform (boards and the panel show it). */
    platforms: () => valueAt(client.localState, 'live.platforms') ?? [],
    /** The platform this table shows (its `lifting.platform`), for the overlay link. */
    platformOf: () => store?.getState()?.lifting?.platform ?? 1,
    /** Ids this client may still hand out (for tests and diagnostics). */
    idBlocks: () => structuredClone(blocks()),
  };
  return adapter;
}
