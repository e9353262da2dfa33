// Live updates between two browsers, timed: a super admin flips an ability in the role
// matrix; a member's open members page shows (or stops showing) the "Add member" form. The
// time from the click to the other page's change is measured in both pages (same machine,
// same clock); the benchmark script reports p50/p95 over more rounds.
import { test, expect, Page } from '@playwright/test';
import { cliAt, edgeDbURL, edgeURL, hydrated, rememberSecrets } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'edge story passphrase five';
rememberSecrets(PW);
const cli = (...args: string[]) => cliAt(edgeDbURL, ...args);
const ROUNDS = 6;

test.use({ baseURL: edgeURL });

async function signedIn(page: Page, username: string) {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(username, PW);
  await expect(page).toHaveURL(/\/$/);
}

/** Resolves (in the page) with the time the Add member form appeared or went away. */
function watch(page: Page, present: boolean) {
  return page.evaluate((present) => new Promise<number>((resolve) => {
    const has = () => !!document.querySelector('#add-username');
    const done = () => { obs.disconnect(); resolve(performance.timeOrigin + performance.now()); };
    const obs = new MutationObserver(() => { if (has() === present) done(); });
    obs.observe(document.body, { childList: true, subtree: true });
    if (has() === present) done();
  }), present);
}

test('a role change reaches another open page quickly', async ({ browser }) => {
  cli('user', 'create', '-r', 'Admin', '-u', 'live_root', '-e', 'live_root@example.com', '-f', 'L', '-l', 'R', '-p', PW);
  cli('role', 'create', 'LiveRole', 'view-users');
  cli('user', 'create', '-r', 'LiveRole', '--org', 'Default', '-u', 'live_member', '-e', 'live_member@example.com', '-f', 'L', '-l', 'M', '-p', PW);
  const rootCtx = await browser.newContext({ baseURL: edgeURL });
  const memberCtx = await browser.newContext({ baseURL: edgeURL });
  const root = await rootCtx.newPage();
  const member = await memberCtx.newPage();
  await signedIn(root, 'live_root');
  await signedIn(member, 'live_member');
  await expect.poll(async () => {
    await root.goto('/roles');
    return await root.getByRole('switch', { name: 'manage-users for LiveRole' }).count();
  }).toBe(1);
  await hydrated(root);
  await member.goto('/members');
  await hydrated(member);
  await expect(member.getByRole('heading', { name: 'Members of Default' })).toBeVisible();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const grant = i % 2 === 0;
    const seen = watch(member, grant);
    const sw = root.getByRole('switch', { name: 'manage-users for LiveRole' });
    await expect(sw).toHaveAttribute('aria-checked', grant ? 'false' : 'true');
    const clicked = await sw.evaluate((el) => { (el as HTMLElement).click(); return performance.timeOrigin + performance.now(); });
    const at = await seen;
    times.push(at - clicked);
    await expect(sw).toHaveAttribute('aria-checked', grant ? 'true' : 'false');
  }
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor(times.length / 2)];
  console.log(`live update, click to other page: ${times.map((t) => t.toFixed(0)).join(', ')} ms (p50 ${p50.toFixed(0)} ms)`);
  // The target is 200 ms (docs/benchmarks.md has the figures on a quiet machine); a shared
  // CI machine gets headroom, but a poll-based path (~1 s) would fail this.
  expect(p50).toBeLessThan(400);
  await rootCtx.close();
  await memberCtx.close();
});
