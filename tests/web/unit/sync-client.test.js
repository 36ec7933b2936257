// SPDX-License-Identifier: AGPL-3.0-or-later
// The client library against an in-process fake server (support/fake-server.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import { Status, displayMeetId, newClientId, normalizeMeetId } from '../../../resources/web/lib/sync-client.js';
import { MemoryStore } from '../../../resources/web/lib/storage.js';
import { FakeServer, until } from '../support/fake-server.js';
import { ENDPOINTS, PASSWORD, openClient } from '../support/fixtures.js';

async function meetWithTwo(server) {
  const a = await openClient(server);
  const created = await a.createMeet({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  const w = await openClient(server);
  // The ID typed with spaces, as a person reads it off the screen.
  await w.joinMeet({ meetId: created.meetIdDisplay, password: PASSWORD, locationName: 'Weigh-in' });
  await until(() => w.synced);
  return { a, w, meetId: created.meetId };
}

test('meet IDs are typed with or without spaces and dashes', () => {
  assert.equal(normalizeMeetId('123 456 789'), '123456789');
  assert.equal(normalizeMeetId('123-456-789'), '123456789');
  assert.equal(normalizeMeetId('12345678'), null);
  assert.equal(normalizeMeetId('12345678a'), null);
  assert.equal(displayMeetId('047891979'), '047 891 979');
});

test('clientIds are random, key-safe and persistent across a reload', async () => {
  const id = newClientId();
  assert.match(id, /^[A-Za-z0-9]{22}$/);
  assert.notEqual(newClientId(), id);
  const server = new FakeServer();
  const store = new MemoryStore();
  const c1 = await openClient(server, store);
  const c2 = await openClient(server, store);
  assert.equal(c2.clientId, c1.clientId);
});

test('updates propagate both ways; a display client follows and cannot update', async () => {
  const server = new FakeServer();
  const { a, w, meetId } = await meetWithTwo(server);
  const d = await openClient(server);
  await d.joinMeet({ meetId, password: PASSWORD, locationName: 'Board', role: 'display' });
  a.update('meet.name', 'Spring Open');
  w.update('registration.entries[id=5100]', { name: 'Sam', bodyweightKg: 63.1 });
  await until(() => a.pendingCount === 0 && w.pendingCount === 0 && d.lastServerSeq === 2 && a.lastServerSeq === 2
    && w.lastServerSeq === 2);
  for (const c of [a, w, d]) {
    assert.equal(c.localState.meet.name, 'Spring Open');
    assert.deepEqual(c.localState.registration.entries, [{ id: 5100, name: 'Sam', bodyweightKg: 63.1 }]);
  }
  assert.throws(() => d.update('meet.name', 'x'), { code: 'READ_ONLY_SESSION' });
  assert.equal(d.isDisplay, true);
});

test('offline edits queue, survive a reload and are sent once back online', async () => {
  const server = new FakeServer();
  const { a, w } = await meetWithTwo(server);
  const store = w._store;
  w.setOnline(false);
  assert.equal(w.status, Status.OFFLINE);
  w.update('registration.entries[id=5100]', { name: 'Sam' });
  w.update('registration.entries[id=5100].bodyweightKg', 74.3);
  a.update('meet.name', 'Spring Open');
  assert.equal(w.pendingCount, 2);
  assert.ok(w.outOfSync);
  // "Reload": a new client on the same storage.
  w.close();
  const w2 = await openClient(server, store);
  assert.equal(w2.pendingCount, 2);
  assert.equal(w2.localState.registration.entries[0].bodyweightKg, 74.3);
  w2.setOnline(true);
  await until(() => w2.pendingCount === 0 && w2.lastServerSeq === 3 && a.lastServerSeq === 3);
  assert.deepEqual(w2.localState, a.localState);
  assert.equal(w2.localState.meet.name, 'Spring Open');
  // The server applied each update once.
  assert.equal(server.meets.get(w2.meetId).log.length, 3);
});

test('a dropped connection reconnects by itself, re-binds with a pull and resends', async () => {
  const server = new FakeServer();
  const { a, w } = await meetWithTwo(server);
  const pullsBefore = server.received.filter((m) => m.msgType === 'CLIENT_PULL').length;
  server.dropAll(); // the Wi-Fi goes away for everyone
  a.update('meet.city', 'Tampere'); // queued while a is reconnecting
  await until(() => a.online && w.online && a.pendingCount === 0 && w.localState.meet?.city === 'Tampere');
  const pulls = server.received.filter((m) => m.msgType === 'CLIENT_PULL').length - pullsBefore;
  assert.equal(pulls, 2, 'each client pulled once after reconnecting');
});

test('pending updates are rebased over relays', async () => {
  const server = new FakeServer();
  const { a, w } = await meetWithTwo(server);
  w.setOnline(false);
  w.update('meet.federation', 'WRPF');
  a.update('meet.name', 'Spring Open');
  await until(() => a.pendingCount === 0);
  // The moment the pull brings a's update, while ours is still pending, the page shows both.
  let rebased = null;
  w.addEventListener('change', () => {
    if (!rebased && w.lastServerSeq === 1 && w.pendingCount === 1) rebased = w.localState.meet;
  });
  w.setOnline(true);
  await until(() => rebased !== null);
  assert.deepEqual(rebased, { name: 'Spring Open', federation: 'WRPF' });
  await until(() => w.pendingCount === 0 && a.localState.meet?.federation === 'WRPF');
});

test('a conflicting edit of lower priority is rejected and shows the winner\'s value', async () => {
  const server = new FakeServer();
  const { a, w } = await meetWithTwo(server);
  a.update('registration.entries[id=5007]', { name: 'Kim', bodyweightKg: 80 });
  await until(() => w.lastServerSeq === 1);
  a.setOnline(false);
  w.setOnline(false);
  a.update('registration.entries[id=5007].bodyweightKg', 81.5); // Platform A, priority 10
  w.update('registration.entries[id=5007].bodyweightKg', 82.25); // Weigh-in, priority 5
  a.setOnline(true);
  await until(() => a.pendingCount === 0);
  const rejections = [];
  w.addEventListener('rejected', (e) => rejections.push(e.detail));
  w.setOnline(true);
  await until(() => w.pendingCount === 0 && rejections.length === 1 && w.lastServerSeq === 2);
  assert.equal(rejections[0].conflict, true);
  assert.equal(rejections[0].winner.locationName, 'Platform A');
  assert.equal(rejections[0].currentValue, 81.5);
  assert.equal(w.localState.registration.entries[0].bodyweightKg, 81.5);
  assert.deepEqual(w.localState, a.localState);
});

test('a higher priority overrules an earlier lower-priority edit', async () => {
  const server = new FakeServer();
  const { a, w } = await meetWithTwo(server);
  a.setOnline(false);
  w.update('meet.name', 'Weigh-in name');
  a.update('meet.name', 'Platform name');
  await until(() => w.pendingCount === 0);
  a.setOnline(true);
  await until(() => a.pendingCount === 0 && w.localState.meet.name === 'Platform name');
  assert.equal(a.rejected.length, 0);
  assert.deepEqual(w.localState, a.localState);
});

test('a compacted pull gives the same state as the full log', async () => {
  const server = new FakeServer({ compactAbove: 3 });
  const a = await openClient(server);
  const m = await a.createMeet({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  for (let i = 0; i < 10; i++) a.update(`registration.entries[id=${5000 + i}]`, { name: `L${i}`, squatKg: [100 + i, 0] });
  a.update('registration.entries[id=5003]', null);
  a.update('registration.entries[id=5004].squatKg[1]', 120.5);
  await until(() => a.pendingCount === 0);
  const late = await openClient(server);
  await late.joinMeet({ meetId: m.meetId, password: PASSWORD, locationName: 'Board', role: 'display' });
  await until(() => late.synced);
  assert.equal(late.lastServerSeq, 12);
  assert.deepEqual(late.canonicalState, a.canonicalState);
  assert.equal(late.canonicalLog().length, 0, 'a compacted part is not held entry by entry');
  a.update('meet.name', 'after');
  await until(() => late.lastServerSeq === 13);
  assert.equal(late.localState.meet.name, 'after');
});

test('SERVER_PULL: the client gives back what the server lost and converges', async () => {
  const server = new FakeServer();
  const { a, w, meetId } = await meetWithTwo(server);
  a.update('meet.name', 'one');
  a.update('meet.city', 'two');
  a.update('meet.federation', 'three');
  await until(() => a.pendingCount === 0 && w.lastServerSeq === 3);
  const oldEpoch = a.epoch;
  server.loseTail(meetId, 1); // the server restarted from a disk that holds only entry 1
  server.dropAll();
  const pulls = [];
  a.addEventListener('serverpull', (e) => pulls.push(e.detail));
  await until(() => a.online && w.online && pulls.length === 1 && a.epoch !== oldEpoch
    && server.meets.get(meetId).log.length === 3 && a.lastServerSeq === 3 && w.lastServerSeq === 3 && !a.outOfSync);
  const push = server.received.find((m) => m.msgType === 'RECOVERY_PUSH');
  assert.deepEqual(push.entries.map((e) => e.serverSeqNum), [2, 3]);
  assert.equal(push.epoch, oldEpoch);
  assert.deepEqual(a.localState, w.localState);
  assert.equal(w.localState.meet.federation, 'three');
});

test('the password is never stored', async () => {
  const server = new FakeServer();
  const store = new MemoryStore();
  const a = await openClient(server, store);
  await a.createMeet({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  a.update('meet.name', 'x');
  await until(() => a.pendingCount === 0);
  assert.ok(!JSON.stringify(await store.load()).includes(PASSWORD));
});

test('INVALID_SESSION asks for a join; the pending updates survive it', async () => {
  const server = new FakeServer();
  const { a, meetId } = await meetWithTwo(server);
  server.meets.get(meetId).sessions.clear(); // every token forgotten
  a.setOnline(false);
  a.update('meet.name', 'kept');
  a.setOnline(true);
  await until(() => a.status === Status.NEEDS_JOIN);
  assert.equal(a.pendingCount, 1);
  await a.rejoin(PASSWORD);
  await until(() => a.pendingCount === 0);
  assert.equal(server.meets.get(meetId).doc.meet.name, 'kept');
});
