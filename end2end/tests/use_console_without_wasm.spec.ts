// Forms before the WASM arrives (slow links, blocked scripts): with every WASM request
// blocked, the server-rendered forms post natively and come back as pages — errors as the
// same page with the message (and what was typed, never the password), successes where they
// should land — and the questions before destructive actions still ask.
import { test, expect, BrowserContext, Page } from '@playwright/test';
import { cliAt, edgeDbURL, edgeURL, rememberSecrets } from './fixtures/roster';

const PW = 'edge story passphrase two';
rememberSecrets(PW);
const cli = (...args: string[]) => cliAt(edgeDbURL, ...args);

test.use({ baseURL: edgeURL });
test.describe.configure({ mode: 'serial' });

let ctx: BrowserContext;
let page: Page;

test.beforeAll(async ({ browser }) => {
  cli('user', 'create', '-r', 'Admin', '-u', 'nojs_root', '-e', 'nojs_root@example.com', '-f', 'No', '-l', 'Script', '-p', PW);
  cli('org', 'create', 'NoScript');
  cli('user', 'create', '-r', 'Viewer', '--org', 'NoScript', '-u', 'nojs_member', '-e', 'nojs_member@example.com', '-f', 'M', '-l', 'N', '-p', PW);
  ctx = await browser.newContext({ baseURL: edgeURL });
  // No WASM, ever: the page stays as the server rendered it.
  await ctx.route('**/*.wasm', (route) => route.abort());
  page = await ctx.newPage();
});

test.afterAll(async () => {
  await ctx?.close();
});

test('sign-in without the WASM: a refusal is the same page with the message, success lands home', async () => {
  await page.goto('/sign-in');
  await page.getByLabel('Username or email').fill('nojs_root');
  await page.getByLabel('Password').fill('not the right password at all');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/sign-in\?rpc=sign_in&error=/);
  await expect(page.getByRole('alert')).toHaveText('Incorrect user ID or password.');
  // What was typed comes back, except the password.
  await expect(page.getByLabel('Username or email')).toHaveValue('nojs_root');
  await expect(page.getByLabel('Password')).toHaveValue('');
  expect(page.url()).not.toContain('not%20the%20right');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);

  await page.getByLabel('Password').fill(PW);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(`${edgeURL}/`);
  await expect(page.getByRole('heading', { name: 'Welcome, No Script' })).toBeVisible();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
});

test('creating an organization without the WASM: field errors, then success', async () => {
  await page.goto('/admin/orgs');
  await page.getByLabel('New organization name').fill('   ');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page.getByText('Enter a name for the organization.')).toBeVisible();
  await page.getByLabel('New organization name').fill('Made Without Script');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'Made Without Script' })).toHaveCount(1);
});

test('a destructive action still asks without the WASM, and cancelling changes nothing', async () => {
  await page.goto('/admin/orgs');
  await page.getByRole('button', { name: 'Delete Made Without Script' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete Made Without Script?' });
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await page.reload();
  await expect(page.getByRole('row').filter({ hasText: 'Made Without Script' })).toHaveCount(1);
  await page.getByRole('button', { name: 'Delete Made Without Script' }).click();
  await page.getByRole('dialog', { name: 'Delete Made Without Script?' }).getByRole('button', { name: 'Delete organization' }).click();
  await expect(page).toHaveURL(/\/admin\/orgs\?rpc=delete_org&ok=1/);
  await expect(page.getByRole('row').filter({ hasText: 'Made Without Script' })).toHaveCount(0);
});

test('new user without the WASM: refused input comes back filled in; created lands on the account', async () => {
  await page.goto('/admin/users/new');
  await page.getByLabel('Username').fill('made_nojs');
  await page.getByLabel('Full name').fill('Made Without Script');
  await page.getByLabel('Email').fill('not an email');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByText('Email must contain an @, like name@example.com.')).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveValue('made_nojs');
  await expect(page.getByLabel('Full name')).toHaveValue('Made Without Script');
  await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
  await page.getByLabel('Email').fill('made_nojs@example.com');
  await page.getByLabel('Password', { exact: true }).fill(PW);
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page).toHaveURL(/\/admin\/users\/made_nojs\?created=1$/);
  await expect(page.getByRole('heading', { name: 'User made_nojs' })).toBeVisible();
});

test('explain access and member search work as plain GET forms', async () => {
  await page.goto('/access');
  await page.getByLabel('Username').fill('nojs_member');
  await page.getByLabel('In organization').selectOption({ label: 'NoScript' });
  await page.getByLabel('Ability').selectOption('manage-users');
  await page.getByRole('button', { name: 'Explain' }).click();
  await expect(page).toHaveURL(/\/access\?user=nojs_member/);
  await expect(page.getByRole('status')).toContainText('Denied');
  await expect(page.getByRole('list', { name: 'How the decision was reached' })).toContainText('Role: Role Viewer in NoScript does not grant');
});

test('sign out without the WASM lands on the sign-in page', async () => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
});
