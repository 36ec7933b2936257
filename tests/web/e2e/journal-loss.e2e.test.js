// SPDX-License-Identifier: AGPL-3.0-or-later
// End to end: the server loses the end of its journal (SIGKILL, the meet's updates.json.log cut
// short, restarted on the same port and data directory) while two pages hold the whole log. The
// pages give the lost entries back (SERVER_PULL -> RECOVERY_PUSH), hold an edit made while the
// server was down until the push is answered, and converge; the journal has every entry back under
// its original serverSeqNum, the held edit after them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { converged, goLive, joinMeet, openDemo, serverAndBrowser, type } from './harness.js';

const env = serverAndBrowser();

function journal(path) {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

const ident = (line) => {
  const e = JSON.parse(line);
  return [e.serverSeqNum, e.clientId, e.localSeqNum, e.key];
};

test('the server loses the end of its journal; both pages give it back and converge', async () => {
  const a = await openDemo(env.browser, env.server.origin, { name: 'A' });
  const w = await openDemo(env.browser, env.server.origin, { name: 'W' });
  const shown = await goLive(a.page);
  await joinMeet(w.page, shown, 'Weigh-in');
  const meetId = await a.page.evaluate(() => window.demo.client.meetId);

  await type(a.page, '#meetName', 'Spring Open');
  await w.page.click('[data-testid=add-lifter]');
  const id = await w.page.evaluate(() => window.demo.store.getState().registration.entries[0].id);
  await type(w.page, `tr[data-entry-id="${id}"] [data-field=name]`, 'Kim Doe');
  await type(a.page, '#meetCity', 'Tampere');
  await type(w.page, `tr[data-entry-id="${id}"] [data-field=bodyweightKg]`, '82.5');
  await type(a.page, `tr[data-entry-id="${id}"] [data-field=squat1]`, '180');
  const before = await converged([a, w]);
  assert.equal(before.meet.city, 'Tampere');

  const journalPath = joinPath(env.server.dataDir, 'current-meets', meetId, 'updates.json.log');
  const full = journal(journalPath);
  assert.equal(full.length, before.seq, 'the journal holds every entry the pages hold');
  assert.ok(full.length >= 6, `journal of ${full.length} lines`);
  const epochBefore = await a.page.evaluate(() => window.demo.client.epoch);

  for (const p of [a, w]) {
    await p.page.evaluate(() => {
      window.serverPulls = [];
      window.demo.client.addEventListener('serverpull', (e) => window.serverPulls.push(e.detail.lastServerSeq));
    });
  }

  // Power cut; the disk comes back without the end of the journal.
  const keep = Math.floor(full.length / 2);
  await env.restart(async () => {
    for (const p of [a, w]) await p.page.waitForFunction(() => !window.demo.client.online);
    writeFileSync(journalPath, `${full.slice(0, keep).join('\n')}\n`);
    // An edit while the server is down: pending, and held until the lost entries are back.
    await type(a.page, '#meetCity', 'Oulu');
    assert.equal(await a.page.evaluate(() => window.demo.client.pendingCount), 1);
  });
  const after = await converged([a, w]);
  assert.equal(after.meet.name, 'Spring Open');
  assert.equal(after.meet.city, 'Oulu');
  const lifter = after.entries.find((e) => e.id === id);
  assert.equal(lifter.name, 'Kim Doe');
  assert.equal(lifter.bodyweightKg, 82.5);
  assert.equal(lifter.squatKg[0], 180);

  // Every lost entry is back under its original number; the held edit came after them.
  const now = journal(journalPath);
  assert.equal(now.length, after.seq);
  assert.deepEqual(now.slice(0, full.length).map(ident), full.map(ident));
  const added = now.slice(full.length).map((l) => JSON.parse(l));
  assert.ok(added.some((e) => e.key === 'meet.city' && e.value === 'Oulu'), 'the held edit is in the journal');
  const pairs = new Set(now.map((l) => { const e = JSON.parse(l); return `${e.clientId}#${e.localSeqNum}`; }));
  assert.equal(pairs.size, now.length, 'no update is in the journal twice');
  // The server asked for the log back; a page whose pull came after another page's push was
  // restored is answered normally (the restore extends the old history on the server).
  const asked = [];
  for (const p of [a, w]) {
    assert.notEqual(await p.page.evaluate(() => window.demo.client.epoch), epochBefore);
    const pulls = await p.page.evaluate(() => window.serverPulls);
    assert.ok(pulls.length <= 1 && pulls.every((k) => k === keep), `SERVER_PULLs ${JSON.stringify(pulls)}`);
    asked.push(...pulls);
  }
  assert.ok(asked.length >= 1, 'at least one page was asked for the lost entries');
  for (const p of [a, w]) await p.context.close();
});
