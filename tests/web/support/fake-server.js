// SPDX-License-Identifier: AGPL-3.0-or-later
// An in-process stand-in for the live server, for the unit tests of the client library and the
// Redux adapter: sessions, sequencing, acks, relays (not to the sender's socket), pulls,
// conflicts by location priority (DESIGN.md §4, the spec's rule), SERVER_PULL with an epoch, and
// optionally compacted pull answers. It is not the real server: the end-to-end tests in
// tests/web/e2e run the real binary. Messages are delivered asynchronously, one task at a time,
// so the client sees the interleavings a network gives.
//
// Test hooks:
//   intercept(ws, m)    called before the server handles a client message; return true to take
//                       it (the test defers it, drops the socket, answers with a crafted reply...)
//   afterDeliver(ws, m) called right after a message was handed to the client (synchronously,
//                       so the client's state is the one that message left)
//   trace               every message in order: {dir: 'in' | 'out', ws, m}
//   rejectRecovery      answer this many RECOVERY_PUSH messages with RECOVERY_REJECTED
//   ws.mutedRelays      a socket with this set gets no live relays (it missed them)

import { applyUpdate, deepEqual, parseKey, valueAt } from '../../../resources/web/lib/keypath.js';

const tick = () => new Promise((r) => setImmediate(r));

function overlap(a, b) {
  if (a === b) return true;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return long.startsWith(short) && (long[short.length] === '.' || long[short.length] === '[');
}

/** The value an update (key, value) gives at `at` (a descendant of key or key itself). */
function valueGivenAt(key, value, at) {
  return valueAt(applyUpdate({}, key, value), at);
}

export class FakeServer {
  constructor({ compactAbove = Infinity, compactChunkItems = 1000 } = {}) {
    this.meets = new Map();
    this.sockets = new Set();
    this.compactAbove = compactAbove;
    this.compactChunkItems = compactChunkItems;
    this.received = []; // every message, for assertions
    this.trace = [];
    this.intercept = null;
    this.afterDeliver = null;
    this.rejectRecovery = 0;
    this.nextMeet = 100000000;
  }

  /** Messages a client sent, in order, optionally of one type. */
  sentBy(client, msgType) {
    return this.trace.filter((t) => t.dir === 'in' && t.ws.clientId === client.clientId
      && (!msgType || t.m.msgType === msgType)).map((t) => t.m);
  }

  /** A WebSocket class bound to this server, for LiveClient({WebSocket}). */
  get WebSocket() {
    const server = this;
    return class FakeWebSocket {
      constructor(url) {
        this.url = url;
        this.readyState = 0;
        this.meet = null;
        this.token = null;
        this.onopen = this.onclose = this.onmessage = this.onerror = null;
        if (server.down) {
          setImmediate(() => { this.readyState = 3; this.onclose?.({ code: 1006 }); });
          return;
        }
        server.sockets.add(this);
        setImmediate(() => { if (this.readyState === 0) { this.readyState = 1; this.onopen?.({}); } });
      }
      send(text) {
        if (this.readyState !== 1) throw new Error('not open');
        const m = JSON.parse(text);
        server.received.push(m);
        if (m.clientId) this.clientId = m.clientId;
        for (const meet of server.meets.values()) {
          const s = meet.sessions.get(m.sessionToken);
          if (s) this.clientId = s.clientId;
        }
        server.trace.push({ dir: 'in', ws: this, m });
        setImmediate(() => {
          if (this.readyState !== 1) return;
          if (server.intercept?.(this, m)) return;
          server.handle(this, m);
        });
      }
      close() { server.drop(this); }
      _deliver(m) {
        const text = JSON.stringify(m);
        setImmediate(() => {
          if (this.readyState !== 1) return;
          server.trace.push({ dir: 'out', ws: this, m });
          this.onmessage?.({ data: text });
          server.afterDeliver?.(this, m);
        });
      }
    };
  }

  /** Closes a socket as a dropped network would (the client sees a close). */
  drop(ws) {
    if (ws.readyState === 3) return;
    ws.readyState = 3;
    this.sockets.delete(ws);
    setImmediate(() => ws.onclose?.({ code: 1006 }));
  }

  dropAll() { for (const ws of [...this.sockets]) this.drop(ws); }

  newMeet(endpoints, password) {
    const meetId = String(this.nextMeet++);
    const meet = { meetId, password, endpoints, log: [], doc: {}, sessions: new Map(), epoch: 'e0000000000000001',
      epochs: new Map([['e0000000000000001', 0]]) };
    this.meets.set(meetId, meet);
    return meet;
  }

  /** Simulates a server that lost every entry above `k` (a restart from an old disk). */
  loseTail(meetId, k, epoch = 'e00000000000000ff') {
    const meet = this.meets.get(meetId);
    meet.log = meet.log.slice(0, k);
    meet.doc = meet.log.reduce((d, e) => applyUpdate(d, e.updateKey, e.updateValue), {});
    for (const key of meet.epochs.keys()) meet.epochs.set(key, Math.min(meet.epochs.get(key), k));
    meet.epoch = epoch;
    meet.epochs.set(epoch, k);
  }

  head(meet) { return meet.log.length; }

  handle(ws, m) {
    switch (m.msgType) {
      case 'CREATE_MEET': {
        if (m.password.length < 10) return ws._deliver({ msgType: 'CREATE_REJECTED', reason: 'password must be at least 10 characters' });
        const meet = this.newMeet(m.endpoints, m.password);
        return this.login(ws, meet, m.thisLocationName, m.clientId, 'update', 'MEET_CREATED');
      }
      case 'JOIN_MEET': {
        const id = String(m.meetId).replace(/[\s-]/g, '');
        const meet = this.meets.get(id);
        if (!meet || meet.password !== m.password) return ws._deliver({ msgType: 'JOIN_REJECTED', reason: 'invalid meet ID or password' });
        if (!meet.endpoints.some((e) => e.locationName === m.locationName)) {
          return ws._deliver({ msgType: 'JOIN_REJECTED', reason: `unknown location '${m.locationName}'` });
        }
        return this.login(ws, meet, m.locationName, m.clientId, m.role || 'update', 'MEET_JOINED');
      }
      case 'JOIN_DISPLAY': {
        if (!/^[A-Za-z0-9_-]{43}$/.test(m.displayToken ?? '')) {
          return ws._deliver({ msgType: 'JOIN_REJECTED', reason: 'a display link token is 43 base64url characters' });
        }
        for (const meet of this.meets.values()) {
          const link = meet.displayLinks?.get(m.displayToken);
          if (link) return this.login(ws, meet, link.label, m.clientId, 'display', 'MEET_JOINED', link.linkId);
        }
        return ws._deliver({ msgType: 'JOIN_REJECTED', reason: 'unknown or revoked display link' });
      }
      case 'UPDATE_INIT': return this.updateInit(ws, m);
      case 'CLIENT_PULL': return this.pull(ws, m);
      case 'RECOVERY_PUSH': return this.recovery(ws, m);
      default: return ws._deliver({ msgType: 'UNKNOWN_MESSAGE_TYPE', unknownMsgType: m.msgType });
    }
  }

  /** Mints a display link as the director does in the app: {linkId, token}. */
  mintDisplayLink(meetId, label) {
    const meet = this.meets.get(meetId);
    meet.displayLinks ??= new Map();
    const token = `d${Math.random().toString(36).slice(2)}${'y'.repeat(42)}`.slice(0, 43);
    const linkId = `dl-${String(meet.displayLinks.size).padStart(8, '0')}`;
    meet.displayLinks.set(token, { linkId, label });
    return { linkId, token };
  }

  /** Revokes a link: its sessions go, its sockets are closed with 4001. Returns how many. */
  revokeDisplayLink(meetId, linkId) {
    const meet = this.meets.get(meetId);
    for (const [token, link] of meet.displayLinks ?? []) if (link.linkId === linkId) meet.displayLinks.delete(token);
    const tokens = [...meet.sessions].filter(([, s]) => s.displayLinkId === linkId).map(([t]) => t);
    for (const t of tokens) meet.sessions.delete(t);
    let closed = 0;
    for (const ws of [...this.sockets]) {
      if (ws.meet === meet && tokens.includes(ws.token) && ws.readyState === 1) {
        ws.readyState = 3;
        this.sockets.delete(ws);
        setImmediate(() => ws.onclose?.({ code: 4001, reason: 'display link revoked' }));
        closed++;
      }
    }
    return closed;
  }

  login(ws, meet, locationName, clientId, role, msgType, displayLinkId = '') {
    const token = `t${Math.random().toString(36).slice(2)}${'x'.repeat(30)}`.slice(0, 43);
    const priority = meet.endpoints.find((e) => e.locationName === locationName)?.priority ?? 0;
    meet.sessions.set(token, { clientId, locationName, role, priority, displayLinkId });
    ws.meet = meet;
    ws.token = token;
    ws._deliver({ msgType, meetId: meet.meetId, meetIdDisplay: meet.meetId.replace(/(\d{3})(\d{3})(\d{3})/, '$1 $2 $3'),
      sessionToken: token, locationName, role, priority, endpoints: meet.endpoints, headServerSeq: this.head(meet),
      epoch: meet.epoch, expiresAt: '2099-01-01T00:00:00.000Z' });
  }

  session(ws, m) {
    for (const meet of this.meets.values()) {
      const s = meet.sessions.get(m.sessionToken);
      if (s) {
        ws.meet = meet;
        ws.token = m.sessionToken;
        return { meet, s };
      }
    }
    ws._deliver({ msgType: 'INVALID_SESSION', sessionToken: m.sessionToken, reason: 'unknown session; join the meet again' });
    return null;
  }

  updateInit(ws, m) {
    const found = this.session(ws, m);
    if (!found) return;
    const { meet, s } = found;
    const acks = [];
    const rejected = [];
    const written = [];
    for (const u of m.updates) {
      const dup = meet.log.find((e) => e.clientId === s.clientId && e.localSeqNum === u.localSeqNum);
      if (dup) { acks.push({ localSeqNum: u.localSeqNum, serverSeqNum: dup.serverSeqNum }); continue; }
      if (s.role === 'display') {
        rejected.push({ localSeqNum: u.localSeqNum, conflict: false, code: 'READ_ONLY_SESSION', reason: 'display-only' });
        continue;
      }
      try { parseKey(u.updateKey); } catch (e) {
        rejected.push({ localSeqNum: u.localSeqNum, conflict: false, code: e.code, reason: e.message });
        continue;
      }
      const winner = this.conflictWinner(meet, u, s);
      if (winner) {
        const cur = valueAt(meet.doc, u.updateKey);
        const r = { localSeqNum: u.localSeqNum, conflict: true, code: 'CONFLICT',
          reason: `conflicts with ${winner.locationName} (seq ${winner.serverSeqNum})`,
          winner: { serverSeqNum: winner.serverSeqNum, locationName: winner.locationName, clientId: winner.clientId,
            priority: winner.priority }, updateKey: u.updateKey, headServerSeq: this.head(meet) + written.length };
        if (cur !== undefined) r.currentValue = cur;
        rejected.push(r);
        continue;
      }
      const e = { serverSeqNum: this.head(meet) + 1, updateKey: u.updateKey, updateValue: u.updateValue,
        clientId: s.clientId, localSeqNum: u.localSeqNum, locationName: s.locationName, priority: s.priority,
        afterServerSeqNum: u.afterServerSeqNum };
      meet.log.push(e);
      meet.doc = applyUpdate(meet.doc, e.updateKey, e.updateValue);
      meet.epochs.set(meet.epoch, this.head(meet));
      written.push(e);
      acks.push({ localSeqNum: u.localSeqNum, serverSeqNum: e.serverSeqNum });
    }
    if (rejected.length) {
      ws._deliver({ msgType: 'UPDATE_REJECTED', updatesRejected: rejected, headServerSeq: this.head(meet),
        epoch: meet.epoch });
    }
    this.relay(meet, written, ws);
    if (acks.length) ws._deliver({ msgType: 'UPDATE_ACK', updateAcks: acks, headServerSeq: this.head(meet), epoch: meet.epoch });
  }

  /** Relays entries to every socket of the meet except `except` (and muted ones). */
  relay(meet, written, except) {
    if (!written.length) return;
    for (const other of this.sockets) {
      if (other === except || other.meet !== meet || other.readyState !== 1 || other.mutedRelays) continue;
      other._deliver({ msgType: 'UPDATE_RELAY', headServerSeq: this.head(meet), epoch: meet.epoch,
        updatesRelayed: written.map(strip) });
    }
  }

  conflictWinner(meet, u, s) {
    let winner = null;
    let overruled = false;
    for (const e of meet.log) {
      if (e.serverSeqNum <= u.afterServerSeqNum || e.clientId === s.clientId || !overlap(e.updateKey, u.updateKey)) continue;
      let differ;
      if (u.updateKey.startsWith(e.updateKey)) {
        differ = !deepEqual(valueGivenAt(e.updateKey, e.updateValue, u.updateKey), u.updateValue);
      } else {
        differ = !deepEqual(e.updateValue, valueGivenAt(u.updateKey, u.updateValue, e.updateKey));
      }
      if (!differ) continue;
      if (e.priority >= s.priority) winner = e;
      else overruled = true;
    }
    this.lastOverruled = overruled;
    return winner;
  }

  pull(ws, m) {
    const found = this.session(ws, m);
    if (!found) return;
    const { meet } = found;
    // No epoch: a client that does not track them; its numbers are taken as this history's.
    const k = m.epoch ? meet.epochs.get(m.epoch) ?? 0 : this.head(meet);
    if (m.lastServerSeq > k) {
      return ws._deliver({ msgType: 'SERVER_PULL', lastServerSeq: k, epoch: meet.epoch, headServerSeq: this.head(meet) });
    }
    const x = m.lastServerSeq;
    const H = this.head(meet);
    const common = { msgType: 'UPDATE_RELAY', pull: true, headServerSeq: H, epoch: meet.epoch };
    if (m.compact !== false && H - x > this.compactAbove) {
      // Roots: each changed key's prefix before its first array segment.
      const roots = [];
      for (const e of meet.log.slice(x)) {
        const root = e.updateKey.split('[')[0];
        if (!roots.includes(root)) roots.push(root);
      }
      const kept = roots.filter((r) => !roots.some((o) => o !== r && overlap(o, r) && r.startsWith(o)));
      const items = kept.filter((r) => valueAt(meet.doc, r) !== undefined)
        .map((r) => ({ updateKey: r, updateValue: valueAt(meet.doc, r), serverSeqNum: H }));
      // As the real server does: compacted chunks never say final; compactedLast marks the last
      // one, and an ordinary chunk (with what came after `through`, here nothing) ends the answer.
      const n = Math.max(1, Math.ceil(items.length / this.compactChunkItems));
      for (let i = 0; i < n; i++) {
        ws._deliver({ ...common, final: false, compacted: true, fromServerSeq: x, throughServerSeq: H,
          compactedLast: i === n - 1,
          updatesRelayed: items.slice(i * this.compactChunkItems, (i + 1) * this.compactChunkItems) });
      }
      return ws._deliver({ ...common, final: true, updatesRelayed: [] });
    }
    ws._deliver({ ...common, final: true, updatesRelayed: meet.log.slice(x).map(strip) });
  }

  /**
   * RECOVERY_PUSH, as Meet::recover does it (without the conflict rule): entries the server holds
   * under that history are skipped; the run right after it is restored with its original numbers
   * while nothing was appended since; everything else is re-sequenced as new entries.
   */
  recovery(ws, m) {
    const found = this.session(ws, m);
    if (!found) return;
    const { meet, s } = found;
    if (s.role === 'display' || this.rejectRecovery > 0) {
      if (s.role !== 'display') this.rejectRecovery--;
      return ws._deliver({ msgType: 'RECOVERY_REJECTED', reason: 'refused by the test' });
    }
    const known = meet.epochs.has(m.epoch) ? meet.epochs.get(m.epoch) : undefined;
    const base = known ?? 0;
    let direct = known !== undefined && m.epoch !== meet.epoch && this.head(meet) === base;
    let restoredThrough = base;
    const r = { restored: 0, resequenced: 0, duplicates: 0, conflicts: 0, skipped: [] };
    const written = [];
    for (const e of m.entries) {
      if (known !== undefined && e.serverSeqNum <= base) continue;
      const priority = meet.endpoints.find((p) => p.locationName === e.locationName)?.priority;
      if (priority === undefined) {
        r.skipped.push({ serverSeqNum: e.serverSeqNum, reason: `location '${e.locationName}' is not an endpoint` });
        direct = false;
        continue;
      }
      if (meet.log.some((x) => x.clientId === e.clientId && x.localSeqNum === e.localSeqNum)) {
        r.duplicates++;
        direct = false;
        continue;
      }
      const entry = { serverSeqNum: this.head(meet) + 1, updateKey: e.updateKey, updateValue: e.updateValue,
        clientId: e.clientId, localSeqNum: e.localSeqNum, locationName: e.locationName, priority,
        afterServerSeqNum: e.afterServerSeqNum };
      if (direct && e.serverSeqNum === this.head(meet) + 1) {
        restoredThrough = e.serverSeqNum;
        r.restored++;
      } else {
        direct = false;
        entry.afterServerSeqNum = restoredThrough;
        r.resequenced++;
      }
      meet.log.push(entry);
      meet.doc = applyUpdate(meet.doc, entry.updateKey, entry.updateValue);
      written.push(entry);
    }
    meet.epochs.set(meet.epoch, this.head(meet));
    if (restoredThrough > base) meet.epochs.set(m.epoch, restoredThrough);
    this.relay(meet, written, null);
    ws._deliver({ msgType: 'RECOVERY_ACK', ...r, headServerSeq: this.head(meet), epoch: meet.epoch });
  }
}

function strip(e) {
  const { priority, ...rest } = e;
  return rest;
}

/** Waits until `cond()` is true, letting the fake network run; fails after `limit` turns. */
export async function until(cond, limit = 2000) {
  for (let i = 0; i < limit; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`condition not reached: ${cond}`);
}
