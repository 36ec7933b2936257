// SPDX-License-Identifier: AGPL-3.0-or-later
// <openlifter-live-panel>: the "Live" panel OpenLifter's "Live (Advanced)" tab mounts.
//
//   import { defineLivePanel } from '/lib/openlifter-live.js';
//   defineLivePanel();
//   const panel = document.createElement('openlifter-live-panel');
//   panel.adapter = adapter;            // from createLiveAdapter()
//   container.append(panel);
//
// Not live: "Go live" (locations with priorities, this location, password twice, at least 10
// characters) and "Join" (meet ID with or without spaces, password, location, role).
// Live: meet ID, location, role, connection status, an out-of-sync banner, pending count, last
// server seq, conflicts this table lost, board and overlay links (never with the password), and
// the actions a table needs: re-join after an expired session, go offline/online, leave.
//
// The password lives only in the input while it is typed; it is cleared after each attempt and
// never stored or put into a URL. Everything is in a shadow root so OpenLifter's Bootstrap
// styles and the panel's do not mix.

const STYLE = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #222; max-width: 46rem; }
fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 0 0 1rem; padding: .75rem 1rem; }
legend { font-weight: 600; padding: 0 .3rem; }
label { display: block; margin: .35rem 0; }
input, select { font: inherit; padding: .2rem .35rem; }
input[type=number] { width: 6rem; }
button { font: inherit; padding: .25rem .8rem; margin: .25rem .25rem .25rem 0; cursor: pointer; }
table { border-collapse: collapse; }
td { padding: .1rem .3rem .1rem 0; }
.banner { background: #fff3cd; border: 1px solid #e0b100; padding: .5rem .75rem; border-radius: 6px; margin: .5rem 0; }
.error { color: #b00020; min-height: 1.2em; }
.ok { color: #1b5e20; }
.note { color: #666; font-size: .9em; }
.meetid { font: 600 1.6rem/1.2 ui-monospace, monospace; letter-spacing: .05em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; margin: .5rem 0; }
dt { color: #555; }
dd { margin: 0; }
[hidden] { display: none !important; }
`;

const TEMPLATE = `
<style>${STYLE}</style>
<section part="setup" data-view="setup">
  <fieldset>
    <legend>Go live with this meet</legend>
    <table data-ref="locations"><tbody></tbody></table>
    <button type="button" data-action="add-location">Add location</button>
    <label>This computer is at <select data-ref="thisLocation"></select></label>
    <label>Meet password (at least 10 characters)
      <input type="password" data-ref="createPassword" autocomplete="new-password"></label>
    <label>Password again <input type="password" data-ref="createPassword2" autocomplete="new-password"></label>
    <button type="button" data-action="go-live">Go live</button>
  </fieldset>
  <fieldset>
    <legend>Join a live meet</legend>
    <label>Meet ID <input data-ref="joinMeetId" inputmode="numeric" placeholder="123 456 789" autocomplete="off"></label>
    <label>Password <input type="password" data-ref="joinPassword" autocomplete="current-password"></label>
    <label>This computer is at <input data-ref="joinLocation" placeholder="Weigh-in"></label>
    <label><input type="checkbox" data-ref="joinDisplay"> Display only (board or overlay: follows, never edits)</label>
    <p>Joining replaces the meet in this browser with the live meet.</p>
    <button type="button" data-action="join">Join</button>
  </fieldset>
  <p class="error" data-ref="setupError" role="alert"></p>
</section>
<section part="live" data-view="live" hidden>
  <div class="banner" data-ref="outOfSync" role="status" hidden>Out of sync: <span data-ref="outOfSyncWhy"></span></div>
  <div class="meetid" data-ref="meetId"></div>
  <dl>
    <dt>Location</dt><dd data-ref="location"></dd>
    <dt>Role</dt><dd data-ref="role"></dd>
    <dt>Connection</dt><dd data-ref="connection"></dd>
    <dt>Pending updates</dt><dd data-ref="pending">0</dd>
    <dt>Last server seq</dt><dd data-ref="lastSeq">0</dd>
  </dl>
  <fieldset data-ref="rejoin" hidden>
    <legend>The server asks this computer to join again</legend>
    <label>Password <input type="password" data-ref="rejoinPassword" autocomplete="current-password"></label>
    <button type="button" data-action="rejoin">Join again</button>
    <button type="button" data-action="restore" title="Only when the meet director's server has lost the meet">Restore the meet on the server</button>
  </fieldset>
  <div data-ref="conflicts" hidden>
    <strong>Edits overruled by another location</strong>
    <ul data-ref="conflictList"></ul>
  </div>
  <p>Board: <a data-ref="boardLink" target="_blank" rel="noopener"></a>
     <span class="note" data-ref="boardMissing" hidden>(this server has no board page yet)</span><br>
     Overlay for this platform: <a data-ref="overlayLink" target="_blank" rel="noopener"></a>
     <span class="note" data-ref="overlayMissing" hidden>(this server has no overlay page yet)</span></p>
  <button type="button" data-action="toggle-online">Go offline</button>
  <button type="button" data-action="leave">Leave the live meet</button>
  <p class="error" data-ref="liveError" role="alert"></p>
</section>
`;

export class LivePanel extends HTMLElement {
  constructor() {
    super();
    this._adapter = null;
    this._root = this.attachShadow({ mode: 'open' });
    this._root.innerHTML = TEMPLATE;
    this._refs = {};
    for (const el of this._root.querySelectorAll('[data-ref]')) this._refs[el.dataset.ref] = el;
    this._root.addEventListener('click', (ev) => {
      const action = ev.target.closest?.('[data-action]')?.dataset.action;
      if (action) this._act(action, ev.target);
    });
    this._onStatus = () => this._render();
    this._onRejected = () => this._renderConflicts();
    this._locations = [
      { locationName: 'Platform A', priority: 10 },
      { locationName: 'Weigh-in', priority: 5 },
      { locationName: 'Board', priority: 0 },
    ];
    this._renderLocations();
  }

  /** The adapter from createLiveAdapter(); the panel talks to its client. */
  set adapter(adapter) {
    this._unlisten();
    this._adapter = adapter;
    if (this.isConnected) this._listen();
    this._render();
  }

  get adapter() { return this._adapter; }

  /** Locations offered when going live: [{locationName, priority}]. */
  set locations(list) {
    this._locations = list.map((l) => ({ locationName: String(l.locationName), priority: Number(l.priority) }));
    this._renderLocations();
  }

  connectedCallback() { this._listen(); this._render(); }
  disconnectedCallback() { this._unlisten(); }

  get _client() { return this._adapter?.client ?? null; }

  _listen() {
    const c = this._client;
    if (!c || this._listening) return;
    c.addEventListener('status', this._onStatus);
    c.addEventListener('rejected', this._onRejected);
    this._listening = c;
  }

  _unlisten() {
    if (!this._listening) return;
    this._listening.removeEventListener('status', this._onStatus);
    this._listening.removeEventListener('rejected', this._onRejected);
    this._listening = null;
  }

  _readLocations() {
    const rows = this._refs.locations.querySelectorAll('tr');
    this._locations = [...rows].map((tr) => ({
      locationName: tr.querySelector('[data-field=name]').value.trim(),
      priority: Number(tr.querySelector('[data-field=priority]').value),
    }));
    return this._locations;
  }

  _renderLocations() {
    const body = this._refs.locations.tBodies[0];
    body.textContent = '';
    this._locations.forEach((l, i) => {
      const tr = document.createElement('tr');
      tr.innerHTML = `<td><input data-field="name" aria-label="Location name"></td>
        <td>priority <input type="number" data-field="priority" step="1" aria-label="Priority"></td>
        <td><button type="button" data-action="remove-location" data-index="${i}">Remove</button></td>`;
      tr.querySelector('[data-field=name]').value = l.locationName;
      tr.querySelector('[data-field=priority]').value = String(l.priority);
      tr.querySelector('[data-field=name]').addEventListener('change', () => this._renderThisLocation());
      body.append(tr);
    });
    this._renderThisLocation();
  }

  _renderThisLocation() {
    const sel = this._refs.thisLocation;
    const current = sel.value;
    const names = this._readLocationsQuietly().map((l) => l.locationName).filter(Boolean);
    sel.textContent = '';
    for (const n of names) sel.append(new Option(n, n, false, n === current));
  }

  _readLocationsQuietly() {
    return this._refs.locations.tBodies[0].rows.length ? this._readLocations() : this._locations;
  }

  async _act(action, target) {
    const r = this._refs;
    const error = (msg) => { (this._client?.meetId ? r.liveError : r.setupError).textContent = msg; };
    error('');
    try {
      switch (action) {
        case 'add-location':
          this._readLocations();
          this._locations.push({ locationName: '', priority: 0 });
          this._renderLocations();
          break;
        case 'remove-location':
          this._readLocations();
          this._locations.splice(Number(target.dataset.index), 1);
          this._renderLocations();
          break;
        case 'go-live': {
          const endpoints = this._readLocations().filter((l) => l.locationName);
          const pw = r.createPassword.value;
          if (pw.length < 10) return error('The password needs at least 10 characters.');
          if (pw !== r.createPassword2.value) return error('The two passwords differ.');
          if (!endpoints.length) return error('Add at least one location.');
          if (endpoints.some((l) => !Number.isInteger(l.priority))) return error('Priorities are whole numbers.');
          r.createPassword.value = r.createPassword2.value = '';
          await this._adapter.goLive({ thisLocationName: r.thisLocation.value, password: pw, endpoints });
          break;
        }
        case 'join': {
          const pw = r.joinPassword.value;
          r.joinPassword.value = '';
          await this._adapter.join({
            meetId: r.joinMeetId.value,
            password: pw,
            locationName: r.joinLocation.value.trim(),
            role: r.joinDisplay.checked ? 'display' : 'update',
          });
          break;
        }
        case 'rejoin': {
          const pw = r.rejoinPassword.value;
          r.rejoinPassword.value = '';
          await this._client.rejoin(pw);
          break;
        }
        case 'restore': {
          const pw = r.rejoinPassword.value;
          r.rejoinPassword.value = '';
          await this._restore(pw, error);
          break;
        }
        case 'toggle-online':
          this._client.setOnline(!this._client.wantsOnline);
          break;
        case 'leave':
          if (this._client.pendingCount > 0
            && !globalThis.confirm?.(`${this._client.pendingCount} updates have not reached the server. Leave anyway?`)) {
            return;
          }
          this._adapter.leave();
          break;
        default:
      }
    } catch (err) {
      error(err?.reason || err?.message || String(err));
    }
    this._render();
  }

  /** Asks the server to restore the meet, retrying while the director has not approved it. */
  async _restore(password, error) {
    for (;;) {
      try {
        await this._client.restoreMeet({ password });
        return;
      } catch (err) {
        if (!err?.pendingApproval) throw err;
        error('Waiting for the meet director to approve the restore in the app…');
        await new Promise((res) => setTimeout(res, Math.max(500, err.retryAfterMs || 2000)));
      }
    }
  }

  _render() {
    const c = this._client;
    const r = this._refs;
    const live = !!c?.meetId;
    this._root.querySelector('[data-view=setup]').hidden = live;
    this._root.querySelector('[data-view=live]').hidden = !live;
    if (!live) return;
    const s = c.snapshot();
    r.meetId.textContent = s.meetIdDisplay;
    r.location.textContent = `${s.locationName}${s.priority !== null ? ` (priority ${s.priority})` : ''}`;
    r.role.textContent = s.role === 'display' ? 'display only' : 'updating';
    r.connection.textContent = {
      offline: c.wantsOnline ? 'offline, reconnecting…' : 'offline',
      connecting: 'connecting…',
      connected: 'connected',
      'logging-in': 'logging in…',
      online: 'online',
      'needs-join': 'session ended: join again',
      revoked: 'display link revoked: ask the meet director for a new link',
    }[s.status] ?? s.status;
    r.pending.textContent = String(s.pendingCount);
    r.lastSeq.textContent = String(s.lastServerSeq);
    r.outOfSync.hidden = !s.outOfSync;
    r.outOfSyncWhy.textContent = s.serverPullHead !== null
      ? `the server holds fewer updates (${s.serverPullHead}) than this computer has seen`
      : s.status !== 'online' ? 'not connected; edits are kept here and sent when the server is back'
        : 'catching up with the server…';
    r.rejoin.hidden = s.status !== 'needs-join';
    this.toggleAttribute('data-out-of-sync', s.outOfSync);
    this.dataset.status = s.status;
    this._root.querySelector('[data-action=toggle-online]').textContent = c.wantsOnline ? 'Go offline' : 'Go online';
    // Links for the board and this platform's overlay: the meet ID only, never the password.
    const platform = this._adapter.platformOf?.() ?? 1;
    const base = new URL('/', c.url.replace(/^ws/, 'http'));
    const board = new URL(`board/?meet=${encodeURIComponent(s.meetId)}`, base).href;
    const overlay = new URL(`overlay/?meet=${encodeURIComponent(s.meetId)}&platform=${platform}`, base).href;
    r.boardLink.href = r.boardLink.textContent = board;
    r.overlayLink.href = r.overlayLink.textContent = overlay;
    this._checkPage(board, r.boardMissing);
    this._checkPage(overlay, r.overlayMissing);
    this._renderConflicts();
  }

  /**
   * Says so next to a link when the server does not serve that page (the board and overlay pages
   * come with a later version of the server than the library). Checked once per URL.
   */
  _checkPage(url, note) {
    this._checked ??= new Map();
    const page = url.split('?')[0];
    if (!this._checked.has(page)) {
      this._checked.set(page, null);
      globalThis.fetch?.(page, { cache: 'no-store' })
        .then((res) => res.ok, () => null) // offline: unknown, ask again on the next render
        .then((ok) => {
          if (ok === null) {
            this._checked.delete(page); // the next status change asks again
            return;
          }
          this._checked.set(page, ok);
          if (!ok) this._render();
        });
    }
    note.hidden = this._checked.get(page) !== false;
  }

  _renderConflicts() {
    const c = this._client;
    // Meet data only: a platform publication (`live.*`) that loses means another table of higher
    // priority shows that platform, which is no edit of this table's to worry about.
    const list = (c?.rejected ?? []).filter((x) => x.conflict && !x.update.key.startsWith('live.')).slice(-10);
    this._refs.conflicts.hidden = list.length === 0;
    this._refs.conflictList.textContent = '';
    for (const x of list) {
      const li = document.createElement('li');
      const who = x.winner ? `${x.winner.locationName} (seq ${x.winner.serverSeqNum})` : 'another location';
      li.textContent = `${x.update.key}: kept ${who}'s value${x.currentValue !== undefined
        ? ` ${JSON.stringify(x.currentValue)}` : ''} instead of ${JSON.stringify(x.update.value)}`;
      this._refs.conflictList.append(li);
    }
  }
}

/** Registers <openlifter-live-panel> once. */
export function defineLivePanel(name = 'openlifter-live-panel') {
  if (!customElements.get(name)) customElements.define(name, LivePanel);
  return customElements.get(name);
}
