// SPDX-License-Identifier: AGPL-3.0-or-later
// Display links in the client library (docs/protocol.md §22): joining read-only with a link's
// token, following the meet, joining again when the session ends, and stopping for good when the
// director revokes the link.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  DISPLAY_LINK_REVOKED, Status, displayTokenFromUrl, isDisplayToken,
} from '../../../resources/web/lib/sync-client.js';
import { MemoryStore } from '../../../resources/web/lib/storage.js';
import { FakeServer, until } from '../support/fake-server.js';
import { ENDPOINTS, PASSWORD, openClient } from '../support/fixtures.js';

async function meetWithBoardLink(server) {
  const a = await openClient(server);
  const created = await a.createMeet({ thisLocationName: 'Platform A', password: PASSWORD, endpoints: ENDPOINTS });
  a.update('meet.name', 'Spring Open');
  await until(() => a.pendingCount === 0);
  const link = server.mintDisplayLink(created.meetId, 'Warm-up room board');
  return { a, meetId: created.meetId, link };
}

const events = (client, type) => {
  const seen = [];
  client.addEventListener(type, (ev) => seen.push(ev.detail));
  return seen;
};

test('the token is read from the URL fragment only when it is well formed', () => {
  const token = 'kO54Nh924lmMujGJjkau-x1HxZPJNn9LQHPvvuayz5k';
  assert.equal(displayTokenFromUrl(`http://10.0.0.2:8420/demo/#display=${token}`), token);
  assert.equal(displayTokenFromUrl('http://10.0.0.2:8420/demo/'), null);
  assert.equal(displayTokenFromUrl(`http://10.0.0.2:8420/demo/?display=${token}`), null); // never a query
  assert.equal(displayTokenFromUrl('http://10.0.0.2:8420/demo/#display=abc'), null);
  assert.equal(isDisplayToken(token), true);
  assert.equal(isDisplayToken(`${token.slice(0, 42)}+`), false);
  assert.equal(DISPLAY_LINK_REVOKED, 4001);
});

test('a display link joins read-only without meet ID or password and follows the meet', async () => {
  const server = new FakeServer();
  const { a, meetId, link } = await meetWithBoardLink(server);
  const store = new MemoryStore();
  const d = await openClient(server, store);
  const joined = await d.joinDisplay(link.token);
  assert.equal(joined.role, 'display');
  assert.equal(d.isDisplay, true);
  assert.equal(d.meetId, meetId);
  assert.equal(d.locationName, 'Warm-up room board');
  assert.equal(d.displayToken, link.token);
  const [sent] = server.sentBy(d, 'JOIN_DISPLAY');
  assert.deepEqual(Object.keys(sent).sort(), ['clientId', 'displayToken', 'msgType']);
  await until(() => d.synced && d.localState.meet?.name === 'Spring Open');

  a.update('meet.name', 'Autumn Open');
  await until(() => d.localState.meet.name === 'Autumn Open');
  assert.throws(() => d.update('meet.name', 'x'), { code: 'READ_ONLY_SESSION' });
  assert.equal(server.sentBy(d, 'UPDATE_INIT').length, 0);

  // A reload re-binds with the stored session; it does not mint itself a new one.
  d.close();
  const d2 = await openClient(server, store);
  assert.equal(d2.displayToken, link.token);
  assert.equal(d2.hasSession, true);
  d2.setOnline(true);
  a.update('meet.name', 'Winter Open');
  await until(() => d2.online && d2.localState.meet.name === 'Winter Open');
  assert.equal(server.sentBy(d2, 'JOIN_DISPLAY').length, 1); // the first page's join only
});

test('a revoked link closes the page with 4001: status revoked, no reconnecting, the meet stays shown', async () => {
  const server = new FakeServer();
  const { meetId, link } = await meetWithBoardLink(server);
  const store = new MemoryStore();
  const d = await openClient(server, store);
  const revoked = events(d, 'displayrevoked');
  await d.joinDisplay(link.token);
  await until(() => d.localState.meet?.name === 'Spring Open');
  const socketsBefore = server.trace.filter((t) => t.ws.clientId === d.clientId).length;

  assert.equal(server.revokeDisplayLink(meetId, link.linkId), 1);
  await until(() => d.status === Status.REVOKED);
  assert.deepEqual(revoked, [{ reason: 'display link revoked' }]);
  assert.equal(d.wantsOnline, false);
  assert.equal(d.hasSession, false);
  assert.equal(d.displayToken, '');
  assert.equal(d.snapshot().displayRevoked, true);
  assert.equal(d.localState.meet.name, 'Spring Open');
  // Nothing more is sent: no reconnect is scheduled.
  assert.equal(d._reconnectTimer, null);
  await new Promise((r) => setTimeout(r, 50)); // several reconnect delays (2..20 ms) would have passed
  assert.equal(server.trace.filter((t) => t.ws.clientId === d.clientId).length, socketsBefore);

  // After a reload the page still knows, and does not go online by itself.
  const d2 = await openClient(server, store);
  assert.equal(d2.status, Status.REVOKED);
  assert.equal(d2.hasSession, false);
  assert.equal(d2.meetId, meetId);
});

test('a refused or malformed token ends in status revoked; a malformed one is never sent', async () => {
  const server = new FakeServer();
  await meetWithBoardLink(server);
  const d = await openClient(server);
  const revoked = events(d, 'displayrevoked');
  await assert.rejects(d.joinDisplay('too-short'), { reason: /43 base64url characters/ });
  assert.equal(server.sentBy(d, 'JOIN_DISPLAY').length, 0);

  await assert.rejects(d.joinDisplay('A'.repeat(43)), { reason: 'unknown or revoked display link' });
  assert.equal(d.status, Status.REVOKED);
  assert.deepEqual(revoked, [{ reason: 'unknown or revoked display link' }]);
  assert.equal(d.wantsOnline, false);
  assert.equal(server.sentBy(d, 'JOIN_DISPLAY').length, 1);
});

test('an ended session joins again with the link; a back-off is waited out, not hammered', async () => {
  const server = new FakeServer();
  const { a, meetId, link } = await meetWithBoardLink(server);
  const d = await openClient(server);
  await d.joinDisplay(link.token);
  await until(() => d.synced);
  const firstSession = server.sentBy(d, 'CLIENT_PULL').at(-1).sessionToken;

  // The server forgets the session (expired, or dropped by the cap); the first JOIN_DISPLAY after
  // that meets a back-off.
  server.meets.get(meetId).sessions.delete(firstSession);
  let refusedOnce = false;
  server.intercept = (ws, m) => {
    if (m.msgType === 'JOIN_DISPLAY' && !refusedOnce) {
      refusedOnce = true;
      ws._deliver({ msgType: 'JOIN_REJECTED', reason: 'too many failed attempts from your address; try again in 1 s',
        retryAfterMs: 5 });
      return true;
    }
    return false;
  };
  server.dropAll();
  a.update('meet.name', 'After the expiry');
  await until(() => d.online && d.localState.meet.name === 'After the expiry', 1e6);
  assert.equal(refusedOnce, true);
  const joins = server.sentBy(d, 'JOIN_DISPLAY');
  assert.equal(joins.length, 3); // the first join, the refused one, the one after retryAfterMs
  assert.ok(joins.every((m) => m.displayToken === link.token));
  assert.notEqual(server.sentBy(d, 'CLIENT_PULL').at(-1).sessionToken, firstSession);
  assert.equal(d.status, Status.ONLINE);
});

test('a server that does not know JOIN_DISPLAY refuses the join instead of leaving it hanging', async () => {
  const server = new FakeServer();
  const { link } = await meetWithBoardLink(server);
  const d = await openClient(server);
  server.intercept = (ws, m) => {
    if (m.msgType !== 'JOIN_DISPLAY') return false;
    ws._deliver({ msgType: 'UNKNOWN_MESSAGE_TYPE', unknownMsgType: 'JOIN_DISPLAY',
      errMsg: "unknown message type 'JOIN_DISPLAY'" });
    return true;
  };
  await assert.rejects(d.joinDisplay(link.token), { reason: /does not know JOIN_DISPLAY/ });
  assert.equal(d.status, Status.REVOKED);
  assert.equal(d.wantsOnline, false);
});
