// SPDX-License-Identifier: AGPL-3.0-or-later
// The /demo page: an OpenLifter-shaped store wired exactly as docs/openlifter-integration.md
// tells OpenLifter to do it, with a few inputs to try the live sync by hand and a handle
// (`window.demo`) for the end-to-end tests.
//
// The inputs show the fix for OpenLifter's stale-input pitfall: an input that is not focused
// always shows the store's current value, and a value is written back only when the person
// changed it (the `change` event), never merely because the input lost focus.
//
// Opened as /demo/#display=<token> (a display link the meet director copied from the app), the
// page joins that meet read-only and shows it live: every input is disabled and a note says so.

import { connectLive, defineLivePanel, displayTokenFromUrl, registerOfflineCache } from '../lib/openlifter-live.js';
import { applyMiddleware, createStore } from './mini-redux.js';
import { actions, newDefaultEntry, newMeetState, rootReducer } from './openlifter-model.js';

const params = new URLSearchParams(location.search);
const PERSIST_KEY = 'demo:persist:root';

// Like redux-persist: the whole state in localStorage, restored with a REHYDRATE action.
const persistingReducer = (state, action) => (action.type === 'persist/REHYDRATE' && action.payload
  ? { ...state, ...action.payload } : rootReducer(state, action));

const live = connectLive({
  url: params.get('server') ?? undefined,
  newEntry: newDefaultEntry,
  reconnectDelayMs: Number(params.get('reconnectMs') ?? 500),
});
const store = createStore(live.adapter.wrapReducer(persistingReducer), applyMiddleware(live.adapter.middleware));
live.adapter.attach(store);

let persisted = null;
store.subscribe(() => {
  const state = store.getState();
  if (state === persisted) return; // an action that changed nothing: the saved copy is current
  persisted = state;
  try {
    localStorage.setItem(PERSIST_KEY, JSON.stringify(state));
  } catch { /* private mode: nothing persisted */ }
});

// The token is in the fragment, which the browser never sends to the server.
const displayToken = displayTokenFromUrl(location.href);
let displayError = '';

const ready = (async () => {
  const saved = localStorage.getItem(PERSIST_KEY);
  if (saved) store.dispatch({ type: 'persist/REHYDRATE', payload: JSON.parse(saved) });
  await live.ready;
  // A reload keeps the session this link gave; a new link (or none held yet) joins with it.
  if (displayToken && !(live.client.hasSession && live.client.displayToken === displayToken)) {
    await live.client.joinDisplay(displayToken).catch((err) => { displayError = err?.reason || String(err); });
  }
  render();
})();
if (location.hash.includes('display=') && !displayToken) {
  displayError = 'this display link is incomplete: copy the whole link from the meet director\'s app';
}

defineLivePanel();
const panel = document.getElementById('panel');
panel.adapter = live.adapter;

// A copy of this page for reloads without network (https or localhost only).
const offlineReady = registerOfflineCache()
  .catch((err) => ({ supported: false, cached: 0, error: String(err) }));

/** For the end-to-end tests and for poking around in the console. */
window.demo = { store, actions, client: live.client, adapter: live.adapter, ready, offlineReady };

// --- rendering --------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
const dispatch = (a) => store.dispatch(a);
const fmt = (kg) => (kg ? String(Math.round(kg * 100) / 100) : '');

/** Shows `value` unless the person is editing the input. */
function show(input, value) {
  if (document.activeElement !== input && input.value !== value) input.value = value;
}

/** Calls `write(value)` only when the person changed the input (not on every blur). */
function onEdit(input, write) {
  input.addEventListener('change', () => write(input.value));
}

onEdit($('meetName'), (v) => dispatch(actions.updateMeet({ name: v })));
onEdit($('meetCity'), (v) => dispatch(actions.updateMeet({ city: v })));
$('inKg').addEventListener('change', () => dispatch(actions.setInKg($('inKg').checked)));
$('language').addEventListener('change', () => dispatch(actions.changeLanguage($('language').value)));
$('addLifter').addEventListener('click', () => dispatch(actions.newRegistration({})));
$('newMeet').addEventListener('click', () => dispatch(actions.overwriteStore(newMeetState(store.getState().language))));
for (const id of ['platform', 'flight', 'lift']) {
  $(id).addEventListener('change', () => {
    const l = store.getState().lifting;
    dispatch(actions.setLiftingGroup(l.day, Number($('platform').value), $('flight').value, $('lift').value));
  });
}
$('loadFile').addEventListener('change', async () => {
  const file = $('loadFile').files[0];
  if (!file) return;
  const obj = JSON.parse(await file.text());
  // OpenLifter checks only that these four parts are present.
  if (!obj.language || !obj.meet || !obj.registration || !obj.lifting) {
    alert('Not an OpenLifter file');
    return;
  }
  dispatch(actions.overwriteStore(obj));
  $('loadFile').value = '';
});
$('saveFile').addEventListener('click', () => {
  const blob = new Blob([JSON.stringify(store.getState())], { type: 'application/json;charset=utf-8' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${(store.getState().meet.name || 'unnamed').replace(/ /g, '-')}.openlifter`;
  a.click();
});

const rows = new Map(); // entry id -> row

function makeRow(id) {
  const tr = document.createElement('tr');
  tr.dataset.entryId = String(id);
  tr.innerHTML = `<td class="id"></td>
    <td><input class="name" data-field="name" aria-label="Name"></td>
    <td><input class="num" data-field="platform" type="number" min="1" aria-label="Platform"></td>
    <td><input class="num" data-field="bodyweightKg" inputmode="decimal" aria-label="Bodyweight"></td>
    ${[1, 2, 3].map((a) => `<td data-attempt="${a}"><input class="num" data-field="squat${a}" inputmode="decimal"
      aria-label="Squat ${a}"><button type="button" data-good="${a}" title="Good lift">✓</button><button
      type="button" data-bad="${a}" title="No lift">✗</button></td>`).join('')}
    <td><button type="button" data-delete>Delete</button></td>`;
  const input = (f) => tr.querySelector(`[data-field=${f}]`);
  onEdit(input('name'), (v) => dispatch(actions.updateRegistration(id, { name: v })));
  onEdit(input('platform'), (v) => dispatch(actions.updateRegistration(id, { platform: Number(v) || 1 })));
  onEdit(input('bodyweightKg'), (v) => dispatch(actions.updateRegistration(id, { bodyweightKg: Number(v) || 0 })));
  for (const a of [1, 2, 3]) {
    onEdit(input(`squat${a}`), (v) => dispatch(actions.enterAttempt(id, 'S', a, Number(v) || 0)));
    tr.querySelector(`[data-good="${a}"]`).addEventListener('click', () => dispatch(actions.markLift(id, 'S', a, true)));
    tr.querySelector(`[data-bad="${a}"]`).addEventListener('click', () => dispatch(actions.markLift(id, 'S', a, false)));
  }
  tr.querySelector('[data-delete]').addEventListener('click', () => dispatch(actions.deleteRegistration(id)));
  return tr;
}

/** The read-only note and disabled inputs of a display page (or of any display-only session). */
function renderDisplayMode() {
  const c = live.client;
  const note = $('displayNote');
  const revoked = c.status === 'revoked' || (displayToken && displayError);
  const display = c.isDisplay || !!displayToken;
  note.hidden = !display && !displayError;
  note.classList.toggle('revoked', !!revoked || !!displayError);
  if (revoked || displayError) {
    note.textContent = `Read-only display: this display link no longer works (${displayError || c.displayRevokedReason
      || 'revoked'}). Ask the meet director for a new link. The meet is shown as last seen.`;
  } else if (display) {
    note.textContent = `Read-only display${c.locationName ? ` “${c.locationName}”` : ''}: this page follows meet `
      + `${c.meetIdDisplay || '…'} live and cannot change it.`;
  }
  document.body.dataset.display = display ? (revoked ? 'revoked' : 'live') : '';
  for (const el of $('app').querySelectorAll('input, select, button')) el.disabled = display;
}

function render() {
  renderDisplayMode();
  const s = store.getState();
  show($('meetName'), s.meet.name);
  show($('meetCity'), s.meet.city);
  $('inKg').checked = s.meet.inKg;
  $('bar').textContent = s.meet.inKg ? `${fmt(s.meet.squatBarAndCollarsWeightKg)} kg`
    : `${fmt(s.meet.squatBarAndCollarsWeightKg * 2.20462262)} lb`;
  $('language').value = s.language;
  $('platform').value = String(s.lifting.platform);
  $('flight').value = s.lifting.flight;
  $('lift').value = s.lifting.lift;

  const tbody = $('lifters');
  const seen = new Set();
  s.registration.entries.forEach((e, i) => {
    seen.add(e.id);
    let tr = rows.get(e.id);
    if (!tr) {
      tr = makeRow(e.id);
      rows.set(e.id, tr);
    }
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
    tr.querySelector('.id').textContent = String(e.id);
    show(tr.querySelector('[data-field=name]'), e.name);
    show(tr.querySelector('[data-field=platform]'), String(e.platform));
    show(tr.querySelector('[data-field=bodyweightKg]'), fmt(e.bodyweightKg));
    for (const a of [1, 2, 3]) {
      show(tr.querySelector(`[data-field=squat${a}]`), fmt(e.squatKg[a - 1]));
      const cell = tr.querySelector(`[data-attempt="${a}"]`);
      cell.className = e.squatStatus[a - 1] === 1 ? 'good' : e.squatStatus[a - 1] === -1 ? 'bad' : '';
    }
  });
  for (const [id, tr] of rows) {
    if (!seen.has(id)) {
      tr.remove();
      rows.delete(id);
    }
  }

  const platforms = live.adapter.platforms();
  $('platforms').innerHTML = '';
  for (const p of platforms) {
    const li = document.createElement('li');
    li.textContent = `platform ${p.id}: day ${p.day}, flight ${p.flight}, lift ${p.lift} (${p.locationName})`;
    $('platforms').append(li);
  }
  $('dump').textContent = JSON.stringify({ meet: { name: s.meet.name, city: s.meet.city, inKg: s.meet.inKg },
    entries: s.registration.entries.map((e) => ({ id: e.id, name: e.name, bodyweightKg: e.bodyweightKg,
      squatKg: e.squatKg.slice(0, 3), squatStatus: e.squatStatus.slice(0, 3) })) }, null, 1);
}

store.subscribe(render);
live.client.addEventListener('status', render);
render();
