// Behind a real proxy: two instances on one PostgreSQL database behind nginx, round robin
// (proxy.sh, started by the test command). nginx names the instance that answered in
// X-Upstream. A browser signs up, signs in and works while its requests alternate between the
// instances; a role toggle reaches a member's open page live whichever instance serves the
// toggle and whichever serves the member's event stream; audit rows show the browser's
// address (127.0.0.1), not the proxy's (127.0.0.2, the only trusted one); a spoofed
// X-Forwarded-For is never believed.
import { test, expect, Browser, BrowserContext, Page, Response } from '@playwright/test';
import { hydrated, markDocument, expectSameDocument, proxyCli, proxyURL, instanceURLs, upstreams, rememberSecrets, rememberSessions } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const ADMIN = { username: 'proxy_admin', fullName: 'Pia Proxy', email: 'proxy_admin@example.com', password: 'behind the proxy passphrase' };
const MEMBER_PW = 'member behind the proxy';
const BROWSER_IP = '127.0.0.1';
const PROXY_IP = '127.0.0.2';
const SPOOFED_IP = '203.0.113.9';
rememberSecrets(ADMIN.password, MEMBER_PW);

test.use({ baseURL: proxyURL });
test.describe.configure({ mode: 'serial' });

const contexts: BrowserContext[] = [];
let admin: Page;

/** A browser context on the proxy that records which instance answered each response. */
async function proxyContext(browser: Browser, seen: { url: string; kind: string; upstream: string }[] = []) {
  const ctx = await browser.newContext({ baseURL: proxyURL });
  contexts.push(ctx);
  ctx.on('response', (r: Response) => {
    const upstream = r.headers()['x-upstream'];
    if (upstream) seen.push({ url: new URL(r.url()).pathname, kind: r.request().resourceType(), upstream });
  });
  return ctx;
}

/** The instance that answered `r` (as nginx names it), checked to be one of ours. */
function upstreamOf(r: Response): string {
  const upstream = r.headers()['x-upstream'];
  expect(upstreams, `X-Upstream of ${r.url()}`).toContain(upstream);
  return upstream;
}

/** The audit API, read as the admin through the proxy: failed sign-ins sent with `agent`. */
async function auditByAgent(agent: string) {
  const res = await admin.request.get('/api/v1/audit?event=sign_in&outcome=failure&limit=200');
  expect(res.status()).toBe(200);
  const events: { ip: string | null; user_agent: string | null }[] = (await res.json()).events;
  return events.filter((e) => e.user_agent === agent);
}

test.afterAll(async () => {
  for (const c of contexts) {
    // (the session cookies are secrets too: the last spec checks the proxy's logs for them)
    await rememberSessions(c);
    await c.close();
  }
});

test('a browser signs up, signs in and works while its requests alternate between the instances', async ({ browser }) => {
  const seen: { url: string; kind: string; upstream: string }[] = [];
  const ctx = await proxyContext(browser, seen);
  admin = await ctx.newPage();
  // The first sign-up (the first account becomes super admin; the instances share the rule).
  await admin.goto('/sign-up');
  await hydrated(admin);
  await admin.getByLabel('Username').fill(ADMIN.username);
  await admin.getByLabel('Full name').fill(ADMIN.fullName);
  await admin.getByLabel('Email').fill(ADMIN.email);
  await admin.getByLabel('Password').fill(ADMIN.password);
  await admin.getByRole('button', { name: 'Create account' }).click();
  await expect(admin).toHaveURL(/\/$/);
  await expect(admin.getByRole('heading', { name: `Welcome, ${ADMIN.fullName}` })).toBeVisible();

  // Pages (loads and in-page navigation) and the calls they make land on both instances; the
  // session holds on each.
  const served = () => new Set(seen.filter((s) => s.kind === 'document' || s.url.startsWith('/rpc/') || s.url.startsWith('/api/')).map((s) => s.upstream));
  const nav = admin.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Users', exact: true }).click();
  await expect(admin.getByRole('table', { name: 'Users' })).toBeVisible();
  await nav.getByRole('link', { name: 'Audit log' }).click();
  await expect(admin.getByRole('table', { name: 'Audit events, newest first' })).toBeVisible();
  const documents = () => new Set(seen.filter((s) => s.kind === 'document').map((s) => s.upstream));
  const pages = ['/roles', '/members', '/admin/users', '/admin/orgs', '/'];
  for (let i = 0; i < pages.length && (i < 2 || served().size < 2 || documents().size < 2); i++) {
    await admin.goto(pages[i]);
    await hydrated(admin);
    await expect(admin.getByText('Signed in as')).toContainText(ADMIN.username);
    // Round robin: one more request through the proxy shifts which instance the next page
    // load lands on, should every load so far have taken an even number of requests.
    if (documents().size < 2) await admin.request.get('/healthz');
  }
  expect([...served()].sort()).toEqual([...upstreams].sort());
  expect([...documents()].sort()).toEqual([...upstreams].sort());
  const loads = seen.filter((s) => s.kind === 'document');
  const calls = seen.filter((s) => s.url.startsWith('/rpc/') || s.url.startsWith('/api/'));
  expect(new Set(calls.map((s) => s.upstream)).size).toBe(2);
  for (const [what, list] of [['pages', loads], ['calls', calls]] as const) {
    console.log(`through the proxy, ${what}: ` + upstreams.map((u) => `${u}: ${list.filter((s) => s.upstream === u).length}`).join(', '));
  }

  // A fresh browser signs in through the proxy (and stays signed in on either instance).
  const other = await (await proxyContext(browser)).newPage();
  const signIn = new SignInPage(other);
  await signIn.goto();
  await signIn.signIn(ADMIN.username, ADMIN.password);
  await expect(other.getByText('Signed in as')).toContainText(ADMIN.username);
  await other.reload();
  await expect(other.getByText('Signed in as')).toContainText(ADMIN.username);
});

test('a role toggle reaches a member page live, whichever instance serves each of them', async ({ browser }) => {
  proxyCli('role', 'create', 'ProxyRole', 'view-users');
  proxyCli('user', 'create', '-r', 'ProxyRole', '--org', 'Default', '-u', 'proxy_member', '-e', 'proxy_member@example.com',
    '-f', 'Max', '-l', 'Member', '-p', MEMBER_PW);
  const member = await (await proxyContext(browser)).newPage();
  const signIn = new SignInPage(member);
  await signIn.goto();
  await signIn.signIn('proxy_member', MEMBER_PW);
  await expect(member.getByText('Signed in as')).toContainText('proxy_member');

  // The member's open page and the instance its event stream is on (the latest, should the
  // browser reconnect).
  const membersStream = (r: Response) =>
    new URL(r.url()).pathname === '/api/v1/events' && new URL(r.request().headers()['referer'] ?? proxyURL).pathname === '/members';
  let stream = '';
  member.on('response', (r) => {
    if (membersStream(r)) stream = upstreamOf(r);
  });
  const opened = member.waitForResponse(membersStream);
  await member.goto('/members');
  await hydrated(member);
  await opened;
  await expect(member.getByRole('heading', { name: 'Members of Default' })).toBeVisible();
  await expect(member.getByRole('button', { name: 'Add member' })).toHaveCount(0);
  await markDocument(member);

  await expect.poll(async () => {
    await admin.goto('/roles');
    return await admin.getByRole('switch', { name: 'manage-users for ProxyRole' }).count();
  }).toBe(1);
  await hydrated(admin);
  const toggle = admin.getByRole('switch', { name: 'manage-users for ProxyRole' });

  // Toggle until it has been served both by the stream's instance and by the other one, and
  // the ability is off again. Each toggle shows on the member's page without a reload.
  const cases = new Set<string>();
  const rounds: string[] = [];
  for (let round = 0; round < 10 && (cases.size < 2 || round % 2 === 1); round++) {
    const grant = round % 2 === 0;
    await expect(toggle).toHaveAttribute('aria-checked', grant ? 'false' : 'true');
    const answered = admin.waitForResponse((r) => new URL(r.url()).pathname === '/rpc/set_role_ability');
    await toggle.click();
    const by = upstreamOf(await answered);
    await expect(toggle).toHaveAttribute('aria-checked', grant ? 'true' : 'false');
    const addMember = member.getByRole('button', { name: 'Add member' });
    if (grant) await expect(addMember).toBeVisible();
    else await expect(addMember).toHaveCount(0);
    await expectSameDocument(member);
    const which = by === stream ? 'same instance' : 'other instance';
    rounds.push(`${grant ? 'grant' : 'revoke'} on ${by}, stream on ${stream}: ${which}`);
    cases.add(which);
    // Round robin: one more request through the proxy, so the next toggle goes to the other
    // instance when the last two went to the same one.
    if (cases.size < 2) await admin.request.get('/healthz');
  }
  console.log(`role toggles: ${rounds.join('; ')}`);
  expect([...cases].sort()).toEqual(['other instance', 'same instance']);
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
});

test("audit rows show the browser's address, not the proxy's", async () => {
  await admin.goto(`/admin/audit?event=sign_in&actor=${ADMIN.username}`);
  await hydrated(admin);
  const table = admin.getByRole('table', { name: 'Audit events, newest first' });
  const rows = table.locator(':scope > tbody > tr');
  // The sign-in of the fresh browser in the first story, at least.
  await expect(rows).not.toHaveCount(0);
  for (const row of await rows.all()) {
    await expect(row.getByRole('cell').nth(1)).toHaveText('sign_in');
    await expect(row.getByRole('cell').nth(6)).toHaveText(BROWSER_IP);
  }
  // Nothing the browsers did is recorded under the proxy's address.
  const res = await admin.request.get('/api/v1/audit?limit=200');
  expect(res.status()).toBe(200);
  const events: { event: string; ip: string | null }[] = (await res.json()).events;
  expect(events.length).toBeGreaterThan(0);
  expect(events.map((e) => e.ip)).not.toContain(PROXY_IP);
  expect(events.filter((e) => e.ip !== null && e.ip !== BROWSER_IP)).toEqual([]);
});

test('a spoofed X-Forwarded-For is ignored', async ({ playwright }) => {
  // Failed sign-ins, each with its own User-Agent to find its audit row, and its own unknown
  // name (the sign-in throttle counts per name: none of them is held back).
  const attempt = async (url: string, agent: string, headers: Record<string, string>) => {
    const api = await playwright.request.newContext({ baseURL: url });
    const res = await api.post('/rpc/sign_in', {
      form: { login: `nobody_${agent}`, password: 'not anybody password' },
      headers: { 'User-Agent': agent, ...headers },
    });
    expect(res.status(), `${agent}: ${await res.text()}`).toBe(401);
    await api.dispose();
  };
  // Straight to each instance: the peer (127.0.0.1) is not a trusted proxy, so the header
  // counts for nothing.
  for (const [i, url] of instanceURLs.entries()) {
    await attempt(url, `direct-xff-${i}`, { 'X-Forwarded-For': SPOOFED_IP });
  }
  // Through nginx, which appends the address it saw ("203.0.113.9, 127.0.0.1"): the rightmost
  // address that is not a trusted proxy is the client.
  await attempt(proxyURL, 'proxied-xff', { 'X-Forwarded-For': SPOOFED_IP });
  for (const agent of ['direct-xff-0', 'direct-xff-1', 'proxied-xff']) {
    const rows = await auditByAgent(agent);
    expect(rows, agent).toHaveLength(1);
    expect(rows[0].ip, agent).toBe(BROWSER_IP);
  }
  // The same with the standard header, straight to an instance: ignored too.
  await attempt(instanceURLs[0], 'direct-forwarded', { Forwarded: `for=${SPOOFED_IP}` });
  expect((await auditByAgent('direct-forwarded')).map((e) => e.ip)).toEqual([BROWSER_IP]);
  // ...and through nginx (the next test checks the address it was recorded with).
  await attempt(proxyURL, 'proxied-forwarded', { Forwarded: `for=${SPOOFED_IP}` });
  expect(await auditByAgent('proxied-forwarded')).toHaveLength(1);
});

// nginx appends to X-Forwarded-For and passes a client's own `Forwarded` header through
// untouched: Roster reads only the header named by --proxy-header (X-Forwarded-For by default),
// so a browser behind the proxy cannot pick the address its audit rows, sessions and sign-in
// throttle use. (Before that setting existed, this spoof was recorded as 203.0.113.9.)
test('a spoofed Forwarded header through the proxy is ignored', async () => {
  // (sent by the previous test; only this comparison is expected to fail)
  const [row] = await auditByAgent('proxied-forwarded');
  expect(row.ip).toBe(BROWSER_IP);
});
