// SPDX-License-Identifier: AGPL-3.0-or-later
// Update keys and the JSON document they address (docs/protocol.md §7, DESIGN.md §5).
//
// The rules here mirror the server's materialized state (server/sync/MeetState.h) exactly:
// every browser and the server apply the same log in the same order and must end with the same
// document, so a rule that differs here would make a browser diverge silently.
//
// Documents are treated as immutable: applyUpdate() copies only the containers on the path it
// writes and shares everything else. That makes the rebase (canonical state + pending updates)
// cheap, and it means a value handed to a caller is never changed behind its back.

/** Limits of a key, as the server enforces them (docs/protocol.md §7). */
export const MAX_KEY_LENGTH = 256;
export const MAX_KEY_SEGMENTS = 16;
const MAX_INDEX = Number.MAX_SAFE_INTEGER; // 2^53 - 1

const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]*/;
const NUMBER_RE = /^(0|[1-9][0-9]{0,15})/;

/**
 * Parses a key into segments: {kind:'field', name} | {kind:'index', n} | {kind:'id', n}.
 * Throws an Error with `code` KEY_INVALID / KEY_TOO_LONG / KEY_TOO_DEEP (the server's codes), so
 * that the library can refuse an update before it is queued: the server would reject it anyway,
 * and a refused update must never show in the local state.
 * @param {string} key
 * @returns {Array<{kind:string,name?:string,n?:number}>}
 */
export function parseKey(key) {
  const fail = (code, msg) => {
    const e = new Error(`updateKey: ${msg}`);
    e.code = code;
    throw e;
  };
  if (typeof key !== 'string' || key.length === 0) fail('KEY_INVALID', 'key is empty');
  if (key.length > MAX_KEY_LENGTH) {
    fail('KEY_TOO_LONG', `key is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}`);
  }
  const segments = [];
  let pos = 0;
  const first = FIELD_RE.exec(key);
  if (!first) fail('KEY_INVALID', 'key must start with a field name at position 0');
  segments.push({ kind: 'field', name: first[0] });
  pos = first[0].length;
  while (pos < key.length) {
    const c = key[pos];
    if (c === '.') {
      const m = FIELD_RE.exec(key.slice(pos + 1));
      if (!m) fail('KEY_INVALID', `expected a field name after '.' at position ${pos + 1}`);
      segments.push({ kind: 'field', name: m[0] });
      pos += 1 + m[0].length;
    } else if (c === '[') {
      let kind = 'index';
      let at = pos + 1;
      if (key.startsWith('id=', at)) {
        kind = 'id';
        at += 3;
      }
      const m = NUMBER_RE.exec(key.slice(at));
      if (!m) fail('KEY_INVALID', `expected a non-negative integer without leading zeros at position ${at}`);
      const n = Number(m[0]);
      if (!(n <= MAX_INDEX)) fail('KEY_INVALID', `integer at position ${at} is larger than ${MAX_INDEX}`);
      at += m[0].length;
      if (key[at] !== ']') fail('KEY_INVALID', `expected ']' at position ${at}`);
      segments.push({ kind, n });
      pos = at + 1;
    } else {
      fail('KEY_INVALID', `unexpected character at position ${pos}`);
    }
  }
  if (segments.length > MAX_KEY_SEGMENTS) {
    fail('KEY_TOO_DEEP', `key has more than ${MAX_KEY_SEGMENTS} segments`);
  }
  return segments;
}

/** `registration.entries[id=5007]`: the key of an array element addressed by its id. */
export function idKey(arrayKey, id) {
  return `${arrayKey}[id=${id}]`;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function indexOfId(array, id) {
  for (let i = 0; i < array.length; i++) {
    const el = array[i];
    if (isObject(el) && typeof el.id === 'number' && el.id === id) return i;
  }
  return -1;
}

function withId(value, id) {
  return isObject(value) ? { ...value, id } : { id };
}

const IGNORED = Symbol('ignored');

function write(container, segments, at, value) {
  const seg = segments[at];
  const last = at === segments.length - 1;
  if (seg.kind === 'field') {
    const obj = isObject(container) ? { ...container } : {};
    const written = last ? value : write(obj[seg.name], segments, at + 1, value);
    if (written === IGNORED) return IGNORED;
    obj[seg.name] = written;
    return obj;
  }
  const arr = Array.isArray(container) ? container.slice() : [];
  if (seg.kind === 'index') {
    // A write past the end is ignored (the server does not pad arrays); at the end it appends.
    if (seg.n > arr.length) return IGNORED;
    const written = last ? value : write(arr[seg.n], segments, at + 1, value);
    if (written === IGNORED) return IGNORED;
    arr[seg.n] = written;
    return arr;
  }
  // [id=N]: set appends when absent, null deletes, a write below an absent element is ignored.
  const i = indexOfId(arr, seg.n);
  if (last) {
    if (value === null) {
      if (i >= 0) arr.splice(i, 1);
    } else if (i >= 0) {
      arr[i] = withId(value, seg.n);
    } else {
      arr.push(withId(value, seg.n));
    }
    return arr;
  }
  if (i < 0) return IGNORED;
  const written = write(arr[i], segments, at + 1, value);
  if (written === IGNORED) return IGNORED;
  arr[i] = written;
  return arr;
}

/**
 * Returns a new document with `value` written at `key` (or `doc` itself when the rules ignore the
 * write). `doc` is not modified. `value` is stored as given: callers pass values they own.
 * @param {object} doc
 * @param {string|Array} key a key or the result of parseKey
 * @param {*} value
 */
export function applyUpdate(doc, key, value) {
  let segments;
  try {
    segments = typeof key === 'string' ? parseKey(key) : key;
  } catch {
    return doc; // a key that does not parse was never sequenced; nothing to apply
  }
  const next = write(isObject(doc) ? doc : {}, segments, 0, value);
  return next === IGNORED ? doc : next;
}

/**
 * The value at `key`, or `undefined` when nothing is there (absent member, index past the end,
 * no element with that id).
 */
export function valueAt(doc, key) {
  const segments = typeof key === 'string' ? parseKey(key) : key;
  let cur = doc;
  for (const seg of segments) {
    if (seg.kind === 'field') {
      if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, seg.name)) return undefined;
      cur = cur[seg.name];
    } else if (seg.kind === 'index') {
      if (!Array.isArray(cur) || seg.n >= cur.length) return undefined;
      cur = cur[seg.n];
    } else {
      if (!Array.isArray(cur)) return undefined;
      const i = indexOfId(cur, seg.n);
      if (i < 0) return undefined;
      cur = cur[i];
    }
  }
  return cur;
}

/**
 * JSON equality: numbers by value (so -0 equals 0, as the server writes -0 as 0), objects by
 * members regardless of order, members whose value is `undefined` count as absent (JSON drops
 * them).
 */
export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b) return false;
  if (a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual(a[k], b[k])) return false;
  }
  return true;
}

/**
 * A private copy of a JSON value, exactly as it would travel: doubles keep their bits (JSON text
 * round-trips every double), `undefined` members vanish, -0 becomes 0.
 */
export function jsonClone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * Returns `next`, but with every subtree that is deep-equal to the same place in `prev` replaced
 * by prev's object. Redux consumers compare by reference; this keeps unchanged entries (and the
 * React rows showing them) untouched when a remote update arrives. The result never shares
 * objects with `next`'s owner when `copy` is true (the sync client's documents must not be
 * reachable from Redux, where OpenLifter's reducers may mutate in place).
 */
export function reconcile(prev, next, copy = true) {
  if (deepEqual(prev, next)) return prev;
  if (next === null || typeof next !== 'object') return next;
  if (Array.isArray(next)) {
    const prevById = new Map();
    if (Array.isArray(prev)) {
      for (const p of prev) if (isObject(p) && typeof p.id === 'number') prevById.set(p.id, p);
    }
    return next.map((n, i) => {
      const p = isObject(n) && typeof n.id === 'number' && prevById.has(n.id) ? prevById.get(n.id)
        : Array.isArray(prev) ? prev[i] : undefined;
      return reconcile(p, n, copy);
    });
  }
  const out = {};
  for (const k of Object.keys(next)) {
    if (next[k] === undefined) continue;
    out[k] = reconcile(isObject(prev) ? prev[k] : undefined, next[k], copy);
  }
  return out;
}
