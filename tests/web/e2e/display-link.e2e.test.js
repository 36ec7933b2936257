// SPDX-License-Identifier: AGPL-3.0-or-later
// End to end: a board opens /demo/#display=<token> (a display link) in Debian's headless
// Chromium against the real server binary, follows the meet read-only, and stops for good once
// the link is gone. The link is put on disk as the app's mint stores it (display-links.json with
// the token's SHA-256) and loaded by a restart: the headless binary has no mint command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { converged, demoReady, goLive, openDemo, serverAndBrowser, type } from './harness.js';

const env = serverAndBrowser();

function writeLinks(meetId, links) {
  const file = join(env.server.dataDir, 'current-meets', meetId, 'display-links.json');
  writeFileSync(file, `${JSON.stringify({ displayLinks: links }, null, 4)}\n`, { mode: 0o600 });
}

/** Every file under `dir` that contains `needle`. */
function filesContaining(dir, needle) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesContaining(path, needle));
    else if (readFileSync(path).includes(needle)) out.push(path);
  }
  return out;
}

test('a display link page follows the meet read-only, and says so once the link is revoked', async () => {
  const a = await openDemo(env.browser, env.server.origin, { name: 'A' });
  const shown = await goLive(a.page);
  const meetId = shown.replace(/ /g, '');
  await type(a.page, '#meetName', 'Spring Open');
  await converged([a]);

  const token = randomBytes(32).toString('base64url');
  const link = { linkId: 'dl-0a1b2c3d', label: 'Warm-up room board', createdMs: Date.now(),
    tokenSha256: createHash('sha256').update(token).digest('base64') };
  writeLinks(meetId, [link]);
  await env.restart();
  await converged([a]);

  const context = await env.browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => { console.error('[D] page error:', err); });
  await page.goto(`${env.server.origin}/demo/?reconnectMs=100#display=${token}`);
  await demoReady(page);
  await page.waitForFunction(() => window.demo.client.synced && window.demo.client.isDisplay
    && window.demo.store.getState().meet.name === 'Spring Open');
  const d = { page, context, name: 'D' };
  assert.equal(await page.evaluate(() => window.demo.client.locationName), 'Warm-up room board');
  const note = page.locator('[data-testid=display-note]');
  assert.ok(await note.isVisible());
  assert.match(await note.textContent(), /^Read-only display “Warm-up room board”: this page follows meet \d{3} \d{3} \d{3} live/);
  assert.equal(await page.isDisabled('#meetName'), true);
  assert.equal(await page.isDisabled('[data-testid=add-lifter]'), true);

  // Live: the table's edits reach the board.
  await type(a.page, '#meetCity', 'Turku');
  await page.waitForFunction(() => window.demo.store.getState().meet.city === 'Turku');
  assert.equal(await page.inputValue('#meetCity'), 'Turku');
  await converged([a, d]);
  assert.equal(await page.evaluate(() => window.demo.client.pendingCount), 0); // a display never queues updates

  // A reload keeps the board's session (no second JOIN_DISPLAY is needed to show the meet).
  await page.reload();
  await demoReady(page);
  await page.waitForFunction(() => window.demo.client.online && window.demo.store.getState().meet.city === 'Turku');

  // The token itself is nowhere on the server's disk (only the hash this test wrote).
  assert.deepEqual(filesContaining(env.server.dataDir, token), []);

  // The director revokes the link (display-links.json without it: what the app's revoke writes);
  // the board's session goes with it, the page stops and says so, and keeps the meet as last seen.
  writeLinks(meetId, []);
  await env.restart();
  await page.waitForFunction(() => window.demo.client.status === 'revoked');
  assert.equal(await page.evaluate(() => document.body.dataset.display), 'revoked');
  assert.match(await note.textContent(), /no longer works \(unknown or revoked display link; ask the meet director/);
  assert.equal(await page.evaluate(() => window.demo.store.getState().meet.city), 'Turku');
  assert.equal(await page.evaluate(() => window.demo.client.wantsOnline), false);
  await converged([a]);
  await context.close();
  await a.context.close();
});
