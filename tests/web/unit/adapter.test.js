// SPDX-License-Identifier: AGPL-3.0-or-later
// The Redux adapter on an OpenLifter-shaped store (resources/web/demo/openlifter-model.js), with
// the OpenLifter action cases of the research note §2, against the in-process fake server.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ID_BLOCK_BASE, ID_BLOCK_SIZE, buildLookup } from '../../../resources/web/lib/redux-adapter.js';
import { actions, newDefaultEntry, newMeetState, rootReducer } from '../../../resources/web/demo/openlifter-model.js';
import { FakeServer, until } from '../support/fake-server.js';
import { ENDPOINTS, PASSWORD, sentKeys, settled, table } from '../support/fixtures.js';

/** Two tables (Platform A creates, Weigh-in joins) with idle logs and their id blocks. */
async function twoTables(server, setup) {
  const a = await table(server);
  a.dispatch(actions.updateMeet({ name: 'Spring Open', federation: 'WRPF' }));
  setup?.(a);
  const m = await a.adapter.goLive({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  const w = await table(server);
  w.dispatch(actions.updateMeet({ name: 'my own old meet' })); // replaced by the live one on join
  w.dispatch(actions.changeLanguage('fi'));
  await w.adapter.join({ meetId: m.meetIdDisplay, password: PASSWORD, locationName: 'Weigh-in' });
  await settled(a, w);
  return { a, w, meetId: m.meetId };
}

/** The synced part of two stores is identical, and each lookup matches its entries. */
function assertSameMeet(x, y) {
  const sx = x.state();
  const sy = y.state();
  assert.deepEqual(sy.meet, sx.meet);
  assert.deepEqual(sy.registration.entries, sx.registration.entries);
  assert.deepEqual(sy.versions, sx.versions);
  for (const s of [sx, sy]) assert.deepEqual(s.registration.lookup, buildLookup(s.registration.entries));
}

test('going live publishes the meet; a joining table adopts it and keeps its own language and lifting', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, (t) => t.dispatch(actions.newRegistration({ name: 'Kim' })));
  assertSameMeet(a, w);
  assert.equal(w.state().meet.name, 'Spring Open');
  assert.equal(w.state().registration.entries[0].name, 'Kim');
  assert.equal(w.state().language, 'fi');
  assert.equal(a.state().language, 'en');
  const first = sentKeys(server).slice(0, 5);
  assert.ok(first.includes('versions') && first.includes('meet') && first.includes('registration'), first.join());
});

test('NEW_REGISTRATION on two tables at once: ids from separate blocks, no collision', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server);
  a.dispatch(actions.newRegistration({ name: 'From A' }));
  w.dispatch(actions.newRegistration({ name: 'From W' }));
  // And again while both are offline, each taking the next id of its own block.
  a.client.setOnline(false);
  w.client.setOnline(false);
  a.dispatch(actions.newRegistration({ name: 'From A offline' }));
  w.dispatch(actions.newRegistration({ name: 'From W offline' }));
  a.client.setOnline(true);
  w.client.setOnline(true);
  await settled(a, w);
  assertSameMeet(a, w);
  const entries = a.state().registration.entries;
  assert.equal(entries.length, 4);
  const ids = entries.map((e) => e.id);
  assert.equal(new Set(ids).size, 4, `ids collide: ${ids}`);
  const blockOf = (id) => Math.floor((id - ID_BLOCK_BASE) / ID_BLOCK_SIZE);
  const byName = Object.fromEntries(entries.map((e) => [e.name, e.id]));
  assert.equal(blockOf(byName['From A']), blockOf(byName['From A offline']));
  assert.equal(blockOf(byName['From W']), blockOf(byName['From W offline']));
  assert.notEqual(blockOf(byName['From A']), blockOf(byName['From W']));
  for (const e of entries) assert.deepEqual(Object.keys(e).sort(), Object.keys(newDefaultEntry(0)).sort());
});

test('DELETE_REGISTRATION while another table edits that lifter: both end without the lifter', async () => {
  for (const deleterFirst of [true, false]) {
    const server = new FakeServer();
    const { a, w } = await twoTables(server, (t) => {
      t.dispatch(actions.newRegistration({ name: 'Kim', bodyweightKg: 80 }));
      t.dispatch(actions.newRegistration({ name: 'Lee' }));
    });
    const kim = a.state().registration.entries[0].id;
    a.client.setOnline(false);
    w.client.setOnline(false);
    a.dispatch(actions.deleteRegistration(kim)); // Platform A, priority 10
    w.dispatch(actions.updateRegistration(kim, { bodyweightKg: 81.3 })); // Weigh-in, priority 5
    const [first, second] = deleterFirst ? [a, w] : [w, a];
    first.client.setOnline(true);
    await until(() => first.client.pendingCount === 0);
    second.client.setOnline(true);
    await settled(a, w);
    assertSameMeet(a, w);
    assert.deepEqual(w.state().registration.entries.map((e) => e.name), ['Lee'], `deleter first: ${deleterFirst}`);
    if (deleterFirst) assert.equal(w.client.rejected[0]?.conflict, true);
  }
});

test('ENTER_ATTEMPT (which mutates in place) and MARK_LIFT become per-attempt keys', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, (t) => t.dispatch(actions.newRegistration({ name: 'Kim' })));
  const id = a.state().registration.entries[0].id;
  const from = server.received.length;
  a.dispatch(actions.overrideEntryId(id));
  a.dispatch(actions.enterAttempt(id, 'S', 1, 180));
  a.dispatch(actions.markLift(id, 'S', 1, true));
  a.dispatch(actions.enterAttempt(id, 'S', 2, 192.5));
  await settled(a, w);
  assert.deepEqual(sentKeys(server, from), [
    'live.platforms[id=1]',
    `registration.entries[id=${id}].squatKg[0]`,
    `registration.entries[id=${id}].squatStatus[0]`, 'live.platforms[id=1]',
    `registration.entries[id=${id}].squatKg[1]`,
  ]);
  assertSameMeet(a, w);
  assert.deepEqual(w.state().registration.entries[0].squatKg, [180, 192.5, 0, 0, 0]);
  assert.deepEqual(w.state().registration.entries[0].squatStatus, [1, 0, 0, 0, 0]);
  const pub = a.adapter.platforms().find((p) => p.id === 1);
  assert.equal(pub.overrideEntryId, null); // MARK_LIFT cleared the override, and that was published
  assert.equal(pub.locationName, 'Platform A');
});

test('SET_IN_KG changes five keys; the plates travel as one value, bit-exact', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server);
  const from = server.received.length;
  w.dispatch(actions.setInKg(false));
  await settled(a, w);
  assert.deepEqual(sentKeys(server, from).sort(), ['meet.benchBarAndCollarsWeightKg', 'meet.deadliftBarAndCollarsWeightKg',
    'meet.inKg', 'meet.plates', 'meet.squatBarAndCollarsWeightKg']);
  assertSameMeet(a, w);
  assert.ok(Object.is(a.state().meet.squatBarAndCollarsWeightKg, 45 / 2.20462262));
  assert.ok(a.state().meet.plates.some((p) => Object.is(p.weightKg, 45 / 2.20462262)));
});

test('load from file (OVERWRITE_STORE) replaces the slices everywhere; lifting and language stay local', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, (t) => t.dispatch(actions.newRegistration({ name: 'Old' })));
  w.dispatch(actions.setLiftingGroup(1, 2, 'C', 'B'));
  const file = newMeetState('de');
  file.meet = { ...file.meet, name: 'Loaded Meet', city: 'Oslo' };
  const e1 = { ...newDefaultEntry(5000), name: 'Ada' };
  const e2 = { ...newDefaultEntry(5001), name: 'Bo', instagram: 'bo' };
  file.registration = { nextEntryId: 5002, entries: [e1, e2], lookup: { 5000: 0, 5001: 1 } };
  file.lifting = { ...file.lifting, platform: 1, flight: 'B' };
  const from = server.received.length;
  a.dispatch(actions.overwriteStore(file));
  await settled(a, w);
  const keys = sentKeys(server, from);
  assert.deepEqual(keys.filter((k) => !k.startsWith('live.')).sort(), ['meet', 'registration', 'versions']);
  assertSameMeet(a, w);
  assert.deepEqual(w.state().registration.entries.map((e) => e.name), ['Ada', 'Bo']);
  assert.deepEqual(w.state().registration.lookup, { 5000: 0, 5001: 1 });
  assert.equal(w.state().meet.name, 'Loaded Meet');
  assert.equal(w.state().language, 'fi');
  assert.equal(w.state().lifting.platform, 2);
  assert.equal(w.state().lifting.flight, 'C');
  // A new lifter afterwards still gets an id from the table's block, not 5002 (the file's counter).
  w.dispatch(actions.newRegistration({ name: 'After' }));
  await settled(a, w);
  assert.ok(w.state().registration.entries[2].id >= ID_BLOCK_BASE);
});

test('lifting is published per platform and never overwritten by another table', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server);
  a.dispatch(actions.setLiftingGroup(1, 1, 'B', 'D'));
  w.dispatch(actions.setLiftingGroup(1, 2, 'A', 'S'));
  a.dispatch(actions.setTableInfo({ columnDivisionWidthPx: 150 }));
  w.dispatch(actions.changeLanguage('de'));
  await settled(a, w);
  assert.deepEqual([a.state().lifting.platform, a.state().lifting.flight, a.state().lifting.lift], [1, 'B', 'D']);
  assert.deepEqual([w.state().lifting.platform, w.state().lifting.flight, w.state().lifting.lift], [2, 'A', 'S']);
  assert.equal(w.state().lifting.columnDivisionWidthPx, 90);
  const platforms = a.adapter.platforms();
  assert.deepEqual(platforms.map((p) => [p.id, p.flight, p.lift, p.locationName]).sort(),
    [[1, 'B', 'D', 'Platform A'], [2, 'A', 'S', 'Weigh-in']]);
  const keys = sentKeys(server);
  assert.ok(!keys.some((k) => k.startsWith('lifting') || k.startsWith('language')), keys.join());
});

test('a display-only store follows the meet and cannot change it', async () => {
  const server = new FakeServer();
  const { a, meetId } = await twoTables(server);
  const d = await table(server);
  await d.adapter.join({ meetId, password: PASSWORD, locationName: 'Board', role: 'display' });
  await settled(a, d);
  const from = server.received.length;
  d.dispatch(actions.updateMeet({ name: 'vandalised' }));
  assert.equal(d.state().meet.name, 'Spring Open');
  assert.equal(sentKeys(server, from).length, 0);
  a.dispatch(actions.updateMeet({ name: 'Renamed' }));
  await until(() => d.state().meet.name === 'Renamed');
});

test('redux-persist\'s REHYDRATE does not overwrite the live meet', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server);
  const from = server.received.length;
  const stale = { ...w.state(), meet: { ...w.state().meet, name: 'stale copy from localStorage' } };
  const rehydrating = (reducer) => (state, action) => (action.type === 'persist/REHYDRATE' ? action.payload
    : reducer(state, action));
  w.store.replaceReducer(w.adapter.wrapReducer(rehydrating(rootReducer)));
  w.dispatch({ type: 'persist/REHYDRATE', payload: stale });
  assert.equal(w.state().meet.name, 'Spring Open');
  assert.equal(sentKeys(server, from).length, 0);
  await settled(a, w);
});
