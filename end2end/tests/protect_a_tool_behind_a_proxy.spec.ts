// Forward authentication behind a real nginx (auth_request) protecting a small static site,
// the way Adminer or an internal dashboard sits behind a proxy: a visitor nobody signed in is
// sent to Roster's sign-in and back to the site, which shows who the proxy let through (the
// X-Roster-* headers); a member without the ability gets the site's 403 page; a return
// address on another host is refused by Roster (no open redirect).
import { test, expect } from '@playwright/test';
import { hydrated, rememberSecrets, rememberSessions, toolServers } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

// Once on each backend: the passkeys server (SQLite) and its twin on PostgreSQL.
for (const server of toolServers) {
  test.describe(`on ${server.backend}`, () => {
    const PW = 'forward story passphrase';
    test.use({ baseURL: server.url });
    test.describe.configure({ mode: 'serial' });

    test.beforeAll(() => {
      rememberSecrets(PW);
      server.cli('user', 'create', '-r', 'DefaultUser', '-u', 'fay', '-e', 'fay@example.com', '-f', 'Fay', '-l', 'Forward', '-p', PW);
      server.cli('user', 'create', '--org', 'Default', '-r', 'Viewer', '-u', 'gus', '-e', 'gus@example.com', '-f', 'Gus', '-l', 'Viewer', '-p', PW);
    });

    test('a visitor signs in at Roster and comes back to the tool with who they are', async ({ browser }) => {
      const context = await browser.newContext({ baseURL: server.url });
      const page = await context.newPage();
      await page.goto(`${server.site}/index.html`);
      await expect(page).toHaveURL(/\/sign-in\?continue=1$/);
      await hydrated(page);
      await new SignInPage(page).signIn('fay', PW);
      await expect(page).toHaveURL(`${server.site}/index.html`);
      await expect(page.getByRole('heading', { name: 'Reports' })).toBeVisible();
      await expect(page.locator('#who')).toHaveText('Signed in as fay (Member in Default)');
      await expect(page.locator('#abilities')).toContainText('use-adminer');
      await rememberSessions(context);
      await context.close();
    });

    test('a member without the ability gets the tool\'s 403 page', async ({ browser }) => {
      const context = await browser.newContext({ baseURL: server.url });
      const page = await context.newPage();
      await page.goto(`${server.site}/index.html`);
      await hydrated(page);
      await new SignInPage(page).signIn('gus', PW);
      await expect(page.getByRole('heading', { name: 'You may not open Reports' })).toBeVisible();
      expect(page.url()).toBe(`${server.site}/index.html`);
      await rememberSessions(context);
      await context.close();
    });

    test('a return address on another host is refused, never followed', async ({ page }) => {
      await page.goto(`/auth/forward/start?rd=${encodeURIComponent('https://evil.example/steal')}`);
      await expect(page).toHaveURL(/\/oauth\/stopped\?why=return_address$/);
      await expect(page.getByRole('alert')).toContainText('not one Roster returns to');
    });
  });
}
