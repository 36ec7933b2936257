// SPDX-License-Identifier: AGPL-3.0-or-later
// Keys and the document rules: the same cases the server's tst_keypath / tst_meetstate check,
// because a browser that applied a log differently from the server would diverge silently.
import test from 'node:test';
import assert from 'node:assert/strict';
import { applyUpdate, deepEqual, jsonClone, parseKey, reconcile, valueAt } from '../../../resources/web/lib/keypath.js';

test('valid keys parse into segments', () => {
  assert.deepEqual(parseKey('registration.entries[id=5007].squatKg[1]'), [
    { kind: 'field', name: 'registration' }, { kind: 'field', name: 'entries' }, { kind: 'id', n: 5007 },
    { kind: 'field', name: 'squatKg' }, { kind: 'index', n: 1 },
  ]);
  assert.equal(parseKey('a_b.C9[0][12][id=0]').length, 5);
  assert.equal(parseKey('meet[9007199254740991]')[1].n, 9007199254740991);
  assert.equal(parseKey('a.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b').length, 16);
});

test('invalid keys are refused with the server codes', () => {
  const code = (k) => { try { parseKey(k); return 'ok'; } catch (e) { return e.code; } };
  for (const k of ['', '9meet', ' meet', 'meet.', 'meet..name', 'meet.9x', 'meet[01]', 'meet[-1]', 'meet[ 1]',
    'meet[id=x]', 'meet[id=]', 'meet[9007199254740992]', 'meet[1', 'meet-name', 'meet.naïve']) {
    assert.equal(code(k), 'KEY_INVALID', k);
  }
  assert.equal(code('x'.repeat(257)), 'KEY_TOO_LONG');
  assert.equal(code('a.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b'), 'KEY_TOO_DEEP');
});

test('apply follows the server rules for fields, indexes and ids', () => {
  let d = {};
  d = applyUpdate(d, 'meet.name', 'Open');
  assert.deepEqual(d, { meet: { name: 'Open' } });
  d = applyUpdate(d, 'meet.plates[0]', 1); // missing container becomes an array; index == length appends
  d = applyUpdate(d, 'meet.plates[5]', 9); // past the end: ignored
  assert.deepEqual(d.meet.plates, [1]);
  d = applyUpdate(d, 'registration.entries[id=7]', { name: 'A', id: 99 }); // id forced
  d = applyUpdate(d, 'registration.entries[id=8]', 'x'); // non-object becomes {id}
  assert.deepEqual(d.registration.entries, [{ name: 'A', id: 7 }, { id: 8 }]);
  d = applyUpdate(d, 'registration.entries[id=7].squatKg', [0, 0]);
  d = applyUpdate(d, 'registration.entries[id=7].squatKg[1]', 102.5);
  assert.deepEqual(valueAt(d, 'registration.entries[id=7].squatKg'), [0, 102.5]);
  d = applyUpdate(d, 'registration.entries[id=7]', null); // delete
  const before = d;
  d = applyUpdate(d, 'registration.entries[id=7].bodyweightKg', 80); // below a deleted entry: ignored
  assert.equal(d, before);
  assert.deepEqual(d.registration.entries, [{ id: 8 }]);
  d = applyUpdate(d, 'meet.note', null); // null elsewhere is a value
  assert.equal(valueAt(d, 'meet.note'), null);
  assert.equal(valueAt(d, 'meet.absent'), undefined);
});

test('apply never modifies its input', () => {
  const d = { meet: { plates: [{ weightKg: 25 }] }, other: { a: 1 } };
  const frozen = JSON.stringify(d);
  const n = applyUpdate(d, 'meet.plates[0].weightKg', 20);
  assert.equal(JSON.stringify(d), frozen);
  assert.equal(n.other, d.other); // unchanged subtrees are shared
});

test('doubles survive a JSON round trip bit for bit', () => {
  const values = [20.411656412019, 45 / 2.20462262, 0.1 + 0.2, 5e-324, 1.7976931348623157e308, 82.55];
  for (const v of values) assert.ok(Object.is(jsonClone(v), v));
});

test('deepEqual treats undefined members as absent and -0 as 0', () => {
  assert.ok(deepEqual({ a: 1, b: undefined }, { a: 1 }));
  assert.ok(deepEqual([0], [-0]));
  assert.ok(!deepEqual({ a: [1, 2] }, { a: [2, 1] }));
});

test('reconcile reuses unchanged objects and copies changed ones', () => {
  const prev = { entries: [{ id: 1, n: 'a' }, { id: 2, n: 'b' }], meet: { name: 'x' } };
  const next = { entries: [{ id: 2, n: 'b' }, { id: 1, n: 'A' }], meet: { name: 'x' } };
  const r = reconcile(prev, next);
  assert.equal(r.meet, prev.meet);
  assert.equal(r.entries[0], prev.entries[1]); // matched by id, not index
  assert.notEqual(r.entries[1], next.entries[1]); // a copy: never the source's object
  assert.deepEqual(r, next);
});
