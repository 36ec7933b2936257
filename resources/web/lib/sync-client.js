// SPDX-License-Identifier: AGPL-3.0-or-later
// The browser side of the live protocol (docs/protocol.md, with the epoch, compacted-pull,
// conflict and recovery additions): what server/client/SyncClient.h models in C++, for a browser.
//
// It keeps
// - the canonical log: sequenced entries by serverSeqNum, from acks, relays and pulls, with the
//   state they materialize (the contiguous prefix applied in order, on top of the base a
//   compacted pull may have given);
// - the pending log: own updates not acked yet, re-applied on top of the canonical state every
//   time either changes (the rebase), so the page always shows "server state + my edits";
// - one WebSocket, reopened with back-off, re-bound with CLIENT_PULL and followed by a resend of
//   every unacked update (idempotent on the server: same clientId + localSeqNum);
// - everything above in IndexedDB, so a reload while offline loses nothing.
//
// Events (EventTarget; `event.detail`):
//   status        a snapshot() whenever status, online, outOfSync, pendingCount or seqs change
//   change        {remote}: localState changed; remote=false only for this client's own update()
//   acked         {localSeqNum, serverSeqNum}
//   rejected      {update, code, reason, conflict, winner, currentValue}
//   loggedin      the MEET_CREATED / MEET_JOINED / MEET_RESTORED message
//   loginrejected {msgType, reason, retryAfterMs, pendingApproval}
//   displayrevoked {reason}: the display link this client joined with was revoked or refused;
//                 the client stays offline (status 'revoked') until it is given a new link
//   serverpull    {lastServerSeq, epoch}: the server holds less than this client had
//   recoverypushed {entryCount}: entries above the server's head went into RECOVERY_PUSH
//   recoveryack   {restored, resequenced, duplicates, conflicts, skipped, headServerSeq, epoch}
//   recoveryrejected {reason}: the oldest unanswered push stays in the outbox and is sent again
//   synced        the first complete pull after a login (or a reload) has arrived
//   storageerror  {localSeqNums}
//   protocolerror {msgType, detail}

import { applyUpdate, jsonClone, parseKey } from './keypath.js';
import { defaultStore } from './storage.js';

export const Status = Object.freeze({
  OFFLINE: 'offline', // no socket (setOnline(false), no network, or waiting to reconnect)
  CONNECTING: 'connecting', // socket opening
  CONNECTED: 'connected', // socket open, no session: create or join a meet
  LOGGING_IN: 'logging-in', // CREATE_MEET / JOIN_MEET / RESTORE_MEET sent, no answer yet
  ONLINE: 'online', // socket open and bound to the session
  NEEDS_JOIN: 'needs-join', // the server said INVALID_SESSION: join again (password needed)
  REVOKED: 'revoked', // the display link was revoked or refused: only a new link helps; no retries
});

/** WebSocket close code of a socket whose display link the meet director revoked (docs/protocol.md §22). */
export const DISPLAY_LINK_REVOKED = 4001;

/** A display link's token: 43 base64url characters, as in the link's `#display=<token>`. */
export function isDisplayToken(token) {
  return typeof token === 'string' && /^[A-Za-z0-9_-]{43}$/.test(token);
}

/**
 * The display token in a page URL's fragment (`#display=<token>`), or null. The token rides in
 * the fragment because browsers never send it to a server.
 */
export function displayTokenFromUrl(href = globalThis.location?.href ?? '') {
  const hash = String(href).split('#')[1] ?? '';
  const token = new URLSearchParams(hash).get('display');
  return isDisplayToken(token) ? token : null;
}

/** Protocol limits the client stays under (docs/protocol.md §14). */
const MAX_UPDATES_PER_MESSAGE = 1000;
const MAX_BATCH_BYTES = 2 * 1024 * 1024; // half the 4 MiB message limit; one value may be 1 MiB
const MAX_RECOVERY_ENTRIES = 1000;

/**
 * Sent as the epoch of a log whose history is not known (state saved before epochs existed, or
 * never told one by the server). Well-formed, so the server accepts it; it names no history the
 * server has, so the server treats everything this client holds as unverified (SERVER_PULL{0})
 * instead of trusting it. The same constant as SyncEngine's kUnknownEpoch.
 */
export const UNKNOWN_EPOCH = '0000000000000000';

/**
 * A clientId from the CSPRNG: 22 characters of A-Z a-z 0-9 (about 131 bits). Only letters and
 * digits, so it can also be used inside an update key's field name.
 */
export function newClientId() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const out = [];
  const bytes = new Uint8Array(64);
  while (out.length < 22) {
    globalThis.crypto.getRandomValues(bytes);
    for (const b of bytes) {
      if (b < 248 && out.length < 22) out.push(alphabet[b % 62]); // 248 = 4*62: no modulo bias
    }
  }
  return out.join('');
}

/** "123 456 789", "123-456-789" -> "123456789"; null when it is not 9 digits. */
export function normalizeMeetId(typed) {
  if (typeof typed !== 'string') return null;
  const digits = typed.replace(/[\s-]/g, '');
  return /^[0-9]{9}$/.test(digits) ? digits : null;
}

/** "123456789" -> "123 456 789". */
export function displayMeetId(meetId) {
  const id = normalizeMeetId(meetId) ?? '';
  return id ? `${id.slice(0, 3)} ${id.slice(3, 6)} ${id.slice(6)}` : '';
}

/** ws://host/live for a page served by the live server itself. */
export function defaultServerUrl(loc = globalThis.location) {
  if (!loc) return 'ws://127.0.0.1:8420/live';
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/live`;
}

const jsonSize = (v) => {
  const s = JSON.stringify(v);
  return s === undefined ? 4 : s.length;
};

export class LiveClient extends EventTarget {
  /**
   * @param {object} [options]
   * @param {string} [options.url] WebSocket URL of the live server (default: this page's origin)
   * @param {object} [options.store] MemoryStore / IdbStore (default: IndexedDB)
   * @param {Function} [options.WebSocket] constructor (tests inject a fake)
   * @param {number} [options.reconnectDelayMs] first automatic reconnect (doubles, with jitter)
   * @param {number} [options.reconnectMaxDelayMs]
   * @param {number} [options.storageRetryDelayMs] resend after STORAGE_ERROR
   * @param {EventTarget|null} [options.window] where 'online'/'offline' events come from
   */
  constructor(options = {}) {
    super();
    this.url = options.url ?? defaultServerUrl();
    this._store = options.store ?? defaultStore();
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this._reconnectDelayMs = options.reconnectDelayMs ?? 500;
    this._reconnectMaxDelayMs = options.reconnectMaxDelayMs ?? 30000;
    this._storageRetryDelayMs = options.storageRetryDelayMs ?? 2000;
    this._window = options.window === undefined ? globalThis.window ?? null : options.window;

    this.clientId = '';
    this._session = LiveClient._emptySession();
    this._loaded = false;

    this._socket = null;
    this._status = Status.OFFLINE;
    this._wantOnline = false;
    this._loginRequest = null; // {message, resolve, reject}
    this._pullInFlight = false;
    this._compactBuffer = null; // {from, through, items} of a compacted pull part until compactedLast
    this._sentOnSocket = new Set();
    this._reconnectTimer = null;
    this._storageRetryTimer = null;
    this._displayRetryTimer = null; // JOIN_DISPLAY again after a back-off (retryAfterMs)
    this._nextDelay = this._reconnectDelayMs;

    this._canonical = new Map(); // serverSeqNum -> entry (individually held)
    this._baseSeq = 0; // a compacted pull gave the state at _baseSeq without its entries
    this._baseDoc = {};
    // Set once a compacted part was applied: the lowest seq a compacted part started after. Seqs
    // 1.._compactedAfter are held individually; seqs above it up to _baseSeq may not be.
    this._compactedAfter = null;
    this._lastServerSeq = 0; // highest contiguous serverSeqNum held
    this._appliedSeq = 0; // _canonicalDoc holds the state at _appliedSeq
    this._canonicalDoc = {};
    this._knownHead = 0;
    this._serverPullHead = null;
    this._pending = []; // ascending localSeqNum
    this._rejected = [];
    this._localDoc = {};
    this._lastSnapshot = '';

    // Recovery (SERVER_PULL): RECOVERY_PUSH messages are kept until the server answers each with
    // RECOVERY_ACK - their entries left the canonical log, so the outbox is their only copy. It is
    // persisted, resent on every new socket and login; replies come in order (FIFO of ids sent).
    this._outbox = []; // {id, message: {epoch, entries}, sent}
    this._recoveryAwaiting = []; // ids sent on this socket, in the order replies come
    this._nextOutboxId = 1;
    // Pending updates wait while the server may still ask for this client's log: sent before the
    // server has taken the log back, they would take the numbers the log's entries need.
    this._holdPending = false;
    // After SERVER_PULL{k}: {after: k', renumbered}. If the server could not restore the pushed
    // entries with their numbers (renumbered), pending afterServerSeqNums are clamped to k'.
    this._recoveryClamp = null;

    this._onWindowOnline = () => {
      if (this._wantOnline && !this._socket) {
        this._nextDelay = this._reconnectDelayMs;
        this._openSocket();
      }
    };
    this._onWindowOffline = () => {
      // The browser knows the network is gone; a socket may not notice for a long time.
      if (this._socket) this._dropSocket();
    };
    if (this._window?.addEventListener) {
      this._window.addEventListener('online', this._onWindowOnline);
      this._window.addEventListener('offline', this._onWindowOffline);
    }
  }

  static _emptySession() {
    return {
      meetId: '',
      meetIdDisplay: '',
      sessionToken: '',
      locationName: '',
      role: '',
      priority: null,
      endpoints: [],
      epoch: '',
      expiresAt: '',
      nextLocalSeqNum: 1,
      synced: false, // a complete pull (or creation) has been seen since the login
      needsJoin: false,
      // Joined with a display link (JOIN_DISPLAY): its token, to join again when the session ends.
      // Secret like the session token, and kept in the same place.
      displayToken: '',
      revoked: '', // why the display link stopped working (revoked or refused); '' while it works
      extras: {}, // small per-meet data of the layers above (the adapter's entry-id blocks)
      recoveryClamp: null, // after SERVER_PULL, until every push is answered: {after, renumbered}
    };
  }

  /** Creates a client and loads its persisted state. */
  static async open(options) {
    const c = new LiveClient(options);
    await c.load();
    return c;
  }

  /** Reads identity, session and logs from the store; creates the clientId on first use. */
  async load() {
    const s = await this._store.load();
    if (s.identity?.clientId) {
      this.clientId = s.identity.clientId;
    } else {
      this.clientId = newClientId();
      this._store.putIdentity({ clientId: this.clientId });
    }
    if (s.session) this._session = { ...LiveClient._emptySession(), ...s.session };
    if (s.base) {
      this._baseSeq = s.base.seq;
      this._baseDoc = s.base.doc;
      this._compactedAfter = typeof s.base.compactedAfter === 'number' ? s.base.compactedAfter : null;
    }
    for (const message of s.outbox ?? []) this._outbox.push({ id: this._nextOutboxId++, message, sent: false });
    this._recoveryClamp = this._session.recoveryClamp ?? null;
    for (const e of s.canonical) this._canonical.set(e.serverSeqNum, e);
    this._pending = s.pending.slice().sort((a, b) => a.localSeqNum - b.localSeqNum);
    for (const p of this._pending) {
      this._session.nextLocalSeqNum = Math.max(this._session.nextLocalSeqNum, p.localSeqNum + 1);
    }
    this._lastServerSeq = this._baseSeq;
    this._appliedSeq = this._baseSeq;
    this._canonicalDoc = this._baseDoc;
    this._loaded = true;
    if (this._session.revoked) this._status = Status.REVOKED;
    this._settle(true);
    return this;
  }

  // --- read-only state -----------------------------------------------------------------------

  /** Canonical state with pending updates on top: what the page shows. Do not modify. */
  get localState() { return this._localDoc; }
  /** The state of the contiguous canonical log. Do not modify. */
  get canonicalState() { return this._canonicalDoc; }
  get status() { return this._status; }
  get online() { return this._status === Status.ONLINE; }
  get pendingCount() { return this._pending.length; }
  get pending() { return this._pending.map((p) => ({ ...p })); }
  get rejected() { return this._rejected.slice(); }
  get lastServerSeq() { return this._lastServerSeq; }
  get knownHead() { return this._knownHead; }
  get meetId() { return this._session.meetId; }
  get meetIdDisplay() { return this._session.meetIdDisplay || displayMeetId(this._session.meetId); }
  get locationName() { return this._session.locationName; }
  get role() { return this._session.role; }
  get priority() { return this._session.priority; }
  get endpoints() { return this._session.endpoints.slice(); }
  get epoch() { return this._session.epoch; }
  get synced() { return this._session.synced; }
  get hasSession() { return !!this._session.sessionToken; }
  /** True once the display link this client joined with was revoked or refused. */
  get displayRevoked() { return !!this._session.revoked; }
  /** Why the display link stopped working, as the server said it ('' while it works). */
  get displayRevokedReason() { return this._session.revoked || ''; }
  /** The display link token this client joined with ('' if it joined otherwise). */
  get displayToken() { return this._session.displayToken; }
  get isDisplay() { return this._session.role === 'display'; }
  get serverPullHead() { return this._serverPullHead; }
  /** RECOVERY_PUSH messages kept: unanswered, or answered but not yet pulled back. */
  get recoveryOutboxSize() { return this._outbox.length; }
  /** True while pending updates wait for the server's answer to a pull or a recovery push. */
  get holdingPending() { return this._holdPending; }
  /** The lowest seq a compacted pull part started after (null: none applied). */
  get compactedAfter() { return this._compactedAfter; }
  /** Per-meet data of the layers above, persisted with the session. */
  get extras() { return this._session.extras; }

  /**
   * True while this page may not show the latest server state: not connected or not bound,
   * a pull answer unfinished, a known head above what is held, or the server lost entries (and
   * has not taken all of them back yet).
   */
  get outOfSync() {
    return this._status !== Status.ONLINE || this._pullInFlight || this._compactBuffer !== null
      || this._knownHead > this._lastServerSeq || this._serverPullHead !== null || this._outbox.length > 0;
  }

  /** Everything a status UI shows, as one plain object. */
  snapshot() {
    return {
      status: this._status,
      online: this.online,
      outOfSync: this.outOfSync,
      pendingCount: this._pending.length,
      lastServerSeq: this._lastServerSeq,
      knownHead: this._knownHead,
      meetId: this._session.meetId,
      meetIdDisplay: this.meetIdDisplay,
      locationName: this._session.locationName,
      role: this._session.role,
      priority: this._session.priority,
      epoch: this._session.epoch,
      synced: this._session.synced,
      needsJoin: this._session.needsJoin,
      displayRevoked: !!this._session.revoked,
      rejectedCount: this._rejected.length,
      serverPullHead: this._serverPullHead,
      recoveryOutbox: this._outbox.length,
    };
  }

  /** The serverSeqNum an own update got, if the canonical log holds it. */
  serverSeqOf(localSeqNum) {
    for (const e of this._canonical.values()) {
      if (e.clientId === this.clientId && e.localSeqNum === localSeqNum) return e.serverSeqNum;
    }
    return null;
  }

  /** The canonical log as held, ascending (for tests and diagnostics). */
  canonicalLog() {
    return [...this._canonical.values()].sort((a, b) => a.serverSeqNum - b.serverSeqNum);
  }

  /** Resolves when everything the client has queued for storage is committed. */
  whenSaved() { return this._store.flushed(); }

  /** Stores per-meet data of a layer above (not secret: it lands in IndexedDB). */
  setExtra(name, value) {
    this._session.extras = { ...this._session.extras, [name]: jsonClone(value) };
    this._saveSession();
  }

  // --- session -------------------------------------------------------------------------------

  /**
   * Creates a meet and logs in as its first updating client. The password is sent once and
   * kept nowhere. Resolves with MEET_CREATED, rejects with an Error carrying `reason` and
   * `retryAfterMs`.
   * @param {{thisLocationName:string, password:string, endpoints:Array<{locationName:string, priority:number}>}} p
   */
  createMeet({ thisLocationName, password, endpoints }) {
    return this._login({
      msgType: 'CREATE_MEET',
      thisLocationName,
      password,
      endpoints: endpoints.map((e) => ({ locationName: e.locationName, priority: Number(e.priority) })),
      clientId: this.clientId,
    });
  }

  /**
   * Joins a meet (ID typed with or without spaces or dashes). role 'display' makes this a
   * display-only client (boards, overlays): it pulls and receives relays but never updates.
   */
  joinMeet({ meetId, password, locationName, role = 'update' }) {
    const id = normalizeMeetId(meetId);
    if (!id) {
      return Promise.reject(Object.assign(new Error('a meet ID is 9 digits (spaces and dashes allowed)'),
        { reason: 'a meet ID is 9 digits (spaces and dashes allowed)' }));
    }
    return this._login({ msgType: 'JOIN_MEET', meetId: id, password, locationName, clientId: this.clientId, role });
  }

  /**
   * Joins read-only with a display link the meet director minted (JOIN_DISPLAY): no meet ID, no
   * password. The token is kept with the session so that the client joins again by itself when
   * the session ends; a revoked link ends in status 'revoked' and a 'displayrevoked' event,
   * never in a retry loop. Resolves with MEET_JOINED (role 'display').
   */
  joinDisplay(token) {
    if (!isDisplayToken(token)) {
      const reason = 'a display link token is 43 base64url characters; open the whole link the meet director copied';
      return Promise.reject(Object.assign(new Error(reason), { reason }));
    }
    return this._login({ msgType: 'JOIN_DISPLAY', displayToken: token, clientId: this.clientId });
  }

  /** Joins again with the session's meet, location and role (after INVALID_SESSION). */
  rejoin(password) {
    return this.joinMeet({
      meetId: this._session.meetId,
      password,
      locationName: this._session.locationName,
      role: this._session.role || 'update',
    });
  }

  /**
   * Asks the server to restore the meet this client holds (the server has no trace of it): the
   * meet director approves it in the app, then this client's log rebuilds it. Resolves with
   * MEET_RESTORED; rejects with `pendingApproval` and `retryAfterMs` while not approved.
   */
  restoreMeet({ password, thisLocationName, endpoints }) {
    return this._login({
      msgType: 'RESTORE_MEET',
      meetId: this._session.meetId,
      password,
      thisLocationName: thisLocationName ?? this._session.locationName,
      endpoints: (endpoints ?? this._session.endpoints)
        .map((e) => ({ locationName: e.locationName, priority: Number(e.priority) })),
      clientId: this.clientId,
      // The history this client's log belongs to: the server records it with lastSeq 0, so the
      // pull after MEET_RESTORED is answered with SERVER_PULL{0} and the push refills the meet.
      epoch: this._session.epoch || UNKNOWN_EPOCH,
    });
  }

  _login(message) {
    if (this._loginRequest) {
      this._loginRequest.reject(Object.assign(new Error('replaced by a newer login'), { reason: 'replaced' }));
    }
    return new Promise((resolve, reject) => {
      this._loginRequest = { message, resolve, reject };
      this._wantOnline = true;
      if (this._socket && this._socket.readyState === 1) {
        this._send(message);
        this._setStatus(Status.LOGGING_IN);
      } else if (!this._socket) {
        this._clearReconnect();
        this._openSocket();
      }
    });
  }

  /**
   * Forgets the meet: session, logs and pending updates (after the meet is over, or to join
   * another one from scratch). The clientId stays.
   */
  leaveMeet() {
    this._dropSocket();
    this._wantOnline = false;
    this._clearReconnect();
    this._session = LiveClient._emptySession();
    this._resetLogs();
    this._pending = [];
    this._rejected = [];
    this._clearRecovery();
    this._store.clearLogs();
    this._store.putSession(undefined);
    this._setStatus(Status.OFFLINE);
    this._settle(true);
  }

  _resetLogs() {
    this._clearCanonical();
    this._knownHead = 0;
    this._serverPullHead = null;
    this._compactBuffer = null;
  }

  /** Forgets the canonical log, its base and state (not the store: callers say what to clear). */
  _clearCanonical() {
    this._canonical.clear();
    this._baseSeq = 0;
    this._baseDoc = {};
    this._compactedAfter = null;
    this._lastServerSeq = 0;
    this._appliedSeq = 0;
    this._canonicalDoc = {};
  }

  /** Forgets the recovery outbox and the hold (the meet is left or replaced). */
  _clearRecovery() {
    this._outbox = [];
    this._recoveryAwaiting = [];
    this._holdPending = false;
    this._setRecoveryClamp(null);
  }

  _setRecoveryClamp(clamp) {
    const same = JSON.stringify(clamp) === JSON.stringify(this._recoveryClamp);
    this._recoveryClamp = clamp;
    this._session.recoveryClamp = clamp;
    if (!same) this._saveSession();
  }

  /** True while the client holds no log at all: then any epoch can be taken as its own. */
  _holdsNothing() {
    return this._canonical.size === 0 && this._baseSeq === 0 && this._lastServerSeq === 0;
  }

  /** The epoch this client's log is named by on the wire. */
  _wireEpoch() {
    return this._session.epoch || UNKNOWN_EPOCH;
  }

  // --- updates -------------------------------------------------------------------------------

  /** One update; returns its localSeqNum. See updateMany. */
  update(key, value) {
    return this.updateMany([[key, value]])[0];
  }

  /**
   * Applies updates locally at once, persists and queues them, and sends them when online.
   * Values are copied (as JSON), so the caller may keep changing its objects. Throws when the
   * client is display-only or a key does not parse (nothing is queued then).
   * @param {Array<[string, *]>} updates
   * @returns {number[]} their localSeqNums
   */
  updateMany(updates) {
    if (this.isDisplay) {
      throw Object.assign(new Error('this is a display-only session; it cannot update the meet'),
        { code: 'READ_ONLY_SESSION' });
    }
    const parsed = updates.map(([key, value]) => {
      if (value === undefined) throw Object.assign(new Error(`no value for ${key}`), { code: 'VALUE_MISSING' });
      return [key, parseKey(key), jsonClone(value)];
    });
    if (parsed.length === 0) return [];
    const added = [];
    let doc = this._localDoc;
    for (const [key, segments, value] of parsed) {
      const p = {
        localSeqNum: this._session.nextLocalSeqNum++,
        key,
        value,
        afterServerSeqNum: this._lastServerSeq,
      };
      this._pending.push(p);
      added.push(p);
      doc = applyUpdate(doc, segments, value); // pending is replayed last: this is the rebase
    }
    this._localDoc = doc;
    this._store.putPending(added);
    this._saveSession();
    this._emit('change', { remote: false });
    this._emitStatus();
    this._flush();
    return added.map((p) => p.localSeqNum);
  }

  // --- connectivity --------------------------------------------------------------------------

  /**
   * false: closes the socket and stays offline; updates still apply locally and queue.
   * true: connects at once, re-binds with CLIENT_PULL and resends everything unacked.
   */
  setOnline(online) {
    this._wantOnline = online;
    if (!online) {
      this._clearReconnect();
      this._dropSocket();
      return;
    }
    this._nextDelay = this._reconnectDelayMs;
    if (!this._socket) {
      this._clearReconnect();
      this._openSocket();
    }
  }

  get wantsOnline() { return this._wantOnline; }

  /** Closes the socket for good and stops listening to the window. */
  close() {
    this.setOnline(false);
    if (this._window?.removeEventListener) {
      this._window.removeEventListener('online', this._onWindowOnline);
      this._window.removeEventListener('offline', this._onWindowOffline);
    }
  }

  _clearReconnect() {
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    clearTimeout(this._displayRetryTimer);
    this._displayRetryTimer = null;
  }

  _openSocket() {
    let ws;
    this._sentOnSocket.clear();
    this._setStatus(Status.CONNECTING);
    try {
      ws = new this._WebSocket(this.url);
    } catch (err) {
      this._socket = null;
      this._lastError = String(err?.message ?? err);
      this._scheduleReconnect();
      return;
    }
    this._socket = ws;
    ws.onopen = () => { if (ws === this._socket) this._onOpen(); };
    ws.onclose = (ev) => { if (ws === this._socket) this._onClose(ev); };
    ws.onerror = () => {}; // a close event follows
    ws.onmessage = (ev) => { if (ws === this._socket) this._onMessage(ev.data); };
  }

  /** Detaches the socket and closes it; nothing it still delivers reaches this client. */
  _dropSocket() {
    const ws = this._socket;
    this._socket = null;
    this._sentOnSocket.clear();
    this._pullInFlight = false;
    this._compactBuffer = null;
    this._holdPending = false;
    this._resetOutboxSent();
    clearTimeout(this._storageRetryTimer);
    if (ws) {
      ws.onopen = ws.onclose = ws.onmessage = ws.onerror = null;
      try { ws.close(); } catch { /* already closed */ }
    }
    this._setStatus(Status.OFFLINE);
  }

  _onOpen() {
    this._nextDelay = this._reconnectDelayMs;
    this._sentOnSocket.clear();
    if (this._loginRequest) {
      this._send(this._loginRequest.message);
      this._setStatus(Status.LOGGING_IN);
      return;
    }
    if (!this._session.sessionToken) {
      this._setStatus(Status.CONNECTED);
      return;
    }
    if (this._session.needsJoin) {
      if (this._rejoinDisplay()) return;
      this._setStatus(Status.NEEDS_JOIN);
      return;
    }
    this._setStatus(Status.ONLINE);
    this._sendPull(); // re-binds the socket and fills the gap
    this._sendRecoveryOutbox();
    // A client holding a log sends its pending updates once the server has answered the pull:
    // if the server lost entries of that log, it asks for them first (SERVER_PULL).
    this._holdPending = !this._holdsNothing() || this._outbox.length > 0;
    this._flush();
  }

  _onClose(ev) {
    this._socket = null;
    this._sentOnSocket.clear();
    this._pullInFlight = false;
    this._compactBuffer = null; // an unfinished compacted part is discarded; pull again
    this._holdPending = false;
    this._resetOutboxSent(); // replies to pushes sent on this socket never come: send them again
    clearTimeout(this._storageRetryTimer);
    if (ev?.code === DISPLAY_LINK_REVOKED) {
      // The director revoked the link this page joined with: reconnecting cannot help.
      this._displayRevoked(ev.reason || 'display link revoked');
      return;
    }
    this._setStatus(Status.OFFLINE);
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    this._setStatus(Status.OFFLINE);
    if (!this._wantOnline || this._reconnectTimer) return;
    // Jitter keeps a room full of tablets from reconnecting in lockstep after a Wi-Fi outage.
    const delay = Math.round(this._nextDelay * (0.75 + Math.random() * 0.5));
    this._nextDelay = Math.min(Math.max(1, this._nextDelay) * 2, this._reconnectMaxDelayMs);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      if (this._wantOnline && !this._socket) this._openSocket();
    }, delay);
  }

  _send(message) {
    if (this._socket && this._socket.readyState === 1) {
      this._socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  _sendPull() {
    const m = {
      msgType: 'CLIENT_PULL',
      sessionToken: this._session.sessionToken,
      lastServerSeq: this._lastServerSeq,
      compact: true,
    };
    // The server answers from lastServerSeq only if its history under this epoch reaches that
    // far; otherwise it asks for the log back (SERVER_PULL). Holding nothing, there is nothing
    // to vouch for. A new pull replaces an unfinished answer: buffered compacted chunks go.
    if (!this._holdsNothing()) m.epoch = this._wireEpoch();
    this._compactBuffer = null;
    if (this._send(m)) this._pullInFlight = true;
    this._emitStatus();
  }

  /** Sends every pending update not yet sent on this socket, in messages within the limits. */
  _flush() {
    if (this._status !== Status.ONLINE || !this._socket || this.isDisplay || this._holdPending) return;
    let batch = [];
    let bytes = 0;
    const sendBatch = () => {
      if (batch.length === 0) return;
      this._send({ msgType: 'UPDATE_INIT', sessionToken: this._session.sessionToken, updates: batch });
      batch = [];
      bytes = 0;
    };
    for (const p of this._pending) {
      if (this._sentOnSocket.has(p.localSeqNum)) continue;
      const size = jsonSize(p.value) + p.key.length + 128;
      if (batch.length >= MAX_UPDATES_PER_MESSAGE || (bytes + size > MAX_BATCH_BYTES && batch.length > 0)) {
        sendBatch();
      }
      batch.push({
        updateKey: p.key,
        updateValue: p.value,
        localSeqNum: p.localSeqNum,
        afterServerSeqNum: p.afterServerSeqNum,
      });
      bytes += size;
      this._sentOnSocket.add(p.localSeqNum);
    }
    sendBatch();
  }

  // --- incoming ------------------------------------------------------------------------------

  _onMessage(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      this._emit('protocolerror', { msgType: '', detail: 'unparsable message from the server' });
      return;
    }
    switch (m.msgType) {
      case 'UPDATE_RELAY': this._handleRelay(m); break;
      case 'UPDATE_ACK': this._handleAck(m); break;
      case 'UPDATE_REJECTED': this._handleRejected(m); break;
      case 'MEET_CREATED':
      case 'MEET_JOINED':
      case 'MEET_RESTORED': this._handleLoggedIn(m); break;
      case 'CREATE_REJECTED':
      case 'JOIN_REJECTED':
      case 'RESTORE_REJECTED': this._handleLoginRejected(m); break;
      case 'STORAGE_ERROR': this._handleStorageError(m); break;
      case 'INVALID_SESSION': this._handleInvalidSession(m); break;
      case 'SERVER_PULL': this._handleServerPull(m); break;
      case 'RECOVERY_ACK': this._handleRecoveryAck(m); break;
      case 'RECOVERY_REJECTED': this._handleRecoveryRejected(m); break;
      case 'UNKNOWN_MESSAGE_TYPE':
        // A server older than the login asked for (JOIN_DISPLAY): refuse it rather than wait forever.
        if (this._loginRequest && m.unknownMsgType === this._loginRequest.message.msgType) {
          this._handleLoginRejected({ msgType: 'JOIN_REJECTED',
            reason: `this server does not know ${m.unknownMsgType}; it needs a newer version` });
          break;
        }
      // falls through
      default:
        this._lastError = m.errMsg ?? m.reason ?? '';
        this._emit('protocolerror', { msgType: m.msgType, detail: this._lastError });
    }
  }

  _handleLoggedIn(m) {
    const req = this._loginRequest;
    this._loginRequest = null;
    const s = this._session;
    const sameMeet = s.meetId && s.meetId === m.meetId;
    if (s.meetId && !sameMeet) {
      // Another meet: the log held so far belongs to the old one, and so does its epoch and
      // recovery outbox. Pending updates are dropped too: they were made against the old
      // meet's state (SyncEngine keeps them; a browser page that joins another meet without
      // leaving the first must not write the old meet's edits into the new one).
      this._resetLogs();
      this._pending = [];
      this._clearRecovery();
      this._store.clearLogs();
      s.epoch = '';
    }
    const created = m.msgType === 'MEET_CREATED';
    const viaLink = req?.message.msgType === 'JOIN_DISPLAY';
    this._session = {
      ...s,
      displayToken: viaLink ? req.message.displayToken : '',
      revoked: '',
      meetId: m.meetId,
      meetIdDisplay: m.meetIdDisplay ?? displayMeetId(m.meetId),
      sessionToken: m.sessionToken,
      locationName: m.locationName,
      role: m.role,
      priority: m.priority ?? null,
      endpoints: Array.isArray(m.endpoints) ? m.endpoints : [],
      expiresAt: m.expiresAt ?? '',
      needsJoin: false,
      synced: created ? true : sameMeet ? s.synced : false,
      extras: sameMeet ? s.extras : {},
      recoveryClamp: this._recoveryClamp,
    };
    // A client that holds nothing takes the current epoch; one that holds a log keeps its own
    // (or none: then the placeholder) until the server has vouched for the log (pull answer) or
    // asked for it back (SERVER_PULL): the pull must name the history the log came from.
    if (m.epoch && this._holdsNothing()) this._session.epoch = m.epoch;
    this._saveSession();
    const head = m.headServerSeq ?? 0;
    this._knownHead = Math.max(this._knownHead, head);
    this._setStatus(Status.ONLINE);
    // A join always pulls (that is what makes the page `synced`); a creation only when the server
    // holds something this client does not.
    if (m.msgType === 'MEET_RESTORED' || !created || head !== this._lastServerSeq
      || (m.epoch && m.epoch !== this._session.epoch)) {
      this._sendPull();
      this._holdPending = !this._holdsNothing() || this._outbox.length > 0;
    }
    this._settle(false);
    this._sentOnSocket.clear(); // anything sent under an earlier session is sent again
    this._resetOutboxSent();
    this._sendRecoveryOutbox();
    this._flush();
    this._emit('loggedin', m);
    req?.resolve(m);
  }

  _handleLoginRejected(m) {
    const req = this._loginRequest;
    this._loginRequest = null;
    const s = this._session;
    if (req?.message.msgType === 'JOIN_DISPLAY') {
      this._handleDisplayRejected(m, req);
      return;
    }
    if (s.needsJoin) this._setStatus(Status.NEEDS_JOIN);
    else if (!s.sessionToken) this._setStatus(Status.CONNECTED);
    else {
      // A failed re-join while the old session is still usable: carry on with it.
      this._setStatus(Status.ONLINE);
      this._sendPull();
      this._flush();
    }
    const detail = {
      msgType: m.msgType,
      reason: m.reason ?? '',
      retryAfterMs: m.retryAfterMs ?? 0,
      pendingApproval: !!m.pendingApproval,
    };
    this._emit('loginrejected', detail);
    req?.reject(Object.assign(new Error(detail.reason), detail));
  }

  /**
   * JOIN_DISPLAY refused. Back-off or a busy server (retryAfterMs): asked again once that time
   * has passed. Anything else (the link is unknown or revoked, or malformed): revoked, for good.
   */
  _handleDisplayRejected(m, req) {
    const detail = { msgType: m.msgType, reason: m.reason ?? '', retryAfterMs: m.retryAfterMs ?? 0,
      pendingApproval: false };
    this._emit('loginrejected', detail);
    if (detail.retryAfterMs > 0 && this._wantOnline) {
      this._setStatus(Status.CONNECTED);
      clearTimeout(this._displayRetryTimer);
      this._displayRetryTimer = setTimeout(() => {
        if (this._wantOnline && !this._loginRequest) {
          this._login(req.message).then(req.resolve, req.reject);
        }
      }, detail.retryAfterMs);
      return;
    }
    this._displayRevoked(detail.reason);
    req.reject(Object.assign(new Error(detail.reason), detail));
  }

  /**
   * The display link no longer works: forget the session and the link's token (both are
   * useless now), keep the meet as last seen, stop reconnecting and say so.
   */
  _displayRevoked(reason) {
    this._lastError = reason;
    const pending = this._loginRequest;
    this._loginRequest = null;
    pending?.reject(Object.assign(new Error(reason), { reason }));
    this._wantOnline = false;
    this._clearReconnect();
    if (this._socket) this._dropSocket();
    this._session.sessionToken = '';
    this._session.displayToken = '';
    this._session.revoked = reason || 'display link revoked';
    this._session.needsJoin = false;
    this._saveSession();
    this._setStatus(Status.REVOKED);
    this._emit('displayrevoked', { reason });
  }

  /** A display-link session that ended joins again with the link's token. True if it does. */
  _rejoinDisplay() {
    const token = this._session.displayToken;
    if (!token || this._loginRequest) return false;
    this.joinDisplay(token).catch(() => { /* reported as 'displayrevoked' or 'loginrejected' */ });
    return true;
  }

  /** Takes `epoch` as the history of this client's log. */
  _adoptEpoch(epoch) {
    if (epoch && epoch !== this._session.epoch) {
      this._session.epoch = epoch;
      this._saveSession();
    }
  }

  /**
   * Looks at the epoch a message carries. `authoritative`: the message answers this client's
   * pull, so the server has vouched for the log held so far (up to lastServerSeq) under it.
   */
  _noteEpoch(m, authoritative) {
    const epoch = m.epoch;
    if (!epoch || epoch === this._session.epoch) return;
    if (this._holdsNothing()) {
      this._adoptEpoch(epoch);
      return;
    }
    if (authoritative) {
      // Entries held beyond a gap are not vouched for: they may be ones the server lost and
      // whose numbers it reused. They go back to it first, labelled with their history (this
      // page may be the last to hold them); own ones also go back to the pending log so the page
      // keeps showing them, and their resend waits for the server's answer to the push.
      const pushed = this.isDisplay ? 0 : this._pushRecovery(this._lastServerSeq);
      this._dropEntriesAbove(this._lastServerSeq, true);
      this._adoptEpoch(epoch);
      if (pushed > 0) {
        this._setRecoveryClamp({ after: this._lastServerSeq, renumbered: false });
        this._holdPending = true;
      } else {
        this._flush();
      }
      return;
    }
    // Another history than the one the log came from, not reconciled yet: let the server decide
    // with a pull that names the old epoch.
    if (this._status === Status.ONLINE && !this._pullInFlight) this._sendPull();
  }

  /** True if `m` (an ack or relay) belongs to the history this client's log comes from. */
  _sameHistory(m) {
    // No epoch in the message (an older server) or none held: nothing to tell them apart by.
    return !m.epoch || !this._session.epoch || m.epoch === this._session.epoch;
  }

  _handleAck(m) {
    const head = m.headServerSeq ?? 0;
    this._knownHead = Math.max(this._knownHead, head);
    this._noteEpoch(m, false);
    if (!this._sameHistory(m)) {
      // The server numbered these updates in a history this log is not reconciled with yet
      // (_noteEpoch asked for a pull). They stay pending: the pull answer carries them as
      // entries, and a resend is de-duplicated to the same numbers.
      this._emitStatus();
      return;
    }
    const acks = [];
    const newEntries = [];
    const done = [];
    for (const a of m.updateAcks ?? []) {
      acks.push(a);
      const i = this._pending.findIndex((p) => p.localSeqNum === a.localSeqNum);
      if (i < 0) continue; // already in the canonical log (a pull brought it, or a repeated ack)
      const p = this._pending[i];
      const e = {
        serverSeqNum: a.serverSeqNum,
        key: p.key,
        value: p.value,
        clientId: this.clientId,
        localSeqNum: p.localSeqNum,
        locationName: this._session.locationName,
        afterServerSeqNum: p.afterServerSeqNum,
      };
      if (this._addCanonical(e)) newEntries.push(e);
      else {
        this._pending.splice(i, 1); // the seq is held already; it can only be this update
        done.push(p.localSeqNum);
      }
    }
    this._persistCanonical(newEntries, done);
    this._settle(true);
    for (const a of acks) this._emit('acked', { localSeqNum: a.localSeqNum, serverSeqNum: a.serverSeqNum });
    // docs/protocol.md §11: after an ack with head H a caught-up socket holds every entry <= H.
    // If it does not (it was not caught up), fetch the gap.
    if (this._status === Status.ONLINE && !this._pullInFlight && head > this._lastServerSeq) this._sendPull();
  }

  _entryFromRelay(o) {
    return {
      serverSeqNum: o.serverSeqNum,
      key: o.updateKey,
      value: o.updateValue,
      clientId: o.clientId ?? '', // "oll-server" for entries the server wrote: ordinary entries
      localSeqNum: o.localSeqNum ?? 0,
      locationName: o.locationName ?? '',
      afterServerSeqNum: o.afterServerSeqNum ?? 0,
    };
  }

  _handleRelay(m) {
    if (m.pull && m.compacted) {
      this._handleCompacted(m);
      return;
    }
    this._knownHead = Math.max(this._knownHead, m.headServerSeq ?? 0);
    // Only a chunk of the answer to this client's pull vouches for its log (a chunk of an answer
    // it replaced or gave up on does not).
    const pullAnswer = !!m.pull && this._pullInFlight;
    this._noteEpoch(m, pullAnswer);
    if (!this._sameHistory(m)) {
      // Entries of another history must never mix with this log's; the pull _noteEpoch sent
      // brings them once the server has reconciled the two.
      this._emitStatus();
      return;
    }
    const added = [];
    const done = [];
    for (const o of m.updatesRelayed ?? []) {
      const e = this._entryFromRelay(o);
      const before = this._pending.length;
      if (this._addCanonical(e)) {
        added.push(e);
        if (this._pending.length !== before) done.push(e.localSeqNum);
      }
    }
    this._persistCanonical(added, done);
    const finished = pullAnswer && !!m.final;
    if (finished) this._pullDone();
    this._settle(true);
    if (finished) this._pullAnswered();
  }

  _pullDone() {
    this._pullInFlight = false;
    if (!this._session.synced) {
      this._session.synced = true;
      this._saveSession();
      queueMicrotask(() => this._emit('synced', {}));
    }
  }

  /**
   * The server answered the pull (final chunk, this log's history) instead of asking for the
   * log back: nothing of it needs giving back, so held pending updates may go.
   */
  _pullAnswered() {
    if (this._holdPending && !this._hasUnansweredRecovery()) this._releasePending();
  }

  /**
   * Compacted pull part: chunks (compacted: true) are buffered until compactedLast, then the
   * items are applied to the state at fromServerSeq; the result is the state at
   * throughServerSeq, held as a new base. The answer's final chunk is an ordinary one after it.
   */
  _handleCompacted(m) {
    this._knownHead = Math.max(this._knownHead, m.headServerSeq ?? 0);
    if (!this._pullInFlight) return; // the rest of an answer this client replaced or gave up on
    this._noteEpoch(m, true);
    const from = m.fromServerSeq ?? 0;
    const through = m.throughServerSeq ?? 0;
    if (this._compactBuffer && (this._compactBuffer.from !== from || this._compactBuffer.through !== through)) {
      this._compactBuffer = null; // a new answer started; what was buffered belongs to an older one
    }
    if (!this._compactBuffer) this._compactBuffer = { from, through, items: [] };
    for (const o of m.updatesRelayed ?? []) this._compactBuffer.items.push(o);
    if (!m.compactedLast) {
      this._emitStatus();
      return;
    }
    // The items are whole values at `through`: applied in order to the state at `from` they give
    // the state at `through`, and only all of them together do.
    const part = this._compactBuffer;
    this._compactBuffer = null;
    if (part.through > this._lastServerSeq) {
      let doc = this._stateAt(part.from);
      if (doc === null) {
        this._lastError = `a compacted pull part starts at ${part.from}, a state this client cannot rebuild`;
        this._pullInFlight = false;
        this._emitStatus();
        this._emit('protocolerror', { msgType: 'UPDATE_RELAY', detail: this._lastError });
        return;
      }
      for (const o of part.items) doc = applyUpdate(doc, o.updateKey, o.updateValue);
      // Seqs from+1..through are not held one by one: the state at `through` becomes the base.
      this._baseSeq = part.through;
      this._baseDoc = doc;
      this._compactedAfter = Math.min(this._compactedAfter ?? part.from, part.from);
      this._canonicalDoc = doc;
      this._appliedSeq = part.through;
      this._lastServerSeq = part.through;
      this._putBase();
    }
    // The server never ends an answer on a compacted chunk; honour `final` if one does.
    const finished = !!m.final;
    if (finished) this._pullDone();
    this._settle(true);
    if (finished) this._pullAnswered();
  }

  _putBase() {
    this._store.putBase(this._baseSeq === 0 ? undefined
      : { seq: this._baseSeq, doc: this._baseDoc, compactedAfter: this._compactedAfter });
  }

  /** The canonical state at `seq`, rebuilt from the base and the entries held; null if it cannot be. */
  _stateAt(seq) {
    if (seq > this._lastServerSeq || seq < 0) return null;
    if (seq === this._lastServerSeq && this._appliedSeq === this._lastServerSeq) return this._canonicalDoc;
    if (seq === 0) return {};
    let doc = {};
    let from = 0;
    if (seq >= this._baseSeq) {
      doc = this._baseDoc;
      from = this._baseSeq;
    } else if (this._compactedAfter === null || seq > this._compactedAfter) {
      return null; // inside a range held only as a compacted base
    }
    for (let s = from + 1; s <= seq; s++) {
      const e = this._canonical.get(s);
      if (!e) return null;
      doc = applyUpdate(doc, e.key, e.value);
    }
    return doc;
  }

  _handleRejected(m) {
    const out = [];
    const done = [];
    let conflictHead = 0;
    for (const o of m.updatesRejected ?? []) {
      const i = this._pending.findIndex((p) => p.localSeqNum === o.localSeqNum);
      if (i < 0) continue;
      const [update] = this._pending.splice(i, 1);
      done.push(update.localSeqNum);
      this._sentOnSocket.delete(update.localSeqNum);
      const conflict = !!o.conflict;
      const r = {
        update,
        code: o.code ?? '',
        reason: o.reason ?? '',
        conflict,
        winner: o.winner ?? null,
        currentValue: o.currentValue,
        // Conflicts only: the server's head when it decided (per item; the message's otherwise).
        headServerSeq: conflict ? o.headServerSeq ?? m.headServerSeq ?? 0 : 0,
      };
      conflictHead = Math.max(conflictHead, r.headServerSeq);
      this._rejected.push(r);
      out.push(r);
    }
    this._knownHead = Math.max(this._knownHead, conflictHead);
    this._store.deletePending(done);
    // Without the update, the local state falls back to the canonical one, which holds (or is
    // about to hold, by relay or pull) the winner's value.
    this._settle(true);
    for (const r of out) this._emit('rejected', r);
    // The winner's entry was relayed before the rejection; a client that was not caught up
    // fetches it, so that its local state shows the value that won.
    if (this._status === Status.ONLINE && !this._pullInFlight && conflictHead > this._lastServerSeq) this._sendPull();
  }

  _handleStorageError(m) {
    const seqs = m.localSeqNums ?? [];
    for (const n of seqs) this._sentOnSocket.delete(n); // not applied: sent again
    this._lastError = m.errMsg ?? '';
    clearTimeout(this._storageRetryTimer);
    this._storageRetryTimer = setTimeout(() => this._flush(), this._storageRetryDelayMs);
    this._emit('storageerror', { localSeqNums: seqs });
  }

  _handleInvalidSession(m) {
    const token = m.sessionToken ?? '';
    if (token && !this._session.sessionToken.startsWith(token)) return; // an old token of ours
    this._lastError = m.reason ?? '';
    this._session.needsJoin = true;
    this._saveSession();
    this._pullInFlight = false;
    this._compactBuffer = null;
    this._sentOnSocket.clear(); // the server acted on none of them; send again after the join
    if (this._rejoinDisplay()) return;
    this._setStatus(Status.NEEDS_JOIN);
  }

  /**
   * SERVER_PULL{k}: the server holds less than this client has seen (it lost state, or does not
   * know the history of this log). With an epoch (the recovery protocol): push the entries above
   * k (kept in the outbox until acked), drop them from the log, adopt the server's epoch, pull
   * again, and hold the pending updates until every push is answered. Without one (an older
   * server), record it and show the client as out of sync.
   */
  _handleServerPull(m) {
    const k = Math.max(0, m.lastServerSeq ?? 0);
    this._pullInFlight = false; // no pull answer follows a SERVER_PULL
    this._compactBuffer = null;
    if (!m.epoch) {
      this._knownHead = Math.max(k, m.headServerSeq ?? 0);
      this._serverPullHead = k;
      this._settle(false);
      this._emit('serverpull', { lastServerSeq: k, epoch: '' });
      return;
    }
    // 1. Give the server back what it lost, labelled with the history it belongs to (the old
    //    epoch). A display session may not write, so it only resynchronizes.
    if (!this.isDisplay) this._pushRecovery(k);
    // 2. Drop what the server does not hold under the history it continues with. The state at k
    //    can be rebuilt from the base (k >= base) or from entries held one by one (k at or below
    //    the first compacted part); otherwise start over from nothing.
    if (k >= this._baseSeq) {
      this._dropEntriesAbove(k, false);
    } else if (this._compactedAfter !== null && k <= this._compactedAfter) {
      this._dropEntriesAbove(k, false);
      this._baseSeq = 0;
      this._baseDoc = {};
      this._compactedAfter = null;
      this._putBase();
    } else {
      this._clearCanonical();
      this._store.clearCanonical();
    }
    this._canonicalDoc = this._baseDoc;
    this._lastServerSeq = this._baseSeq;
    this._appliedSeq = this._baseSeq;
    this._settle(true);
    // What the server reports now (a head from before the loss would keep this page out of sync).
    this._knownHead = Math.max(k, m.headServerSeq ?? 0);
    // 3. Pending updates were made on top of entries that may come back with new numbers: they
    //    wait for the server's answer to the push (_releasePending decides about the clamp).
    this._setRecoveryClamp({ after: this._lastServerSeq, renumbered: false });
    // 4. Continue under the server's history: pull what it holds after k', resend the pending.
    this._adoptEpoch(m.epoch);
    this._serverPullHead = null;
    if (this._status === Status.ONLINE) {
      this._sendPull();
      this._sentOnSocket.clear();
    }
    if (!this._hasUnansweredRecovery()) this._releasePending();
    else this._holdPending = true;
    this._settle(true);
    this._emit('serverpull', { lastServerSeq: k, epoch: m.epoch });
  }

  /** Queues RECOVERY_PUSH messages with every entry held individually above `seq`; sends them. */
  _pushRecovery(seq) {
    const epoch = this._wireEpoch();
    const lost = this.canonicalLog().filter((e) => e.serverSeqNum > seq);
    let batch = [];
    let bytes = 0;
    const close = () => {
      if (batch.length === 0) return;
      // Kept until the server answers: these entries leave the canonical log, so a dropped
      // connection or a reload must not lose them (the outbox is persisted and sent again).
      this._outbox.push({ id: this._nextOutboxId++, message: { epoch, entries: batch }, sent: false });
      batch = [];
      bytes = 0;
    };
    for (const e of lost) {
      const size = jsonSize(e.value) + e.key.length + (e.clientId?.length ?? 0) + (e.locationName?.length ?? 0) + 256;
      if (batch.length >= MAX_RECOVERY_ENTRIES || (bytes + size > MAX_BATCH_BYTES && batch.length > 0)) close();
      batch.push({
        serverSeqNum: e.serverSeqNum,
        updateKey: e.key,
        updateValue: e.value,
        clientId: e.clientId,
        localSeqNum: e.localSeqNum,
        locationName: e.locationName,
        afterServerSeqNum: e.afterServerSeqNum ?? 0,
      });
      bytes += size;
    }
    close();
    if (lost.length > 0) this._saveOutbox();
    this._sendRecoveryOutbox();
    if (lost.length > 0) this._emit('recoverypushed', { entryCount: lost.length });
    return lost.length;
  }

  /** Sends every RECOVERY_PUSH of the outbox not sent on this socket and session yet. */
  _sendRecoveryOutbox() {
    if (this._status !== Status.ONLINE) return;
    // The server answers each RECOVERY_PUSH with one RECOVERY_ACK / RECOVERY_REJECTED, in order.
    for (const item of this._outbox) {
      if (item.sent) continue;
      if (!this._send({ msgType: 'RECOVERY_PUSH', sessionToken: this._session.sessionToken, ...item.message })) return;
      item.sent = true;
      this._recoveryAwaiting.push(item.id);
    }
  }

  /** Replies to pushes of an earlier socket or session never come: those are sent again. */
  _resetOutboxSent() {
    this._recoveryAwaiting = [];
    // Answered ones too: the server may have lost them again since.
    for (const item of this._outbox) Object.assign(item, { sent: false, answered: false });
  }

  _hasUnansweredRecovery() {
    return this._outbox.some((item) => !item.answered);
  }

  /** Drops pushed copies the server holds and this page holds again (caught up, same history). */
  _pruneOutbox() {
    const before = this._outbox.length;
    this._outbox = this._outbox.filter((item) => !(item.answered && !this._recoveryAwaiting.includes(item.id)
      && (!item.answeredEpoch || item.answeredEpoch === this._session.epoch)
      && this._lastServerSeq >= item.answeredHead));
    if (this._outbox.length !== before) this._saveOutbox();
  }

  _saveOutbox() {
    this._store.putOutbox?.(this._outbox.map((item) => item.message));
  }

  /** Lets the held pending updates go, clamped if the server renumbered what they were made on. */
  _releasePending() {
    const clamp = this._recoveryClamp;
    if (clamp && (clamp.renumbered || this._hasUnansweredRecovery())) {
      // The entries they were made on came back with other numbers (or not yet): they saw
      // nothing the server numbers above k'.
      const changed = [];
      for (const p of this._pending) {
        if (p.afterServerSeqNum > clamp.after) {
          p.afterServerSeqNum = clamp.after;
          changed.push(p);
        }
      }
      if (changed.length) this._store.putPending(changed);
    }
    if (!this._hasUnansweredRecovery()) this._setRecoveryClamp(null);
    this._holdPending = false;
    this._sentOnSocket.clear();
    this._flush();
    this._emitStatus();
  }

  _handleRecoveryAck(m) {
    const report = {
      restored: m.restored ?? 0,
      resequenced: m.resequenced ?? 0,
      duplicates: m.duplicates ?? 0,
      conflicts: m.conflicts ?? 0,
      skipped: Array.isArray(m.skipped) ? m.skipped : [],
      headServerSeq: m.headServerSeq ?? 0,
      epoch: m.epoch ?? '',
    };
    this._knownHead = Math.max(this._knownHead, report.headServerSeq);
    if (this._recoveryAwaiting.length > 0) {
      const id = this._recoveryAwaiting.shift();
      // Kept until this page holds the server's log up to the head the answer names: a server
      // that loses the entries again before then can still be given them.
      for (const item of this._outbox) {
        if (item.id === id) Object.assign(item, { answered: true, answeredHead: report.headServerSeq, answeredEpoch: report.epoch });
      }
    }
    if ((report.resequenced > 0 || report.conflicts > 0 || report.skipped.length > 0) && this._recoveryClamp) {
      this._setRecoveryClamp({ ...this._recoveryClamp, renumbered: true });
    }
    this._pruneOutbox();
    if (!this._hasUnansweredRecovery()) this._releasePending();
    this._emitStatus();
    this._emit('recoveryack', report);
    // The restored and re-sequenced entries come as relays; if this client is not caught up with
    // the head the server reports, fetch the rest.
    if (this._status === Status.ONLINE && !this._pullInFlight && report.headServerSeq > this._lastServerSeq) {
      this._sendPull();
    }
  }

  _handleRecoveryRejected(m) {
    this._lastError = m.reason ?? m.errMsg ?? '';
    // The oldest unanswered push was refused (the server could not store it): it stays in the
    // outbox and goes again with the next socket or login.
    if (this._recoveryAwaiting.length > 0) {
      const id = this._recoveryAwaiting.shift();
      for (const item of this._outbox) if (item.id === id) item.sent = false;
    }
    // Scoring must go on: send the pending updates, as updates that saw nothing above k'.
    if (this._recoveryClamp) this._setRecoveryClamp({ ...this._recoveryClamp, renumbered: true });
    this._releasePending();
    this._emit('recoveryrejected', { reason: this._lastError });
  }

  // --- logs and states -----------------------------------------------------------------------

  /** Adds an entry (ignored if that seq is held); removes a matching own pending update. */
  _addCanonical(e) {
    if (!(e.serverSeqNum >= 1) || this._canonical.has(e.serverSeqNum)) return false;
    if (e.clientId === this.clientId) {
      // Our own update came back (a pull after a lost ack, or another socket of this client).
      const i = this._pending.findIndex((p) => p.localSeqNum === e.localSeqNum);
      if (i >= 0) this._pending.splice(i, 1);
    }
    // An entry at or below lastServerSeq that was not held (inside a compacted part) is already
    // in the canonical state; it is kept for serverSeqOf() and a later RECOVERY_PUSH.
    this._canonical.set(e.serverSeqNum, e);
    return true;
  }

  /** Drops held entries above `seq`; own ones go back to the pending log when `requeueOwn`. */
  _dropEntriesAbove(seq, requeueOwn) {
    const requeued = [];
    for (const [s, e] of [...this._canonical]) {
      if (s <= seq) continue;
      if (requeueOwn && e.clientId === this.clientId && e.localSeqNum > 0
        && !this._pending.some((p) => p.localSeqNum === e.localSeqNum)) {
        requeued.push({ localSeqNum: e.localSeqNum, key: e.key, value: e.value,
          afterServerSeqNum: Math.min(e.afterServerSeqNum ?? 0, seq) });
      }
      this._canonical.delete(s);
    }
    this._store.deleteCanonicalAbove(seq);
    if (requeued.length) {
      this._pending.push(...requeued);
      this._pending.sort((a, b) => a.localSeqNum - b.localSeqNum);
      this._store.putPending(requeued);
    }
    if (this._lastServerSeq > seq) {
      // Only from SERVER_PULL, which recomputes the canonical state right after.
      this._lastServerSeq = seq;
      this._appliedSeq = Math.min(this._appliedSeq, seq);
    }
  }

  _persistCanonical(added, donePending) {
    const done = donePending.slice();
    for (const e of added) if (e.clientId === this.clientId) done.push(e.localSeqNum);
    if (added.length) this._store.putCanonical(added);
    if (done.length) this._store.deletePending(done);
  }

  _saveSession() {
    if (this._session.meetId || this._session.sessionToken) this._store.putSession(this._session);
  }

  /**
   * Advances lastServerSeq over the contiguous prefix, applies it, rebases the local state and
   * tells listeners what changed.
   */
  _settle(pendingMayHaveChanged) {
    const before = this._lastServerSeq;
    while (this._canonical.has(this._lastServerSeq + 1)) this._lastServerSeq++;
    let doc = this._canonicalDoc;
    for (let s = this._appliedSeq + 1; s <= this._lastServerSeq; s++) {
      const e = this._canonical.get(s);
      doc = applyUpdate(doc, e.key, e.value);
    }
    this._canonicalDoc = doc;
    this._appliedSeq = this._lastServerSeq;
    if (before !== this._lastServerSeq && this._outbox.length > 0) this._pruneOutbox();
    if (pendingMayHaveChanged || before !== this._lastServerSeq) {
      const prev = this._localDoc;
      this._rebuildLocal();
      if (prev !== this._localDoc) this._emit('change', { remote: true });
    }
    this._emitStatus();
  }

  _rebuildLocal() {
    // The rebase: the canonical state, then entries held beyond a gap (in seq order), then the
    // pending updates in localSeqNum order.
    let doc = this._canonicalDoc;
    const beyond = [...this._canonical.keys()].filter((s) => s > this._lastServerSeq).sort((a, b) => a - b);
    for (const s of beyond) {
      const e = this._canonical.get(s);
      doc = applyUpdate(doc, e.key, e.value);
    }
    for (const p of this._pending) doc = applyUpdate(doc, p.key, p.value);
    this._localDoc = doc;
  }

  _setStatus(s) {
    if (this._status === s) return;
    this._status = s;
    this._emitStatus();
  }

  _emitStatus() {
    const snap = this.snapshot();
    const text = JSON.stringify(snap);
    if (text === this._lastSnapshot) return;
    this._lastSnapshot = text;
    this._emit('status', snap);
  }

  _emit(type, detail) {
    if (typeof CustomEvent === 'function') {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    } else {
      const ev = new Event(type); // Node 18 has no global CustomEvent
      ev.detail = detail;
      this.dispatchEvent(ev);
    }
  }
}
