// SPDX-License-Identifier: AGPL-3.0-or-later
// The Redux adapter against the OpenLifter actions the first adapter tests leave out (research
// note §2: MERGE_PLATFORM, ASSIGN_LOT_NUMBERS, SET_PLATE_CONFIG, SET_LENGTH_DAYS, an AutoFill
// UPDATE_MEET, New Meet), the per-platform publication of `lifting`, the delete/edit race with
// the deleter of LOWER priority, and the reducers' in-place mutation. The store is the
// OpenLifter-shaped model of resources/web/demo/openlifter-model.js (same action types, payloads
// and reducer semantics as OpenLifter's own, checked against its reducers at upstream cf5ad59).
//
// Concurrency without going offline: both tables dispatch in the same task, before either has
// heard from the server, so both updates carry the same afterServerSeqNum.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ID_BLOCK_BASE, ID_BLOCK_SIZE, buildLookup } from '../../../resources/web/lib/redux-adapter.js';
import { valueAt } from '../../../resources/web/lib/keypath.js';
import { actions, newDefaultEntry, newMeetState } from '../../../resources/web/demo/openlifter-model.js';
import { FakeServer } from '../support/fake-server.js';
import { ENDPOINTS, PASSWORD, sentKeys, settled, table } from '../support/fixtures.js';

/** Platform A (priority 10) creates the meet, Weigh-in (priority 5) joins. */
async function twoTables(server, setup) {
  const a = await table(server);
  a.dispatch(actions.updateMeet({ name: 'Spring Open' }));
  setup?.(a);
  const m = await a.adapter.goLive({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  const w = await table(server);
  await w.adapter.join({ meetId: m.meetId, password: PASSWORD, locationName: 'Weigh-in' });
  await settled(a, w);
  return { a, w, meetId: m.meetId };
}

function assertSameMeet(x, y) {
  const sx = x.state();
  const sy = y.state();
  assert.deepEqual(sy.meet, sx.meet);
  assert.deepEqual(sy.registration.entries, sx.registration.entries);
  for (const s of [sx, sy]) assert.deepEqual(s.registration.lookup, buildLookup(s.registration.entries));
}

const lifters = (n, extra = {}) => (t) => {
  for (let i = 0; i < n; i++) t.dispatch(actions.newRegistration({ name: `L${i}`, ...extra }));
};

test('MERGE_PLATFORM: the merged entries take consecutive ids of the table\'s block; the rest go by id', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, (t) => {
    t.dispatch(actions.newRegistration({ name: 'Day1 P1', day: 1, platform: 1 }));
    t.dispatch(actions.newRegistration({ name: 'Day1 P2 old', day: 1, platform: 2 }));
  });
  const old = a.state().registration.entries.find((e) => e.platform === 2).id;
  // The file exported by platform 2's computer: its own ids, which may collide with anything.
  const foreign = [
    { ...newDefaultEntry(5000), name: 'P2 first', day: 1, platform: 2, squatKg: [100, 0, 0, 0, 0] },
    { ...newDefaultEntry(5001), name: 'P2 second', day: 1, platform: 2 },
  ];
  const from = server.received.length;
  w.dispatch(actions.mergePlatform(1, 2, foreign));
  await settled(a, w);
  assertSameMeet(a, w);
  const names = a.state().registration.entries.map((e) => e.name);
  assert.deepEqual(names, ['Day1 P1', 'P2 first', 'P2 second']);
  const [, first, second] = a.state().registration.entries;
  assert.equal(second.id, first.id + 1);
  assert.ok(first.id >= ID_BLOCK_BASE, `merged id ${first.id} is not from a block`);
  assert.equal(Math.floor((first.id - ID_BLOCK_BASE) / ID_BLOCK_SIZE), Math.floor((second.id - ID_BLOCK_BASE)
    / ID_BLOCK_SIZE));
  assert.deepEqual(first.squatKg, [100, 0, 0, 0, 0]);
  const keys = sentKeys(server, from).filter((k) => !k.startsWith('live.'));
  assert.deepEqual(keys, [`registration.entries[id=${old}]`, `registration.entries[id=${first.id}]`,
    `registration.entries[id=${second.id}]`]);
});

test('ASSIGN_LOT_NUMBERS: one lot key per entry, by id', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, lifters(3));
  const ids = a.state().registration.entries.map((e) => e.id);
  const from = server.received.length;
  w.dispatch(actions.assignLotNumbers([3, 1, 2]));
  await settled(a, w);
  assert.deepEqual(sentKeys(server, from), ids.map((id) => `registration.entries[id=${id}].lot`));
  assert.deepEqual(a.state().registration.entries.map((e) => e.lot), [3, 1, 2]);
  assertSameMeet(a, w);
});

test('meet setup: AutoFill\'s UPDATE_MEET, SET_LENGTH_DAYS, SET_PLATFORM_COUNT, SET_PLATE_CONFIG', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server);
  let from = server.received.length;
  // AutoFillRules sends a whole federation preset in one UPDATE_MEET.
  a.dispatch(actions.updateMeet({ federation: 'USAPL', formula: 'Dots', divisions: ['Open', 'Junior'],
    weightClassesKgMen: [59, 66, 74], combineSleevesAndWraps: true }));
  await settled(a, w);
  assert.deepEqual(sentKeys(server, from).sort(), ['meet.combineSleevesAndWraps', 'meet.divisions', 'meet.federation',
    'meet.formula', 'meet.weightClassesKgMen']);
  from = server.received.length;
  w.dispatch(actions.setLengthDays(3));
  w.dispatch(actions.setPlatformCount(2, 4));
  await settled(a, w);
  assert.deepEqual(sentKeys(server, from), ['meet.lengthDays', 'meet.platformsOnDays', 'meet.platformsOnDays']);
  assert.deepEqual(a.state().meet.platformsOnDays, [1, 4, 1]);
  from = server.received.length;
  // Plates are found by exact float match; the whole array travels, so nothing depends on the
  // other table finding the same index.
  w.dispatch(actions.setPlateConfig(2.5, 6, '#000000'));
  await settled(a, w);
  assert.deepEqual(sentKeys(server, from), ['meet.plates']);
  assert.deepEqual(a.state().meet.plates.find((p) => p.weightKg === 2.5), { weightKg: 2.5, pairCount: 6,
    color: '#000000' });
  assertSameMeet(a, w);
});

test('New Meet (OVERWRITE_STORE with defaults) clears the live meet everywhere as whole slices', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, lifters(2));
  const from = server.received.length;
  w.dispatch(actions.overwriteStore(newMeetState(w.state().language)));
  await settled(a, w);
  assert.deepEqual(sentKeys(server, from).sort(), ['meet', 'registration', 'versions']);
  assert.equal(a.state().registration.entries.length, 0);
  assert.deepEqual(a.state().registration.lookup, {});
  assert.equal(a.state().meet.name, '');
  assertSameMeet(a, w);
});

test('publication: the Lifting page\'s actions take a platform; nothing else replaces another table\'s', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, lifters(1));
  const id = a.state().registration.entries[0].id;
  // Platform A lifts with the default group (day 1, platform 1, flight A, squat): marking the
  // first lift publishes platform 1 although the group was never chosen.
  a.dispatch(actions.enterAttempt(id, 'S', 1, 100));
  assert.equal(a.adapter.platforms().length, 0, 'entering an attempt (also a weigh-in action) publishes nothing');
  a.dispatch(actions.markLift(id, 'S', 1, true));
  await settled(a, w);
  const pub = () => valueAt(w.client.localState, 'live.platforms[id=1]');
  assert.equal(pub()?.locationName, 'Platform A');
  assert.equal(pub()?.flight, 'A');
  // The weigh-in table loads a file whose lifting says platform 1, flight C: its own lifting
  // becomes that, but Platform A's publication stays.
  const file = newMeetState('en');
  file.meet = { ...a.state().meet };
  file.registration = { ...a.state().registration };
  file.lifting = { ...file.lifting, platform: 1, flight: 'C' };
  w.dispatch(actions.overwriteStore(file));
  await settled(a, w);
  assert.equal(w.state().lifting.flight, 'C');
  assert.equal(pub().locationName, 'Platform A');
  assert.equal(pub().flight, 'A');
  // Platform A keeps its own publication current (an override is a Lifting page action anyway;
  // the column width is local and changes nothing).
  a.dispatch(actions.setTableInfo({ columnDivisionWidthPx: 200 }));
  a.dispatch(actions.setLiftingGroup(1, 1, 'B', 'B'));
  await settled(a, w);
  assert.deepEqual([pub().flight, pub().lift, pub().locationName], ['B', 'B', 'Platform A']);
  assert.equal(pub().columnDivisionWidthPx, undefined);
  // A second table that explicitly chooses platform 1 on its Lifting page takes it over.
  w.dispatch(actions.setLiftingGroup(1, 1, 'D', 'D'));
  await settled(a, w);
  assert.deepEqual([pub().flight, pub().locationName], ['D', 'Weigh-in']);
  assert.equal(a.state().lifting.flight, 'B', 'a table\'s own lifting is never overwritten');
  const keys = sentKeys(server);
  assert.ok(!keys.some((k) => k.startsWith('lifting') || k.startsWith('language')), keys.join());
});

test('delete vs edit with the deleter of LOWER priority: the outcome depends on which is sequenced first', async () => {
  // Same task: both updates are concurrent (neither table has seen the other's).
  const server = new FakeServer();
  const { a, w } = await twoTables(server, lifters(2));
  const kim = a.state().registration.entries[0].id;
  w.dispatch(actions.deleteRegistration(kim)); // Weigh-in, priority 5: reaches the server first
  a.dispatch(actions.updateRegistration(kim, { bodyweightKg: 90.1 })); // Platform A, priority 10
  await settled(a, w);
  assertSameMeet(a, w);
  // The edit overrules the deletion's conflict but writes below an absent element: it is a no-op.
  assert.deepEqual(a.state().registration.entries.map((e) => e.id), [a.state().registration.entries[0].id]);
  assert.ok(!a.state().registration.entries.some((e) => e.id === kim));

  // The other order: the higher-priority edit is sequenced first, the lower-priority deletion
  // conflicts with it and loses, so the lifter (with the edit) comes back on the deleting table.
  const server2 = new FakeServer();
  const t2 = await twoTables(server2, lifters(2));
  const lee = t2.a.state().registration.entries[0].id;
  t2.a.dispatch(actions.updateRegistration(lee, { bodyweightKg: 77.7 }));
  t2.w.dispatch(actions.deleteRegistration(lee));
  await settled(t2.a, t2.w);
  assertSameMeet(t2.a, t2.w);
  assert.equal(t2.w.state().registration.entries.find((e) => e.id === lee)?.bodyweightKg, 77.7);
  assert.equal(t2.w.client.rejected.at(-1)?.conflict, true);
});

test('the store never shares objects with the client: OpenLifter\'s in-place ENTER_ATTEMPT cannot hide a change', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, lifters(1));
  const id = a.state().registration.entries[0].id;
  // A remote change brings the entry into w's store through APPLY.
  a.dispatch(actions.updateRegistration(id, { name: 'Renamed' }));
  await settled(a, w);
  const before = w.state().registration.entries[0];
  assert.notEqual(before, valueAt(w.client.localState, `registration.entries[id=${id}]`));
  // The model's ENTER_ATTEMPT, like OpenLifter's, assigns into the old entry object.
  w.dispatch(actions.enterAttempt(id, 'B', 1, 60));
  assert.equal(before.benchKg[0], 60, 'the reducer mutated the old entry in place');
  await settled(a, w);
  assert.equal(a.state().registration.entries[0].benchKg[0], 60);
  assertSameMeet(a, w);
});

test('lookup is rebuilt after every incoming change, so lookup-indexed components never read undefined', async () => {
  const server = new FakeServer();
  const { a, w } = await twoTables(server, lifters(4));
  const ids = a.state().registration.entries.map((e) => e.id);
  a.dispatch(actions.deleteRegistration(ids[1]));
  a.dispatch(actions.newRegistration({ name: 'New' }));
  await settled(a, w);
  const s = w.state();
  for (const e of s.registration.entries) assert.equal(s.registration.entries[s.registration.lookup[e.id]], e);
  assert.equal(s.registration.lookup[ids[1]], undefined);
  assert.equal(Object.keys(s.registration.lookup).length, 4);
});
