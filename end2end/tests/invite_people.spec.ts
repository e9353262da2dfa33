// Invitation links: an admin invites an email address with a role from the members page; the
// link (shown once, as no mail server is configured here) is opened in another browser, where
// opening it changes nothing and the form creates the account, signed in and in the
// organization; the link then says it was used. Withdrawing asks first and the withdrawn link
// says so. Both forms work before the WASM arrives. A passkey instead of a password, with
// Chrome's virtual authenticator. Once on each backend; the links are
// remembered as secrets (zz_no_secrets_leak checks no log line holds one).
import { test, expect, Browser, BrowserContext, Page } from '@playwright/test';
import { expectNoSidewaysScroll, hydrated, rememberSecrets, toolServers, WIDTHS } from './fixtures/roster';

for (const server of toolServers) {
  test.describe(`on ${server.backend}`, () => {
    const PW = 'invitation story passphrase';
    const NEW_PW = 'invited person passphrase';
    rememberSecrets(PW, NEW_PW);
    test.use({ baseURL: server.url });
    test.describe.configure({ mode: 'serial' });

    test.beforeAll(() => {
      server.cli('user', 'create', '-r', 'Admin', '-u', 'inv_root', '-e', 'inv_root@example.com', '-f', 'Ines', '-l', 'Root', '-p', PW);
    });

    async function context(browser: Browser, wasm = true, width = 1280): Promise<BrowserContext> {
      const ctx = await browser.newContext({ baseURL: server.url, viewport: { width, height: 844 } });
      if (!wasm) await ctx.route('**/*.wasm', (route) => route.abort());
      return ctx;
    }

    async function signedIn(browser: Browser, wasm = true): Promise<Page> {
      const page = await (await context(browser, wasm)).newPage();
      await page.goto('/sign-in');
      await page.getByLabel('Username or email').fill('inv_root');
      await page.getByLabel('Password').fill(PW);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(page).toHaveURL(/\/$/);
      return page;
    }

    async function invite(page: Page, email: string, role: string): Promise<string> {
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Role', { exact: true }).selectOption({ label: role });
      await page.getByRole('button', { name: 'Send invitation' }).click();
      const shown = page.getByRole('region', { name: 'Invitation link' });
      await expect(shown).toContainText(`Send this link to ${email} yourself`);
      const link = await shown.getByLabel('Invitation link').inputValue();
      expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
      rememberSecrets(link.replace(/^.*\/invite\//, ''));
      return link.replace(/^https?:\/\/[^/]+/, '');
    }

    test('an invited person opens the link in another browser, sets a password and lands in the organization', async ({ browser }) => {
      const admin = await signedIn(browser);
      await admin.goto('/members');
      await hydrated(admin);
      await admin.getByRole('link', { name: 'Invite them by email' }).click();
      await expect(admin.getByRole('heading', { name: 'Invitations to Default', level: 1 })).toBeVisible();
      await expect(admin.getByText('No invitations yet.')).toBeVisible();
      // A mistake is named on its field.
      await admin.getByLabel('Email').fill('not an address');
      await admin.getByRole('button', { name: 'Send invitation' }).click();
      await expect(admin.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
      const path = await invite(admin, 'nova@example.com', 'Member');
      await expect(admin.getByLabel('Email')).toHaveValue('');
      const row = admin.getByRole('row').filter({ hasText: 'nova@example.com' });
      await expect(row).toContainText('Pending until');
      for (const { width, height, name } of WIDTHS) {
        await admin.setViewportSize({ width, height });
        await expectNoSidewaysScroll(admin, `invitations at ${name}`);
        await admin.screenshot({ path: test.info().outputPath(`invitations-${name}.png`), fullPage: true });
      }
      await admin.setViewportSize({ width: 1280, height: 800 });

      // Another browser: opening the link (twice, as a mail scanner would first) uses nothing.
      const invitee = await (await context(browser, true, 390)).newPage();
      await invitee.goto(path);
      await invitee.goto(path);
      await expect(invitee.getByRole('heading', { name: 'Join Default', level: 1 })).toBeVisible();
      await expect(invitee.getByText('inv_root invited nova@example.com to join Default as Member.')).toBeVisible();
      await hydrated(invitee);
      await expectNoSidewaysScroll(invitee, 'the invitation page at 390 px');
      await invitee.screenshot({ path: test.info().outputPath('invite-phone.png'), fullPage: true });
      await invitee.getByLabel('Username').fill('nova');
      await invitee.getByLabel('Full name').fill('Nova Invited');
      await invitee.getByLabel('Password').fill('short');
      await invitee.getByRole('button', { name: 'Create account and join' }).click();
      await expect(invitee.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
      await invitee.getByLabel('Password').fill(NEW_PW);
      await invitee.getByRole('button', { name: 'Create account and join' }).click();
      await expect(invitee).toHaveURL(/\/$/);
      await expect(invitee.getByText('Signed in as nova')).toBeAttached();
      const me = await invitee.request.get('/api/v1/me', { headers: { Origin: server.url, 'Sec-Fetch-Site': 'same-origin' } });
      expect(me.status()).toBe(200);
      const body = await me.json();
      expect([body.username, body.email, body.org?.name]).toEqual(['nova', 'nova@example.com', 'Default']);

      // The admin sees it accepted; the link now says it was used.
      await admin.reload();
      await expect(admin.getByRole('row').filter({ hasText: 'nova@example.com' })).toContainText('Accepted by nova');
      const late = await (await context(browser)).newPage();
      await late.goto(path);
      await expect(late.getByRole('alert')).toContainText('has been used already');
      await Promise.all([admin.context().close(), invitee.context().close(), late.context().close()]);
    });

    test('an invited person sets a passkey instead of a password and lands in the organization', async ({ browser }) => {
      const admin = await signedIn(browser);
      await admin.goto('/invitations');
      await hydrated(admin);
      const path = await invite(admin, 'piet@example.com', 'Operator');
      // Another browser, with Chrome's virtual authenticator (DevTools' WebAuthn domain).
      const invitee = await (await context(browser)).newPage();
      const cdp = await invitee.context().newCDPSession(invitee);
      await cdp.send('WebAuthn.enable', { enableUI: false });
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal',
          hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
        },
      });
      await invitee.goto(path);
      await hydrated(invitee);
      const passkey = invitee.getByRole('group', { name: 'Or use a passkey instead' });
      // A taken username is said before the device makes a passkey.
      await invitee.getByLabel('Username').fill('inv_root');
      await passkey.getByRole('button', { name: 'Create account with a passkey' }).click();
      await expect(passkey.getByRole('alert')).toContainText('The username inv_root is taken');
      expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(0);
      await invitee.getByLabel('Username').fill('piet');
      await invitee.getByLabel('Full name').fill('Piet Passkey');
      await passkey.getByRole('button', { name: 'Create account with a passkey' }).click();
      await expect(invitee).toHaveURL(/\/$/);
      await expect(invitee.getByText('Signed in as piet')).toBeAttached();
      const me = await invitee.request.get('/api/v1/me', { headers: { Origin: server.url, 'Sec-Fetch-Site': 'same-origin' } });
      const body = await me.json();
      expect([body.username, body.email, body.org?.name]).toEqual(['piet', 'piet@example.com', 'Default']);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0].isResidentCredential).toBe(true);
      // The account has no password: the passkey is how it signs in again.
      await invitee.getByRole('button', { name: 'Sign out' }).click();
      await expect(invitee.getByRole('heading', { name: 'Sign in to Roster' })).toBeVisible();
      await hydrated(invitee);
      await invitee.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await expect(invitee.getByText('Signed in as piet')).toBeAttached();
      await invitee.goto('/profile');
      await expect(invitee.getByLabel('Name of passkey Passkey')).toHaveValue('Passkey');
      // The admin sees it accepted, with the role invited to.
      await admin.reload();
      await expect(admin.getByRole('row').filter({ hasText: 'piet@example.com' })).toContainText('Accepted by piet');
      await admin.goto('/members');
      await expect(admin.getByRole('row').filter({ hasText: 'piet' })).toContainText('Operator');
      await Promise.all([admin.context().close(), invitee.context().close()]);
    });

    test('withdrawing an invitation asks first, and the link then says it was withdrawn', async ({ browser }) => {
      const admin = await signedIn(browser);
      await admin.goto('/invitations');
      await hydrated(admin);
      const path = await invite(admin, 'wren@example.com', 'Viewer');
      await admin.getByRole('button', { name: 'Withdraw the invitation of wren@example.com' }).click();
      const ask = admin.getByRole('dialog', { name: 'Withdraw the invitation of wren@example.com?' });
      await expect(ask).toContainText('The link sent to wren@example.com stops working at once');
      await ask.getByRole('button', { name: 'Withdraw invitation' }).click();
      await expect(admin.getByRole('status').filter({ hasText: 'Invitation withdrawn.' })).toBeVisible();
      await expect(admin.getByRole('row').filter({ hasText: 'wren@example.com' })).toContainText('Withdrawn');
      const page = await (await context(browser)).newPage();
      await page.goto(path);
      await expect(page.getByRole('alert')).toContainText('was withdrawn');
      await expect(page.getByRole('button', { name: 'Create account and join' })).toHaveCount(0);
      await Promise.all([admin.context().close(), page.context().close()]);
    });

    test('without the WASM an invitation is made and accepted', async ({ browser }) => {
      const admin = await signedIn(browser, false);
      await admin.goto('/invitations');
      await admin.getByLabel('Email').fill('plain@example.com');
      await admin.getByLabel('Role', { exact: true }).selectOption({ label: 'Viewer' });
      await admin.getByRole('button', { name: 'Send invitation' }).click();
      await expect(admin).toHaveURL(/rpc=create_invitation&ok=1/);
      const link = await admin.getByRole('region', { name: 'Invitation link' }).getByLabel('Invitation link').inputValue();
      rememberSecrets(link.replace(/^.*\/invite\//, ''));
      const path = link.replace(/^https?:\/\/[^/]+/, '');
      const invitee = await (await context(browser, false)).newPage();
      await invitee.goto(path);
      await invitee.getByLabel('Username').fill('plain');
      await invitee.getByLabel('Password').fill(NEW_PW);
      await invitee.getByRole('button', { name: 'Create account and join' }).click();
      await expect(invitee).toHaveURL(/\/$/);
      await expect(invitee.locator('body[data-hydrated]')).toHaveCount(0);
      const me = await invitee.request.get('/api/v1/me', { headers: { Origin: server.url, 'Sec-Fetch-Site': 'same-origin' } });
      expect((await me.json()).username).toBe('plain');
      await Promise.all([admin.context().close(), invitee.context().close()]);
    });
  });
}
