/**
 * The dashboard in a real browser (headless Chromium through playwright-core): a 5-node loopback
 * testnet, the API on one node, and the page served by that API under its Content-Security-Policy.
 * Checks that the page asks for the token (and asks again after a 401), then shows the node,
 * its buckets and peers, follows the live stream as puts and gets run, logs no error and no CSP
 * violation, and saves docs/dashboard.png. Without /usr/bin/chromium the test is skipped, except
 * under CI, where it fails: CI must install the browser (.ci/run does).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/api/index.js';
import { idToHex } from '../../src/id/index.js';
import type { DhtNode } from '../../src/node/index.js';
import { type ApiTestnet, apiTestnet } from '../helpers/api.js';
import type { Testnet } from '../helpers/index.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = (process.env.CI ?? '') !== '';
/** Bound of every wait on the page. */
const WAIT_MS = 20_000;
/** Put/get rounds on the testnet while the page watches, one every ROUND_GAP_MS. */
const ROUNDS = 5;
const ROUND_GAP_MS = 700;
const SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));

/**
 * Polls `read` until `ok` holds, at most `ms`; the error names what was awaited and the last
 * value seen, so a failure says what the page showed instead.
 */
async function waitUntil<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const text = (page: Page, selector: string): Promise<string> => page.locator(selector).first().textContent({ timeout: WAIT_MS }).then((t) => t ?? '');
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
const count = (page: Page, selector: string): Promise<number> => page.locator(selector).count();

/** Collects what must stay empty: console errors, uncaught exceptions, CSP violations. */
interface PageProblems { console: string[]; uncaught: string[] }

async function openPage(browser: Browser, url: string): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: PageProblems = { console: [], uncaught: [] };
  page.on('console', (m) => { if (m.type() === 'error') problems.console.push(m.text()); });
  page.on('pageerror', (e) => problems.uncaught.push(e.message));
  // Chromium also logs CSP refusals to the console; this records them even if it stops doing so.
  await page.addInitScript(`window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`);
  await page.goto(url, { timeout: WAIT_MS });
  return { page, problems };
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.locator('#token-form').waitFor({ state: 'visible', timeout: WAIT_MS });
  expect(await page.locator('#dashboard').isHidden()).toBe(true);
  await page.fill('#token-input', token, { timeout: WAIT_MS });
  await page.click('#token-submit', { timeout: WAIT_MS });
}

describe('the dashboard in Chromium', () => {
  let testnet: ApiTestnet | undefined;
  let net: Testnet | undefined;
  let node: DhtNode;
  let server: ApiServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) return; // the test below skips, or fails in CI
    testnet = await apiTestnet(5, { prefix: 'zhtp-dashboard-' });
    ({ net, node, api: server } = testnet);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: WAIT_MS });
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await testnet?.destroy();
    }
  });

  it.skipIf(!HAVE_CHROMIUM && !IN_CI)('forgets a refused token and asks again', async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI must provide Chromium at ${CHROMIUM} (see .ci/run)`);
    const { page } = await openPage(browser!, server!.url);
    try {
      await signIn(page, 'not-the-token');
      await waitUntil('the refusal shown on the form', () => text(page, '#token-error'), (t) => t.includes('401'));
      expect(await page.locator('#token-form').isVisible()).toBe(true);
      expect(await page.locator('#dashboard').isHidden()).toBe(true);
      expect(await page.evaluate("sessionStorage.getItem('zhtp-token')")).toBeNull();
    } finally {
      await page.close();
    }
  });

  it.skipIf(!HAVE_CHROMIUM && !IN_CI)('shows the node, its routing table and peers, and follows puts and gets live', async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI must provide Chromium at ${CHROMIUM} (see .ci/run)`);
    const { page, problems } = await openPage(browser!, server!.url);
    try {
      await signIn(page, server!.token);
      await waitUntil('#status', () => text(page, '#status'), (t) => t === 'live');
      expect(await page.evaluate("sessionStorage.getItem('zhtp-token')")).toBe(server!.token);
      await waitUntil('#node-id', () => text(page, '#node-id'), (t) => t === idToHex(node.id));
      await waitUntil('buckets shown', () => count(page, '#buckets .bucket'), (n) => n >= 1);
      await waitUntil('peer rows', () => count(page, '#peers tbody tr'), (n) => n >= 4);
      await waitUntil('#stat-routing-size', () => text(page, '#stat-routing-size'), (t) => Number(t) === node.routingTable.size);
      const sentBefore = Number(await waitUntil('#stat-messages-sent', () => text(page, '#stat-messages-sent'), (t) => /^\d+$/.test(t)));

      // Spread over a few seconds, so the rate sparkline (one sample a second) shows the traffic.
      const keys: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const content = new TextEncoder().encode(`dashboard value ${i}`);
        const { key } = await node.put(content);
        keys.push(idToHex(key));
        expect(sameBytes((await net!.nodes[1 + (i % 4)]!.get(key)).value, content)).toBe(true);
        expect(sameBytes((await node.get(key)).value, content)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, ROUND_GAP_MS));
      }

      await waitUntil('#stat-messages-sent after the puts', () => text(page, '#stat-messages-sent'), (t) => Number(t) > sentBefore);
      const putEvents = await waitUntil('put events', () => page.locator('#events li[data-type="put"]').allTextContents(), (l) => l.length >= ROUNDS);
      // Newest first: the top put is the last key stored.
      expect(putEvents[0]).toContain(keys[ROUNDS - 1]!.slice(0, 12));
      await waitUntil('get events', () => count(page, '#events li[data-type="get"]'), (n) => n >= ROUNDS);
      expect(await count(page, '#events li')).toBeLessThanOrEqual(50);
      // Each stats snapshot after the first adds a rate sample to the sparkline.
      await waitUntil('sparkline points', () => page.locator('#spark-sent').getAttribute('points'), (p) => (p ?? '').split(' ').length >= ROUNDS + 2);
      expect(await text(page, '#status')).toBe('live');

      await page.screenshot({ path: SCREENSHOT, fullPage: true, timeout: WAIT_MS });
      expect(problems.console).toEqual([]);
      expect(problems.uncaught).toEqual([]);
      expect(await page.evaluate('window.__cspViolations')).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
