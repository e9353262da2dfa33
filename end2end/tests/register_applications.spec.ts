// Applications (issue 13, OAuth clients): a super admin registers a data tool under Settings ->
// Applications (a mistake is named on its field), copies its secret shown once, edits it,
// gives it a new secret and deletes it, each behind a question that says what stops working.
// Without the WASM the secret still comes back once. At 1280 px and 390 px.
import { test, expect, Browser, Page } from '@playwright/test';
import { cliAt, expectNoSidewaysScroll, hydrated, passkeyDbURL, passkeyURL, rememberSecrets, WIDTHS } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'applications story passphrase';
rememberSecrets(PW);
const cli = (...args: string[]) => cliAt(passkeyDbURL, ...args);

test.use({ baseURL: passkeyURL });
test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  cli('user', 'create', '-r', 'Admin', '-u', 'apps_root', '-e', 'apps_root@example.com', '-f', 'Apps', '-l', 'Root', '-p', PW);
});

async function signedIn(browser: Browser, viewport = { width: 1280, height: 800 }, wasm = true): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: passkeyURL, viewport });
  if (!wasm) await ctx.route('**/*.wasm', (route) => route.abort());
  const page = await ctx.newPage();
  await page.goto('/sign-in');
  await page.getByLabel('Username or email').fill('apps_root');
  await page.getByLabel('Password').fill(PW);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
  return page;
}

function row(page: Page, name: string) {
  return page.getByRole('row').filter({ hasText: name });
}

test('a super admin registers an application, copies its secret once, edits, rotates and deletes it', async ({ browser }) => {
  const page = await signedIn(browser);
  await hydrated(page);
  await page.getByRole('link', { name: 'Applications' }).first().click();
  await expect(page.getByRole('heading', { name: 'Applications', level: 1 })).toBeVisible();
  await expect(page.getByText('No applications yet.')).toBeVisible();

  await page.getByLabel('Client ID').fill('dbackup-e2e');
  await page.getByLabel('Name', { exact: true }).fill('DBackup');
  await page.getByLabel('Redirect URIs').fill('http://dbackup.example.com/api/auth/callback');
  await page.getByLabel('Organizations it receives').fill('Default');
  await page.getByLabel(/^roster/).check();
  await page.getByLabel('Ask people before their first sign-in into it (untick for your own tools)').uncheck();
  await page.getByRole('button', { name: 'Register application' }).click();
  // A mistake is named on its field; nothing is registered.
  await expect(page.getByText(/use https \(plain http only on this machine/)).toBeVisible();
  await expect(page.getByText('No applications yet.')).toBeVisible();

  await page.getByLabel('Redirect URIs').fill('https://dbackup.example.com/api/auth/callback\nhttp://localhost:3000/api/auth/callback');
  await page.getByRole('button', { name: 'Register application' }).click();
  const shown = page.getByRole('region', { name: 'New client secret' });
  await expect(shown).toContainText('Copy the client secret of DBackup now: it is shown only once.');
  await expect(shown.getByLabel('Client ID')).toHaveValue('dbackup-e2e');
  const secret = await shown.getByLabel('Client secret').inputValue();
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  rememberSecrets(secret);
  const listed = row(page, 'dbackup-e2e');
  await expect(listed).toContainText('Confidential');
  await expect(listed).toContainText('https://dbackup.example.com/api/auth/callback');
  await expect(listed).toContainText('access 10 min, refresh 30 d');
  // Shown once: a reload does not bring it back.
  await page.reload();
  await expect(page.getByRole('region', { name: 'New client secret' })).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  // Edit: the form holds what is set; saving comes back to the list.
  await page.getByRole('link', { name: 'Edit DBackup' }).click();
  await expect(page.getByRole('heading', { name: 'Edit DBackup' })).toBeVisible();
  await expect(page.getByLabel('Redirect URIs')).toHaveValue('https://dbackup.example.com/api/auth/callback\nhttp://localhost:3000/api/auth/callback');
  await expect(page.getByLabel(/^roster/)).toBeChecked();
  await page.getByLabel('Name', { exact: true }).fill('DBackup Production');
  await page.getByLabel('Access tokens last (minutes)').fill('5');
  await page.getByRole('button', { name: 'Save application' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Application saved.' })).toBeVisible();
  await expect(row(page, 'dbackup-e2e')).toContainText('DBackup Production');
  await expect(row(page, 'dbackup-e2e')).toContainText('access 5 min');

  // A new secret asks first and says what stops working; Cancel changes nothing.
  await page.getByRole('button', { name: 'New secret for DBackup Production' }).click();
  const rotate = page.getByRole('dialog', { name: 'Give DBackup Production a new secret?' });
  await expect(rotate).toContainText('The current secret stops working at once');
  await rotate.getByRole('button', { name: 'Cancel' }).click();
  await expect(rotate).toBeHidden();
  await page.getByRole('button', { name: 'New secret for DBackup Production' }).click();
  await rotate.getByRole('button', { name: 'Make a new secret' }).click();
  const again = page.getByRole('region', { name: 'New client secret' });
  await expect(again).toBeVisible();
  const second = await again.getByLabel('Client secret').inputValue();
  expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(second).not.toBe(secret);
  rememberSecrets(second);

  // Delete: the question says what goes; the row goes.
  await page.getByRole('button', { name: 'Delete DBackup Production' }).click();
  const del = page.getByRole('dialog', { name: 'Delete the application DBackup Production?' });
  await expect(del).toContainText('can no longer sign anyone in');
  await del.getByRole('button', { name: 'Delete application' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Application deleted.' })).toBeVisible();
  await expect(row(page, 'dbackup-e2e')).toHaveCount(0);
  expect(cli('client', 'list')).not.toContain('dbackup-e2e');
  await page.context().close();
});

test('without the WASM the secret still comes back once', async ({ browser }) => {
  const page = await signedIn(browser, { width: 1280, height: 800 }, false);
  await page.goto('/admin/applications');
  await page.getByLabel('Client ID').fill('nojs-tool');
  await page.getByLabel('Name', { exact: true }).fill('No Script Tool');
  await page.getByLabel('Redirect URIs').fill('https://nojs.example.com/cb');
  await page.getByRole('button', { name: 'Register application' }).click();
  await expect(page).toHaveURL(/\/admin\/applications\?rpc=save_client&ok=1/);
  const shown = page.getByRole('region', { name: 'New client secret' });
  const secret = await shown.getByLabel('Client secret').inputValue();
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  rememberSecrets(secret);
  expect(page.url()).not.toContain(secret);
  await expect(row(page, 'nojs-tool')).toContainText('No Script Tool');
  await page.reload();
  await expect(page.getByRole('region', { name: 'New client secret' })).toHaveCount(0);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
  await page.context().close();
});

test('the applications page at 1280 px and 390 px', async ({ browser }) => {
  for (const { width, height, name } of WIDTHS) {
    const page = await signedIn(browser, { width, height });
    await page.goto('/admin/applications');
    await hydrated(page);
    await expect(row(page, 'nojs-tool')).toBeVisible();
    await expectNoSidewaysScroll(page, `applications at ${name}`);
    await page.screenshot({ path: `test-results/applications-${name}.png`, fullPage: true });
    await page.context().close();
  }
});
