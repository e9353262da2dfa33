// Browser-side figures for bench/firstload.sh, in Debian's headless Chromium through
// playwright-core (from end2end/node_modules): time to interactive (navigation start to the
// hydrated page) of the sign-in and users pages, the bytes each page load transfers, and
// live-update latency between two browsers (click in one, change seen in the other).
import { createRequire } from 'module';

// (resolved from the working directory, end2end/, where the suite's node_modules are)
const require = createRequire(`${process.cwd()}/`);
const { chromium } = require('@playwright/test');

const base = process.env.ROSTER_BENCH_URL;
const user = process.env.ROSTER_BENCH_USER;
const password = process.env.ROSTER_BENCH_PASSWORD;
const RUNS = Number(process.env.ROSTER_BENCH_RUNS ?? 15);
const args = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args });

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

async function signIn(page) {
  await page.goto(`${base}/sign-in`);
  await page.locator('body[data-hydrated]').waitFor();
  await page.getByLabel('Username or email').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${base}/`);
}

async function tti(path, signedIn) {
  const times = [];
  let bytes = {};
  for (let i = 0; i < RUNS; i++) {
    // A fresh context each time: nothing cached, as a first visit.
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const counted = {};
    if (signedIn) {
      // (signed in through the API: the page itself is the first thing the browser loads)
      await page.request.post(`${base}/rpc/sign_in`, { form: { login: user, password }, headers: { Origin: base, 'Sec-Fetch-Site': 'same-origin' } });
    }
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    cdp.on('Network.loadingFinished', (e) => { counted[e.requestId] = e.encodedDataLength; });
    const urls = {};
    cdp.on('Network.responseReceived', (e) => { urls[e.requestId] = e.response.url; });
    await page.goto(`${base}${path}`);
    await page.locator('body[data-hydrated]').waitFor();
    const t = await page.evaluate(() => performance.now());
    times.push(t);
    if (i === 0) {
      await page.waitForTimeout(200);
      for (const [id, n] of Object.entries(counted)) {
        const kind = (urls[id] ?? '').match(/\.(wasm|js|css)(\?|$)/)?.[1] ?? 'html/other';
        bytes[kind] = (bytes[kind] ?? 0) + n;
      }
    }
    await ctx.close();
  }
  console.log(`- ${path}: time to interactive p50 ${pct(times, 0.5).toFixed(0)} ms, p95 ${pct(times, 0.95).toFixed(0)} ms over ${RUNS} cold loads; bytes transferred: ${JSON.stringify(bytes)}`);
}

async function live() {
  const rootCtx = await browser.newContext();
  const otherCtx = await browser.newContext();
  const root = await rootCtx.newPage();
  const other = await otherCtx.newPage();
  await signIn(root);
  await signIn(other);
  await root.goto(`${base}/roles`);
  await root.locator('body[data-hydrated]').waitFor();
  await other.goto(`${base}/roles`);
  await other.locator('body[data-hydrated]').waitFor();
  const cell = 'button[role=switch][aria-label="run-backups for Viewer"]';
  const times = [];
  for (let i = 0; i < RUNS * 2; i++) {
    const before = await root.locator(cell).getAttribute('aria-checked');
    const want = before === 'true' ? 'false' : 'true';
    const seen = other.evaluate(([sel, want]) => new Promise((resolve) => {
      const check = () => document.querySelector(sel)?.getAttribute('aria-checked') === want;
      const obs = new MutationObserver(() => { if (check()) { obs.disconnect(); resolve(performance.timeOrigin + performance.now()); } });
      obs.observe(document.body, { childList: true, subtree: true, attributes: true });
      if (check()) resolve(performance.timeOrigin + performance.now());
    }), [cell, want]);
    const clicked = await root.locator(cell).evaluate((el) => { el.click(); return performance.timeOrigin + performance.now(); });
    times.push((await seen) - clicked);
    await root.waitForSelector(`${cell}[aria-checked="${want}"]`);
  }
  console.log(`- live update between two browsers (role matrix flip): p50 ${pct(times, 0.5).toFixed(0)} ms, p95 ${pct(times, 0.95).toFixed(0)} ms over ${times.length} flips`);
  await rootCtx.close();
  await otherCtx.close();
}

await tti('/sign-in', false);
await tti('/admin/users', true);
await live();
await browser.close();
