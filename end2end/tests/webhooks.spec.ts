// Webhooks: a super admin adds a hook under Settings -> Webhooks pointing at a receiver run by
// the test, copies its signing secret shown once, and a role change arrives there as a signed
// JSON POST (checked here as a receiver would: HMAC-SHA256 of "<t>.<body>"). The page lists
// the delivery; rotating the secret and deleting the hook each ask first and say what stops.
// Without the WASM the form still adds a hook; a URL Roster will not call is named on its
// field. On the server with --allow-internal-urls (the receiver is on 127.0.0.1).
import { test, expect, Browser, Page } from '@playwright/test';
import { createHmac, timingSafeEqual } from 'crypto';
import * as http from 'http';
import { WIDTHS, expectNoSidewaysScroll, hydrated, rememberSecrets, toolServers } from './fixtures/roster';

// Once on each backend: the passkeys server (SQLite) and its twin on PostgreSQL.
for (const server of toolServers) {
  test.describe(`on ${server.backend}`, () => {
    const PW = 'webhooks story passphrase';
    rememberSecrets(PW);
    const cli = server.cli;
    const RECEIVER = 'http://127.0.0.1:3191';
    // Same-origin API calls made with the page's session cookie.
    const sameOrigin = { Origin: server.url, 'Sec-Fetch-Site': 'same-origin' };

    test.use({ baseURL: server.url });
    test.describe.configure({ mode: 'serial' });

    type Received = { path: string; headers: http.IncomingHttpHeaders; body: string };
    const received: Received[] = [];
    let receiver: http.Server;

    test.beforeAll(async () => {
      cli('user', 'create', '-r', 'Admin', '-u', 'hooks_root', '-e', 'hooks_root@example.com', '-f', 'Hooks', '-l', 'Root', '-p', PW);
      receiver = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (req.method === 'POST') received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(3191, '127.0.0.1', resolve));
    });

    test.afterAll(async () => {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    });

    async function signedIn(browser: Browser, wasm = true): Promise<Page> {
      const ctx = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
      if (!wasm) await ctx.route('**/*.wasm', (route) => route.abort());
      const page = await ctx.newPage();
      await page.goto('/sign-in');
      await page.getByLabel('Username or email').fill('hooks_root');
      await page.getByLabel('Password').fill(PW);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(page).toHaveURL(/\/$/);
      return page;
    }

    function row(page: Page, name: string) {
      return page.getByRole('row').filter({ hasText: name });
    }

    /** The POST that carried the change of the role `name`, once it has arrived. */
    async function delivery(path: string, name: string): Promise<Received> {
      const find = () => received.find((r) => r.path === path && JSON.parse(r.body).kind === 'role' && JSON.parse(r.body).name === name);
      await expect.poll(() => find() !== undefined, { timeout: 20_000, message: `a POST about ${name}` }).toBe(true);
      return find()!;
    }

    /** Whether `Roster-Signature` is the HMAC-SHA256 of "<t>.<body>" under `secret`. */
    function signedWith(r: Received, secret: string): boolean {
      const header = String(r.headers['roster-signature'] ?? '');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      expect(m, `Roster-Signature: ${header}`).not.toBeNull();
      const t = Number(m![1]);
      expect(Math.abs(Date.now() / 1000 - t)).toBeLessThan(300);
      const expected = createHmac('sha256', secret).update(`${t}.${r.body}`).digest();
      return timingSafeEqual(expected, Buffer.from(m![2], 'hex'));
    }

    async function newRole(page: Page, name: string) {
      const r = await page.request.post('/api/v1/roles', { data: { name }, headers: sameOrigin });
      expect(r.status()).toBe(201);
    }

    test('a super admin adds a webhook, receives a signed role change, rotates its secret and deletes it', async ({ browser }) => {
      const page = await signedIn(browser);
      await hydrated(page);
      await page.getByRole('link', { name: 'Webhooks' }).first().click();
      await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
      await expect(page.getByText('No webhooks yet.')).toBeVisible();

      await page.getByLabel('Name', { exact: true }).fill('Role cache');
      await page.getByLabel('URL', { exact: true }).fill(`${RECEIVER}/roles`);
      await page.getByLabel(/^role — /).check();
      await expect(page.getByLabel('Enabled')).toBeChecked();
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const shown = page.getByRole('region', { name: 'New signing secret' });
      await expect(shown).toContainText('Copy the signing secret of Role cache now: it will not be shown again.');
      await expect(shown).toContainText('Roster-Signature: t=<unix seconds>,v1=<hex>');
      const secret = await shown.getByLabel('Signing secret').inputValue();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{20,}$/);
      rememberSecrets(secret);
      // The form is empty again, ready for the next one.
      await expect(page.getByLabel('Name', { exact: true })).toHaveValue('');
      const listed = row(page, 'Role cache');
      await expect(listed).toContainText(`${RECEIVER}/roles`);
      await expect(listed).toContainText('role');
      await expect(listed).toContainText('All');
      await expect(listed).toContainText('Delivering');
      // Edit fills the form with its settings; Cancel goes back to adding one.
      await page.getByRole('link', { name: 'Edit Role cache' }).click();
      await expect(page.getByRole('heading', { name: 'Edit Role cache' })).toBeVisible();
      await expect(page.getByLabel('URL', { exact: true })).toHaveValue(`${RECEIVER}/roles`);
      await expect(page.getByLabel(/^role — /)).toBeChecked();
      await expect(page.getByLabel(/^user — /)).not.toBeChecked();
      await page.getByRole('link', { name: 'Cancel' }).click();
      await expect(page.getByRole('heading', { name: 'Add a webhook' })).toBeVisible();
      await expect(page.getByLabel('URL', { exact: true })).toHaveValue('');

      // A role change (through the API, with the page's session) arrives signed.
      await newRole(page, 'Webhook Auditors');
      const first = await delivery('/roles', 'Webhook Auditors');
      expect(first.headers['content-type']).toContain('application/json');
      expect(signedWith(first, secret)).toBe(true);
      const event = JSON.parse(first.body);
      expect(event.kind).toBe('role');
      expect(event.name).toBe('Webhook Auditors');
      expect(first.headers['roster-event-id']).toBe(String(event.id));
      expect(first.headers['roster-webhook-id']).toMatch(/^\d+$/);

      // The page lists the delivery (and the secret is not shown again).
      await page.reload();
      await expect(page.getByRole('region', { name: 'New signing secret' })).toHaveCount(0);
      expect(await page.content()).not.toContain(secret);
      const log = page.getByRole('table', { name: 'Recent deliveries to Role cache' });
      await expect(log.getByRole('row').filter({ hasText: String(event.id) })).toContainText('200');
      await expect(row(page, 'Role cache')).toContainText(`delivered through event`);

      // At both widths, nothing scrolls sideways.
      await hydrated(page);
      for (const { width, height, name } of WIDTHS) {
        await page.setViewportSize({ width, height });
        await expectNoSidewaysScroll(page, `webhooks at ${name}`);
        await page.screenshot({ path: `test-results/webhooks-${name}.png`, fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 800 });

      // A new secret asks first and says what stops working; Cancel changes nothing.
      await page.getByRole('button', { name: 'Rotate the secret of Role cache' }).click();
      const rotate = page.getByRole('dialog', { name: 'Give Role cache a new signing secret?' });
      await expect(rotate).toContainText('The current secret stops working at once');
      await rotate.getByRole('button', { name: 'Cancel' }).click();
      await expect(rotate).toBeHidden();
      await page.getByRole('button', { name: 'Rotate the secret of Role cache' }).click();
      await rotate.getByRole('button', { name: 'Make a new secret' }).click();
      await expect(rotate).toBeHidden();
      const again = page.getByRole('region', { name: 'New signing secret' });
      await expect(again).toBeVisible();
      const second = await again.getByLabel('Signing secret').inputValue();
      expect(second).toMatch(/^whsec_/);
      expect(second).not.toBe(secret);
      rememberSecrets(second);
      // Deliveries from now on are signed with the new secret only.
      await newRole(page, 'Webhook Rotators');
      const next = await delivery('/roles', 'Webhook Rotators');
      expect(signedWith(next, second)).toBe(true);
      expect(signedWith(next, secret)).toBe(false);

      // Delete: the question says deliveries stop and the log goes; the row goes.
      await page.getByRole('button', { name: 'Delete Role cache' }).click();
      const del = page.getByRole('dialog', { name: 'Delete the webhook Role cache?' });
      await expect(del).toContainText('delivery log is lost');
      await del.getByRole('button', { name: 'Delete webhook' }).click();
      await expect(page.getByRole('status').filter({ hasText: 'Webhook deleted.' })).toBeVisible();
      await expect(row(page, 'Role cache')).toHaveCount(0);
      await expect(page.getByText('No webhooks yet.')).toBeVisible();
      await page.context().close();
    });

    test('a URL Roster will not call is named on its field', async ({ browser }) => {
      const page = await signedIn(browser);
      await page.goto('/admin/webhooks');
      await hydrated(page);
      await page.getByLabel('Name', { exact: true }).fill('Bad address');
      await page.getByLabel('URL', { exact: true }).fill('ftp://x');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const url = page.getByLabel('URL', { exact: true });
      await expect(url).toHaveAttribute('aria-invalid', 'true');
      await expect(url).toHaveAccessibleDescription(/only to https URLs/);
      // No kind chosen: named too, on the group of checkboxes.
      await expect(page.getByRole('group', { name: 'Changes it receives' })).toContainText('Choose at least one kind of change');
      await expect(page.getByText('No webhooks yet.')).toBeVisible();
      await page.context().close();
    });

    test('without the WASM the form still adds a webhook, and deletes it', async ({ browser }) => {
      const page = await signedIn(browser, false);
      await page.goto('/admin/webhooks');
      await page.getByLabel('Name', { exact: true }).fill('No Script Hook');
      await page.getByLabel('URL', { exact: true }).fill(`${RECEIVER}/nojs`);
      await page.getByLabel(/^user — /).check();
      await page.getByLabel('Organizations', { exact: true }).fill('Default');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      await expect(page).toHaveURL(/\/admin\/webhooks\?rpc=save_webhook&ok=1/);
      // The signing secret is shown once here too (carried by the one-time cookie).
      const shown = page.getByRole('region', { name: 'New signing secret' });
      const secret = await shown.getByLabel('Signing secret').inputValue();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{20,}$/);
      rememberSecrets(secret);
      const listed = row(page, 'No Script Hook');
      await expect(listed).toContainText(`${RECEIVER}/nojs`);
      await expect(listed).toContainText('user');
      await expect(listed).toContainText('Default');

      await page.getByRole('button', { name: 'Delete No Script Hook' }).click();
      await page.getByRole('dialog', { name: 'Delete the webhook No Script Hook?' }).getByRole('button', { name: 'Delete webhook' }).click();
      await expect(page).toHaveURL(/rpc=delete_webhook&ok=1/);
      await expect(row(page, 'No Script Hook')).toHaveCount(0);
      await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
      await page.context().close();
    });
  });
}
