// SPDX-License-Identifier: AGPL-3.0-or-later
// End to end: the real server binary, Debian's headless Chromium, the /demo page (an
// OpenLifter-shaped store with the adapter) and the Live panel. Three browser contexts (separate
// storage, separate network switches): two updating tables and one display.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  converged, demoReady, goLive, joinMeet, meetOf, openDemo, serverAndBrowser, type,
} from './harness.js';

const env = serverAndBrowser();

test('two tables and a display: edits both ways, offline edits, a reload while offline, convergence', async () => {
  const a = await openDemo(env.browser, env.server.origin, { name: 'A' });
  const w = await openDemo(env.browser, env.server.origin, { name: 'W' });
  const d = await openDemo(env.browser, env.server.origin, { name: 'D' });
  const shown = await goLive(a.page);
  assert.match(shown, /^\d{3} \d{3} \d{3}$/);
  await joinMeet(w.page, shown, 'Weigh-in'); // typed with spaces, as shown
  await joinMeet(d.page, shown.replace(/ /g, ''), 'Board', { display: true });

  // A -> everyone.
  await type(a.page, '#meetName', 'Spring Open');
  for (const p of [w, d]) await p.page.waitForFunction(() => window.demo.store.getState().meet.name === 'Spring Open');
  assert.equal(await w.page.inputValue('#meetName'), 'Spring Open');

  // W -> everyone: a new lifter, named in the table.
  await w.page.click('[data-testid=add-lifter]');
  const id = await w.page.evaluate(() => window.demo.store.getState().registration.entries[0].id);
  await type(w.page, `tr[data-entry-id="${id}"] [data-field=name]`, 'Kim Doe');
  for (const p of [a, d]) {
    await p.page.waitForFunction((eid) => window.demo.store.getState().registration.entries
      .some((e) => e.id === eid && e.name === 'Kim Doe'), id);
  }
  // A enters and marks an attempt; W and the display see it.
  await type(a.page, `tr[data-entry-id="${id}"] [data-field=squat1]`, '180');
  await a.page.click(`tr[data-entry-id="${id}"] [data-good="1"]`);
  for (const p of [w, d]) {
    await p.page.waitForFunction((eid) => {
      const e = window.demo.store.getState().registration.entries.find((x) => x.id === eid);
      return e && e.squatKg[0] === 180 && e.squatStatus[0] === 1;
    }, id);
  }
  await converged([a, w, d]);

  // W's page and scripts are cached for a reload without network (a service worker).
  const offline = await w.page.evaluate(() => window.demo.offlineReady);
  assert.equal(offline.supported, true);
  assert.ok(offline.cached >= 5, `cached ${offline.cached} files`);

  // W loses the network; both tables keep editing.
  await w.context.setOffline(true);
  await w.page.waitForFunction(() => window.demo.client.status === 'offline');
  await w.page.waitForSelector('[data-ref=outOfSync]:not([hidden])');
  await type(a.page, '#meetCity', 'Tampere');
  await type(w.page, `tr[data-entry-id="${id}"] [data-field=bodyweightKg]`, '82.5');
  await w.page.click('[data-testid=add-lifter]');
  const id2 = await w.page.evaluate(() => window.demo.store.getState().registration.entries[1].id);
  await type(w.page, `tr[data-entry-id="${id2}"] [data-field=name]`, 'Offline Lifter');
  const pendingBefore = await w.page.evaluate(() => window.demo.client.pendingCount);
  assert.ok(pendingBefore >= 3, `pending ${pendingBefore}`);
  assert.equal(await w.page.textContent('[data-ref=pending]'), String(pendingBefore));

  // Reload W while it is still offline: nothing it did is lost.
  await w.page.evaluate(() => window.demo.client.whenSaved());
  await w.page.reload();
  await demoReady(w.page);
  const reloaded = await meetOf(w.page);
  assert.equal(reloaded.pending, pendingBefore);
  assert.equal(reloaded.status, 'offline');
  assert.equal(reloaded.entries.find((e) => e.id === id).bodyweightKg, 82.5);
  assert.equal(reloaded.entries.find((e) => e.id === id2).name, 'Offline Lifter');
  assert.equal(await w.page.inputValue(`tr[data-entry-id="${id2}"] [data-field=name]`), 'Offline Lifter');
  assert.notEqual(reloaded.meet.city, 'Tampere'); // A's edit has not reached W yet

  // Back online: W resends, receives A's edit, and all three converge.
  await w.context.setOffline(false);
  const final = await converged([a, w, d]);
  assert.equal(final.meet.city, 'Tampere');
  assert.equal(final.meet.name, 'Spring Open');
  assert.deepEqual(final.entries.map((e) => [e.name, e.bodyweightKg]), [['Kim Doe', 82.5], ['Offline Lifter', 0]]);
  assert.equal(await d.page.inputValue(`tr[data-entry-id="${id2}"] [data-field=name]`), 'Offline Lifter');

  // The display page never sends.
  await d.page.evaluate(() => window.demo.store.dispatch(window.demo.actions.updateMeet({ name: 'vandalised' })));
  assert.equal(await d.page.evaluate(() => window.demo.store.getState().meet.name), 'Spring Open');
  assert.equal(await d.page.evaluate(() => window.demo.client.pendingCount), 0);
  for (const p of [a, w, d]) await p.context.close();
});

test('a conflicting offline edit resolves by priority; the losing page shows the winner\'s value', async () => {
  const a = await openDemo(env.browser, env.server.origin, { name: 'A' });
  const w = await openDemo(env.browser, env.server.origin, { name: 'W' });
  const d = await openDemo(env.browser, env.server.origin, { name: 'D' });
  const shown = await goLive(a.page);
  assert.ok(await a.page.evaluate(() => window.demo.client.epoch), 'MEET_CREATED carries an epoch');
  await joinMeet(w.page, shown, 'Weigh-in');
  await joinMeet(d.page, shown, 'Board', { display: true });
  await a.page.click('[data-testid=add-lifter]');
  const id = await a.page.evaluate(() => window.demo.store.getState().registration.entries[0].id);
  await type(a.page, `tr[data-entry-id="${id}"] [data-field=bodyweightKg]`, '80');
  await converged([a, w, d]);
  const bw = `tr[data-entry-id="${id}"] [data-field=bodyweightKg]`;

  // Both tables offline; each changes the same bodyweight.
  await a.context.setOffline(true);
  await w.context.setOffline(true);
  for (const p of [a, w]) await p.page.waitForFunction(() => window.demo.client.status === 'offline');
  await type(a.page, bw, '81.5'); // Platform A, priority 10
  await type(w.page, bw, '82.25'); // Weigh-in, priority 5

  // Platform A reconnects first: its value is sequenced.
  await a.context.setOffline(false);
  await a.page.waitForFunction(() => window.demo.client.online && window.demo.client.pendingCount === 0);
  await d.page.waitForFunction((eid) => window.demo.store.getState().registration.entries
    .find((e) => e.id === eid).bodyweightKg === 81.5, id);
  // The weigh-in table reconnects: its edit loses on priority and it shows the winner's value.
  await w.context.setOffline(false);
  const key = `registration.entries[id=${id}].bodyweightKg`;
  await w.page.waitForFunction((k) => window.demo.client.rejected.some((r) => r.conflict && r.update.key === k), key);
  await w.page.waitForFunction((sel) => document.querySelector(`${sel}`)?.value === '81.5', bw);
  const rejected = await w.page.evaluate((k) => window.demo.client.rejected.find((r) => r.update.key === k), key);
  assert.equal(rejected.conflict, true);
  assert.equal(rejected.winner.locationName, 'Platform A');
  assert.equal(rejected.update.value, 82.25);
  assert.match(await w.page.textContent('[data-ref=conflictList]'), /Platform A/);
  const final = await converged([a, w, d]);
  assert.equal(final.entries.find((e) => e.id === id).bodyweightKg, 81.5);

  // The other way round: the lower priority reconnects first and is overruled by the higher one.
  await a.context.setOffline(true);
  await w.context.setOffline(true);
  for (const p of [a, w]) await p.page.waitForFunction(() => window.demo.client.status === 'offline');
  await type(w.page, bw, '83');
  await type(a.page, bw, '84');
  await w.context.setOffline(false);
  await w.page.waitForFunction(() => window.demo.client.online && window.demo.client.pendingCount === 0);
  await a.context.setOffline(false);
  const final2 = await converged([a, w, d]);
  assert.equal(final2.entries.find((e) => e.id === id).bodyweightKg, 84);
  assert.equal(await w.page.inputValue(bw), '84');
  for (const p of [a, w, d]) await p.context.close();
});
