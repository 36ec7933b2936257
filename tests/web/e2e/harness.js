// SPDX-License-Identifier: AGPL-3.0-or-later
// Shared pieces of the end-to-end tests: the real server binary on a free loopback port with a
// fresh data directory, and Debian's Chromium driven by playwright-core (never a downloaded
// browser).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The server binary: $OLL_SERVER_BIN, else the normal build's. */
export function serverBinary() {
  return process.env.OLL_SERVER_BIN ?? join(repo, 'build/app/openlifter-live-server');
}

/**
 * Starts the server on 127.0.0.1, port 0, serving resources/web of this checkout. Resolves with
 * {origin, port, dataDir, stop(), kill()} once it prints its address. `port` and `dataDir` start it
 * again where a killed one ran (same origin, so the pages' storage and sockets carry on).
 */
export async function startServer({ openlifterDir, port = 0, dataDir: existingDataDir } = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) throw new Error(`server binary not found: ${bin} (build it, or set OLL_SERVER_BIN)`);
  const dataDir = existingDataDir ?? mkdtempSync(join(tmpdir(), 'oll-e2e-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--data-dir', dataDir, '--scrypt-log2n', '10',
    '--web-dir', join(repo, 'resources/web')];
  if (openlifterDir) args.push('--openlifter-dir', openlifterDir);
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const origin = await new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server did not start: ${stderr}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on ([0-9.]+):([0-9]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(`http://${m[1]}:${m[2]}`);
      }
    });
    proc.on('exit', (code) => rej(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return {
    origin,
    port: Number(new URL(origin).port),
    dataDir,
    stderr: () => stderr,
    /** SIGKILL, as a power cut would; the data directory stays. */
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with a fresh profile (playwright makes one per launch). */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Waits until the demo on `page` has loaded and its live client is ready (also after a reload). */
export async function demoReady(page) {
  await page.waitForFunction(() => window.demo !== undefined);
  await page.evaluate(() => window.demo.ready);
}

/** A page with the demo loaded and its live client ready. */
export async function openDemo(browser, origin, { name } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => { console.error(`[${name}] page error:`, err); });
  await page.goto(`${origin}/demo/?reconnectMs=100`);
  await demoReady(page);
  return { context, page, name };
}

/** The synced part of a demo page's store, plus its client's counters. */
export function meetOf(page) {
  return page.evaluate(() => {
    const s = window.demo.store.getState();
    const c = window.demo.client;
    return { meet: s.meet, entries: s.registration.entries, lookup: s.registration.lookup,
      pending: c.pendingCount, seq: c.lastServerSeq, status: c.status, outOfSync: c.outOfSync };
  });
}

export const PASSWORD = 'correct horse battery';

/** Creates a meet on `page` as Platform A (Platform A, 10; Weigh-in, 5; Board, 0) through the panel. */
export async function goLive(page) {
  await page.fill('[data-ref=createPassword]', PASSWORD);
  await page.fill('[data-ref=createPassword2]', PASSWORD);
  await page.selectOption('[data-ref=thisLocation]', 'Platform A');
  await page.click('[data-action=go-live]');
  await page.waitForFunction(() => window.demo.client.meetId && window.demo.client.synced);
  return page.locator('.meetid').textContent();
}

/** Joins the meet through the panel, as an updating table or (display) a display. */
export async function joinMeet(page, meetIdAsShown, location, { display = false } = {}) {
  await page.fill('[data-ref=joinMeetId]', meetIdAsShown);
  await page.fill('[data-ref=joinPassword]', PASSWORD);
  await page.fill('[data-ref=joinLocation]', location);
  if (display) await page.check('[data-ref=joinDisplay]');
  await page.click('[data-action=join]');
  await page.waitForFunction(() => window.demo.client.synced && !window.demo.client.outOfSync);
}

/** Types into an input and leaves it, as a person does (the change event commits it). */
export async function type(page, selector, value) {
  await page.fill(selector, value);
  await page.press(selector, 'Tab');
}

/**
 * Waits until every page is online with nothing pending, out of sync or awaiting a recovery
 * answer, and all are at the same seq; asserts they hold the same meet and returns it.
 */
export async function converged(pages) {
  for (const p of pages) {
    await p.page.waitForFunction(() => {
      const c = window.demo.client;
      return c.online && c.pendingCount === 0 && !c.outOfSync && c.recoveryOutboxSize === 0;
    });
  }
  let states;
  for (let i = 0; i < 200; i++) {
    states = await Promise.all(pages.map((p) => meetOf(p.page)));
    const seqs = new Set(states.map((s) => s.seq));
    if (seqs.size === 1) break;
    // Different heads: wait for the lagging pages to reach the highest one.
    const max = Math.max(...seqs);
    for (const p of pages) await p.page.waitForFunction((h) => window.demo.client.lastServerSeq >= h, max);
  }
  for (const s of states.slice(1)) {
    assert.deepEqual(s.meet, states[0].meet);
    assert.deepEqual(s.entries, states[0].entries);
    assert.deepEqual(s.lookup, states[0].lookup);
    assert.equal(s.seq, states[0].seq);
  }
  return states[0];
}

/**
 * One server and one Chromium for a test file: registers the file's before and after hooks, which
 * start and stop them. Read `env.server` and `env.browser` inside the tests; `env.restart(whileDown)`
 * kills the server (SIGKILL), runs `whileDown` if given, and starts it again on the same port and
 * data directory.
 */
export function serverAndBrowser() {
  const env = {
    server: undefined,
    browser: undefined,
    async restart(whileDown) {
      await env.server.kill();
      await whileDown?.();
      env.server = await startServer({ port: env.server.port, dataDir: env.server.dataDir });
    },
  };
  before(async () => {
    env.server = await startServer();
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}
