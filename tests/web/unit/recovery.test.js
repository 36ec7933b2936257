// SPDX-License-Identifier: AGPL-3.0-or-later
// The client's recovery behaviour, as server/client/SyncEngine.cpp has it: the recovery outbox,
// holding pending updates until the server has vouched for (or taken back) the log, clamping
// afterServerSeqNum only when the server renumbered, messages of another history, conflict heads,
// compacted pull answers, the unknown-epoch placeholder and display clients.
// Against the in-process fake server (support/fake-server.js); every wait is for a condition.
import test from 'node:test';
import assert from 'node:assert/strict';
import { UNKNOWN_EPOCH } from '../../../resources/web/lib/sync-client.js';
import { MemoryStore } from '../../../resources/web/lib/storage.js';
import { FakeServer, until } from '../support/fake-server.js';
import { ENDPOINTS, PASSWORD, openClient } from '../support/fixtures.js';

async function join(server, meetId, locationName, role = 'update', store = new MemoryStore()) {
  const c = await openClient(server, store);
  await c.joinMeet({ meetId, password: PASSWORD, locationName, role });
  await until(() => c.synced && !c.outOfSync);
  return c;
}

/** Client A creates a meet and writes three entries (seqs 1..3). */
async function meetWithThree(server, store = new MemoryStore()) {
  const a = await openClient(server, store);
  const { meetId } = await a.createMeet({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  a.update('meet.name', 'one');
  a.update('meet.city', 'two');
  a.update('meet.federation', 'three');
  await until(() => a.pendingCount === 0 && a.lastServerSeq === 3);
  return { a, meetId, meet: server.meets.get(meetId) };
}

/** Index in the server's trace of the first message matching `pred` at or after `from`. */
function traceIndex(server, pred, from = 0) {
  for (let i = from; i < server.trace.length; i++) if (pred(server.trace[i])) return i;
  return -1;
}

const isIn = (client, type) => (t) => t.dir === 'in' && t.ws.clientId === client.clientId && t.m.msgType === type;
const isOut = (client, pred) => (t) => t.dir === 'out' && t.ws.clientId === client.clientId && pred(t.m);
const pullFinal = (m) => m.msgType === 'UPDATE_RELAY' && m.pull && m.final === true;

test('reconnecting with a log held: no UPDATE_INIT before the pull answer, then the pending go', async () => {
  const server = new FakeServer();
  const { a } = await meetWithThree(server);
  a.setOnline(false);
  a.update('meet.date', '2025-05-01');
  const held = [];
  server.intercept = (ws, m) => (m.msgType === 'CLIENT_PULL' ? (held.push([ws, m]), true) : false);
  const start = server.trace.length;
  a.setOnline(true);
  await until(() => held.length === 1);
  // The socket is open and bound; the pull is unanswered.
  assert.equal(a.online, true);
  assert.equal(a.holdingPending, true);
  a.update('meet.country', 'FI'); // made while held: also waits
  assert.equal(traceIndex(server, isIn(a, 'UPDATE_INIT'), start), -1, 'no update sent before the pull answer');
  server.intercept = null;
  server.handle(...held[0]);
  await until(() => a.pendingCount === 0);
  const answered = traceIndex(server, isOut(a, pullFinal), start);
  const firstInit = traceIndex(server, isIn(a, 'UPDATE_INIT'), start);
  assert.ok(answered >= 0 && firstInit > answered, 'updates are sent after the final chunk of the pull answer');
  const sent = server.sentBy(a, 'UPDATE_INIT').flatMap((m) => m.updates);
  assert.deepEqual(sent.filter((u) => u.updateKey === 'meet.date').map((u) => u.afterServerSeqNum), [3]);
  assert.equal(server.meets.get(a.meetId).log.length, 5);
});

test('SERVER_PULL: pending updates wait for RECOVERY_ACK; restored with original numbers, no clamp', async () => {
  const server = new FakeServer();
  const { a, meetId, meet } = await meetWithThree(server);
  const w = await join(server, meetId, 'Weigh-in');
  a.setOnline(false);
  a.update('meet.date', '2025-05-01'); // made on seq 3
  w.setOnline(false);
  const oldEpoch = a.epoch;
  server.loseTail(meetId, 1); // the server restarted from a disk that holds only entry 1
  const pushes = [];
  server.intercept = (ws, m) => (m.msgType === 'RECOVERY_PUSH' ? (pushes.push([ws, m]), true) : false);
  const start = server.trace.length;
  a.setOnline(true);
  // The push is out, the log dropped to 1, the new pull answered - and the pending still waits.
  await until(() => pushes.length === 1 && a.lastServerSeq === 1 && traceIndex(server, isOut(a, pullFinal),
    traceIndex(server, isOut(a, (m) => m.msgType === 'SERVER_PULL'), start)) >= 0);
  assert.deepEqual(pushes[0][1].entries.map((e) => e.serverSeqNum), [2, 3]);
  assert.equal(pushes[0][1].epoch, oldEpoch);
  assert.notEqual(a.epoch, oldEpoch, 'the epoch of SERVER_PULL is adopted');
  assert.equal(a.recoveryOutboxSize, 1);
  assert.equal(a.holdingPending, true);
  assert.ok(a.outOfSync);
  assert.equal(traceIndex(server, isIn(a, 'UPDATE_INIT'), start), -1, 'no update before the push is answered');
  server.intercept = null;
  server.handle(...pushes[0]);
  await until(() => a.pendingCount === 0 && a.lastServerSeq === 4 && !a.outOfSync);
  // Entries 2 and 3 came back with their numbers; the update went after them, unclamped.
  assert.deepEqual(meet.log.map((e) => [e.serverSeqNum, e.updateKey]),
    [[1, 'meet.name'], [2, 'meet.city'], [3, 'meet.federation'], [4, 'meet.date']]);
  const sent = server.sentBy(a, 'UPDATE_INIT').flatMap((m) => m.updates).filter((u) => u.updateKey === 'meet.date');
  assert.deepEqual(sent.map((u) => u.afterServerSeqNum), [3]);
  assert.equal(a.recoveryOutboxSize, 0);
  w.setOnline(true);
  await until(() => w.lastServerSeq === 4 && !w.outOfSync && w.pendingCount === 0);
  assert.deepEqual(w.localState, a.localState);
  assert.equal(meet.log.length, 4, 'w pushed nothing the server did not already have back');
});

test('SERVER_PULL: when the server re-sequenced the pushed entries, pending updates are clamped to k\'', async () => {
  const server = new FakeServer();
  const { a, meetId, meet } = await meetWithThree(server);
  a.setOnline(false);
  a.update('meet.date', '2025-05-01'); // made on seq 3
  server.loseTail(meetId, 1);
  // Someone writes after the loss: the lost numbers 2 and 3 are taken, so they cannot come back.
  const f = await join(server, meetId, 'Weigh-in');
  f.update('meet.country', 'FI');
  await until(() => f.pendingCount === 0 && meet.log.length === 2);
  const reports = [];
  a.addEventListener('recoveryack', (e) => reports.push(e.detail));
  a.setOnline(true);
  await until(() => a.pendingCount === 0 && reports.length === 1 && !a.outOfSync && a.lastServerSeq === 5);
  assert.equal(reports[0].resequenced, 2);
  const sent = server.sentBy(a, 'UPDATE_INIT').flatMap((m) => m.updates).filter((u) => u.updateKey === 'meet.date');
  assert.deepEqual(sent.map((u) => [u.updateKey, u.afterServerSeqNum]), [['meet.date', 1]],
    'it saw nothing the server numbers above 1');
  assert.deepEqual(meet.log.map((e) => e.updateKey),
    ['meet.name', 'meet.country', 'meet.city', 'meet.federation', 'meet.date']);
  await until(() => f.lastServerSeq === 5);
  assert.deepEqual(f.localState, a.localState);
});

test('the recovery push is resent after a dropped connection; nothing is lost or renumbered', async () => {
  const server = new FakeServer();
  const { a, meetId, meet } = await meetWithThree(server);
  const ids = meet.log.map((e) => [e.serverSeqNum, e.clientId, e.localSeqNum]);
  a.setOnline(false);
  a.update('meet.date', '2025-05-01');
  server.loseTail(meetId, 1);
  let dropped = 0;
  server.intercept = (ws, m) => {
    if (m.msgType !== 'RECOVERY_PUSH' || dropped > 0) return false;
    dropped++;
    server.drop(ws); // the network goes before the push arrives
    return true;
  };
  a.setOnline(true);
  await until(() => a.pendingCount === 0 && a.recoveryOutboxSize === 0 && !a.outOfSync && a.lastServerSeq === 4);
  const pushes = server.received.filter((m) => m.msgType === 'RECOVERY_PUSH');
  assert.equal(pushes.length, 2);
  assert.deepEqual(pushes[1].entries, pushes[0].entries);
  assert.equal(pushes[1].epoch, pushes[0].epoch, 'the push names the history it came from, also when resent');
  assert.deepEqual(meet.log.slice(0, 3).map((e) => [e.serverSeqNum, e.clientId, e.localSeqNum]), ids);
  assert.equal(meet.log[3].updateKey, 'meet.date');
  assert.equal(meet.log[3].afterServerSeqNum, 3);
});

test('the recovery outbox is persisted: a reload before the answer still gives the entries back', async () => {
  const server = new FakeServer();
  const store = new MemoryStore();
  const { a, meetId, meet } = await meetWithThree(server, store);
  a.setOnline(false);
  server.loseTail(meetId, 1);
  const pushes = [];
  server.intercept = (ws, m) => (m.msgType === 'RECOVERY_PUSH' ? (pushes.push(m), true) : false);
  a.setOnline(true);
  await until(() => pushes.length === 1 && a.lastServerSeq === 1);
  await a.whenSaved();
  a.close(); // the page reloads before the server answered
  assert.equal((await store.load()).outbox.length, 1);
  assert.deepEqual((await store.load()).canonical.map((e) => e.serverSeqNum), [1], 'the log itself dropped them');
  server.intercept = null;
  const a2 = await openClient(server, store);
  assert.equal(a2.recoveryOutboxSize, 1);
  a2.setOnline(true);
  await until(() => a2.recoveryOutboxSize === 0 && a2.lastServerSeq === 3 && !a2.outOfSync);
  assert.deepEqual(meet.log.map((e) => e.updateKey), ['meet.name', 'meet.city', 'meet.federation']);
  assert.equal(a2.localState.meet.federation, 'three');
  await a2.whenSaved();
  assert.equal((await store.load()).outbox.length, 0);
});

test('RECOVERY_REJECTED: the pending go (clamped), the push stays and is resent on the next connection', async () => {
  const server = new FakeServer();
  const { a, meetId, meet } = await meetWithThree(server);
  a.setOnline(false);
  a.update('meet.date', '2025-05-01');
  server.loseTail(meetId, 1);
  server.rejectRecovery = 1;
  const rejections = [];
  a.addEventListener('recoveryrejected', (e) => rejections.push(e.detail));
  a.setOnline(true);
  await until(() => rejections.length === 1 && a.pendingCount === 0);
  // Scoring goes on: the update went, as one that saw nothing above 1.
  assert.deepEqual(server.sentBy(a, 'UPDATE_INIT').flatMap((m) => m.updates)
    .filter((u) => u.updateKey === 'meet.date').map((u) => u.afterServerSeqNum), [1]);
  assert.equal(a.recoveryOutboxSize, 1, 'the refused push is kept');
  assert.ok(a.outOfSync, 'the server still lacks entries this client had');
  assert.equal(server.received.filter((m) => m.msgType === 'RECOVERY_PUSH').length, 1);
  server.dropAll();
  await until(() => a.recoveryOutboxSize === 0 && !a.outOfSync && a.lastServerSeq === 4);
  const pushes = server.received.filter((m) => m.msgType === 'RECOVERY_PUSH');
  assert.equal(pushes.length, 2);
  assert.deepEqual(pushes[1].entries, pushes[0].entries);
  assert.deepEqual(meet.log.map((e) => e.updateKey).sort(),
    ['meet.city', 'meet.date', 'meet.federation', 'meet.name']);
  assert.equal(a.localState.meet.federation, 'three');
});

test('replies to recovery pushes are matched in order: the refused one of two stays in the outbox', async () => {
  const server = new FakeServer();
  const a = await openClient(server);
  const { meetId } = await a.createMeet({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  const n = 1203; // entries 2..1203 go back: two pushes (1000 entries at most per message)
  a.updateMany(Array.from({ length: n }, (_, i) => [`records.r${i}`, i]));
  await until(() => a.pendingCount === 0 && a.lastServerSeq === n);
  a.setOnline(false);
  server.loseTail(meetId, 1);
  server.rejectRecovery = 1; // the first push is refused, the second taken
  a.setOnline(true);
  await until(() => server.received.filter((m) => m.msgType === 'RECOVERY_PUSH').length === 2
    && server.trace.filter((t) => t.dir === 'out' && t.m.msgType === 'RECOVERY_ACK').length === 1
    && a.recoveryOutboxSize === 1);
  const pushes = server.received.filter((m) => m.msgType === 'RECOVERY_PUSH');
  assert.equal(pushes[0].entries[0].serverSeqNum, 2);
  assert.equal(pushes[1].entries[0].serverSeqNum, 1002);
  assert.equal(a._outbox[0].message.entries[0].serverSeqNum, 2, 'the first push (refused) is the one kept');
  server.dropAll();
  await until(() => a.recoveryOutboxSize === 0 && !a.outOfSync);
  await until(() => a.lastServerSeq === n);
  assert.equal(server.meets.get(meetId).log.length, n);
  assert.equal(a.localState.records.r0, 0);
  assert.equal(a.localState.records[`r${n - 1}`], n - 1);
});

test('an ack or relay of another history is not applied; the client pulls naming its old epoch', async () => {
  const server = new FakeServer();
  const { a, meetId, meet } = await meetWithThree(server);
  const w = await join(server, meetId, 'Weigh-in');
  const oldEpoch = a.epoch;
  // The server lost entries 2..3 and continues under a new history, with the sockets still open.
  server.loseTail(meetId, 1);
  const held = [];
  server.intercept = (ws, m) => (m.msgType === 'CLIENT_PULL' ? (held.push([ws, m]), true) : false);
  const acked = [];
  a.addEventListener('acked', (e) => acked.push(e.detail));
  a.update('meet.date', '2025-05-01'); // sequenced as 2 of the new history
  await until(() => held.length === 2); // a after the ack, w after the relay
  assert.equal(server.trace.filter((t) => t.dir === 'out' && t.m.epoch === meet.epoch
    && ['UPDATE_ACK', 'UPDATE_RELAY'].includes(t.m.msgType)).length, 2);
  for (const [, m] of held) {
    assert.equal(m.epoch, oldEpoch, 'the pull names the history the log came from');
    assert.equal(m.lastServerSeq, 3);
  }
  assert.equal(acked.length, 0, 'the ack is not applied');
  assert.equal(a.pendingCount, 1);
  assert.equal(a.serverSeqOf(4), null);
  assert.equal(a.epoch, oldEpoch);
  assert.equal(w.lastServerSeq, 3);
  assert.equal(w.localState.meet.date, undefined, 'the relayed entry is not added');
  assert.equal(w.canonicalLog().length, 3);
  assert.equal(w.epoch, oldEpoch);
  server.intercept = null;
  for (const h of held) server.handle(...h);
  // SERVER_PULL{1} to both; they give 2..3 back (re-sequenced: the new history has a 2).
  await until(() => a.pendingCount === 0 && !a.outOfSync && !w.outOfSync && a.lastServerSeq === 4
    && w.lastServerSeq === 4);
  assert.equal(a.epoch, meet.epoch);
  assert.equal(w.epoch, meet.epoch);
  assert.deepEqual(meet.log.map((e) => e.updateKey), ['meet.name', 'meet.date', 'meet.city', 'meet.federation']);
  assert.deepEqual(a.localState, w.localState);
  assert.equal(a.serverSeqOf(4), 2, 'the update kept the number the new history gave it');
});

test('a client that holds nothing takes the epoch of an ack or relay and sends no epoch in its pull', async () => {
  const server = new FakeServer();
  const { meetId, meet } = await meetWithThree(server);
  const b = await openClient(server);
  await b.joinMeet({ meetId, password: PASSWORD, locationName: 'Board', role: 'display' });
  const pull = server.sentBy(b, 'CLIENT_PULL')[0];
  assert.equal(pull.lastServerSeq, 0);
  assert.equal('epoch' in pull, false, 'nothing held, nothing to vouch for');
  await until(() => b.synced && b.lastServerSeq === 3);
  assert.equal(b.epoch, meet.epoch);
});

test('a conflict rejection with a head above what the client holds makes it pull', async () => {
  const server = new FakeServer();
  const { a, meetId } = await meetWithThree(server);
  const w = await join(server, meetId, 'Weigh-in');
  w._socket.mutedRelays = true; // w misses the relay of a's next update
  a.update('meet.name', 'Platform wins');
  await until(() => a.pendingCount === 0 && a.lastServerSeq === 4);
  assert.equal(w.lastServerSeq, 3);
  w._socket.mutedRelays = false;
  const pullsBefore = server.sentBy(w, 'CLIENT_PULL').length;
  w.update('meet.name', 'Weigh-in loses');
  await until(() => w.rejected.length === 1 && w.lastServerSeq === 4 && !w.outOfSync);
  const r = w.rejected[0];
  assert.equal(r.conflict, true);
  assert.equal(r.headServerSeq, 4);
  const pulls = server.sentBy(w, 'CLIENT_PULL').slice(pullsBefore);
  assert.deepEqual(pulls.map((m) => m.lastServerSeq), [3], 'one pull, from what it held');
  assert.equal(w.localState.meet.name, 'Platform wins');
});

test('the head of a conflict item counts (also without a top-level one); a non-conflict rejection pulls nothing', async () => {
  const server = new FakeServer();
  const { meetId } = await meetWithThree(server);
  const w = await join(server, meetId, 'Weigh-in');
  // The test answers w's updates itself.
  server.intercept = (ws, m) => m.msgType === 'UPDATE_INIT';
  const pullsBefore = server.sentBy(w, 'CLIENT_PULL').length;
  const bad = w.update('meet.notes', 'x');
  await until(() => server.sentBy(w, 'UPDATE_INIT').length === 1);
  w._socket._deliver({ msgType: 'UPDATE_REJECTED', headServerSeq: 9, epoch: w.epoch,
    updatesRejected: [{ localSeqNum: bad, conflict: false, code: 'VALUE_TOO_LARGE', reason: 'test' }] });
  await until(() => w.rejected.length === 1);
  assert.equal(w.rejected[0].headServerSeq, 0);
  assert.equal(server.sentBy(w, 'CLIENT_PULL').length, pullsBefore, 'a non-conflict rejection says nothing about entries');
  const lost = w.update('meet.name', 'x');
  await until(() => server.sentBy(w, 'UPDATE_INIT').length === 2);
  w._socket._deliver({ msgType: 'UPDATE_REJECTED', epoch: w.epoch, updatesRejected: [{ localSeqNum: lost,
    conflict: true, code: 'CONFLICT', reason: 'test', headServerSeq: 4, updateKey: 'meet.name',
    winner: { serverSeqNum: 4, locationName: 'Platform A', clientId: 'x', priority: 10 }, currentValue: 'won' }] });
  await until(() => w.rejected.length === 2 && server.sentBy(w, 'CLIENT_PULL').length === pullsBefore + 1);
  assert.equal(w.rejected[1].headServerSeq, 4);
  assert.equal(server.sentBy(w, 'CLIENT_PULL').at(-1).lastServerSeq, 3);
  assert.equal(w.pendingCount, 0);
});

test('a compacted answer is buffered until compactedLast and the pull ends only with the ordinary final chunk', async () => {
  const server = new FakeServer({ compactAbove: 3, compactChunkItems: 2 });
  const a = await openClient(server);
  const { meetId } = await a.createMeet({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  for (let i = 0; i < 6; i++) a.update(`records.r${i}`, i);
  await until(() => a.pendingCount === 0 && a.lastServerSeq === 6);
  const late = await openClient(server);
  const seen = [];
  server.afterDeliver = (ws, m) => {
    if (ws !== late._socket || m.msgType !== 'UPDATE_RELAY') return;
    seen.push({ compacted: !!m.compacted, last: !!m.compactedLast, final: m.final, seq: late.lastServerSeq,
      records: Object.keys(late.canonicalState.records ?? {}).length, outOfSync: late.outOfSync });
  };
  await late.joinMeet({ meetId, password: PASSWORD, locationName: 'Board', role: 'display' });
  await until(() => late.synced && !late.outOfSync);
  assert.deepEqual(seen.map((s) => [s.compacted, s.last, s.final]),
    [[true, false, false], [true, false, false], [true, true, false], [false, false, true]]);
  assert.deepEqual(seen.map((s) => s.seq), [0, 0, 6, 6], 'nothing applied before compactedLast');
  assert.deepEqual(seen.map((s) => s.records), [0, 0, 6, 6]);
  assert.deepEqual(seen.map((s) => s.outOfSync), [true, true, true, false], 'the pull ends with the final chunk');
  assert.deepEqual(late.canonicalState, a.canonicalState);
  assert.equal(late.compactedAfter, 0);
});

test('a compacted part on top of held entries, then SERVER_PULL below the base: rebuilt from the held entries', async () => {
  const server = new FakeServer({ compactAbove: 3 });
  const { a, meetId, meet } = await meetWithThree(server);
  const w = await join(server, meetId, 'Weigh-in'); // holds 1..3 one by one (a plain answer)
  assert.equal(w.canonicalLog().length, 3);
  w.setOnline(false);
  for (let i = 0; i < 6; i++) a.update(`records.r${i}`, i);
  await until(() => a.pendingCount === 0 && a.lastServerSeq === 9);
  w.setOnline(true);
  await until(() => w.lastServerSeq === 9 && !w.outOfSync);
  assert.equal(w.compactedAfter, 3);
  assert.equal(w.canonicalLog().length, 3, 'seqs 4..9 are held as a base');
  w.setOnline(false);
  a.setOnline(false);
  server.loseTail(meetId, 2);
  w.setOnline(true);
  // k = 2 is below the base (9) but at or below compactedAfter (3): the log is rebuilt from 1..2
  // and entry 3 goes back; 4..9 are not held one by one, so a gives them back.
  await until(() => w.recoveryOutboxSize === 0 && server.sentBy(w, 'RECOVERY_PUSH').length === 1
    && w.lastServerSeq === 3 && !w.outOfSync);
  assert.deepEqual(server.sentBy(w, 'RECOVERY_PUSH')[0].entries.map((e) => e.serverSeqNum), [3]);
  assert.equal(w.compactedAfter, null);
  a.setOnline(true);
  await until(() => a.lastServerSeq === 9 && w.lastServerSeq === 9 && !a.outOfSync && !w.outOfSync);
  assert.equal(meet.log.length, 9);
  assert.deepEqual(w.canonicalState, a.canonicalState);
});

test('a log without a known epoch pulls with the placeholder and is verified, never trusted', async () => {
  const server = new FakeServer();
  const store = new MemoryStore();
  const { a, meet } = await meetWithThree(server, store);
  await a.whenSaved();
  a.close();
  // State saved before epochs existed.
  const saved = await store.load();
  store.putSession({ ...saved.session, epoch: '' });
  const a2 = await openClient(server, store);
  assert.equal(a2.epoch, '');
  a2.setOnline(true);
  await until(() => server.sentBy(a2, 'CLIENT_PULL').length >= 1);
  const pull = server.sentBy(a2, 'CLIENT_PULL')[0];
  assert.equal(pull.epoch, UNKNOWN_EPOCH);
  assert.equal(pull.lastServerSeq, 3);
  // SERVER_PULL{0}: everything goes back; the server holds it all already (duplicates).
  await until(() => a2.recoveryOutboxSize === 0 && a2.lastServerSeq === 3 && !a2.outOfSync);
  assert.equal(server.sentBy(a2, 'RECOVERY_PUSH')[0].epoch, UNKNOWN_EPOCH);
  assert.deepEqual(server.sentBy(a2, 'RECOVERY_PUSH')[0].entries.map((e) => e.serverSeqNum), [1, 2, 3]);
  assert.equal(a2.epoch, meet.epoch);
  assert.equal(meet.log.length, 3);
  assert.equal(a2.localState.meet.federation, 'three');
});

test('a display client answers SERVER_PULL by resynchronizing only; an updating one gives the entries back', async () => {
  const server = new FakeServer();
  const { a, meetId, meet } = await meetWithThree(server);
  const d = await join(server, meetId, 'Board', 'display');
  a.setOnline(false);
  d.setOnline(false);
  server.loseTail(meetId, 1);
  const pulls = [];
  d.addEventListener('serverpull', (e) => pulls.push(e.detail));
  d.setOnline(true);
  await until(() => pulls.length === 1 && d.lastServerSeq === 1 && !d.outOfSync);
  assert.equal(server.received.filter((m) => m.msgType === 'RECOVERY_PUSH').length, 0);
  assert.equal(d.recoveryOutboxSize, 0);
  assert.equal(d.localState.meet.city, undefined);
  a.setOnline(true);
  await until(() => d.lastServerSeq === 3 && a.lastServerSeq === 3 && !a.outOfSync);
  assert.equal(meet.log.length, 3);
  assert.deepEqual(d.localState, a.localState);
});

test('entries written by the server itself ("oll-server") are ordinary entries', async () => {
  const server = new FakeServer();
  const { a, meetId, meet } = await meetWithThree(server);
  const w = await join(server, meetId, 'Weigh-in');
  const e = { serverSeqNum: 4, updateKey: 'live.notice', updateValue: 'restored', clientId: 'oll-server',
    localSeqNum: 1, locationName: 'Platform A', priority: 10, afterServerSeqNum: 3 };
  meet.log.push(e);
  meet.epochs.set(meet.epoch, 4);
  server.relay(meet, [e], null);
  await until(() => a.lastServerSeq === 4 && w.lastServerSeq === 4);
  for (const c of [a, w]) {
    assert.equal(c.localState.live.notice, 'restored');
    assert.equal(c.canonicalLog().at(-1).clientId, 'oll-server');
  }
  a.update('meet.name', 'after');
  await until(() => w.localState.meet.name === 'after' && a.pendingCount === 0);
});
