// Forms before the WASM arrives (slow links, blocked scripts): with every WASM request
// blocked, the server-rendered forms post natively and come back as pages — errors as the
// same page with the message (and what was typed, never the password), successes where they
// should land — and the questions before destructive actions still ask.
import { test, expect, BrowserContext, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
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

test('an API token without the WASM: a refusal comes back filled in, the new token is shown once and works', async ({ playwright }) => {
  await page.goto('/profile');
  const tokens = page.getByRole('region', { name: 'API tokens' });
  await tokens.getByLabel('Token name').fill('');
  await tokens.getByLabel('Kind').selectOption({ label: 'API key' });
  await tokens.getByLabel('Expires in (days)').fill('30');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  await expect(page).toHaveURL(/\/profile\?rpc=create_token&error=/);
  await expect(tokens.getByText('Enter a name for the token.')).toBeVisible();
  await expect(tokens.getByLabel('Kind')).toHaveValue('api_key');
  await expect(tokens.getByLabel('Expires in (days)')).toHaveValue('30');

  await tokens.getByLabel('Token name').fill('Nightly export');
  await tokens.getByRole('checkbox', { name: /^view-users/ }).check();
  await tokens.getByRole('button', { name: 'Create token' }).click();
  await expect(page).toHaveURL(/\/profile\?rpc=create_token&ok=1/);
  const created = page.getByRole('region', { name: 'New token' });
  await expect(created.getByText('Copy your new token now: it is shown only once.')).toBeVisible();
  const token = await created.getByLabel('Your new token').inputValue();
  rememberSecrets(token);
  expect(token).toMatch(/^rst_key_[A-Za-z0-9_-]{43}$/);
  // The secret never travels in a URL.
  expect(page.url()).not.toContain(token.slice(8));
  const row = tokens.getByRole('row').filter({ hasText: 'Nightly export' });
  await expect(row).toContainText('API key');
  await expect(row).toContainText('view-users');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);

  // It works as the key it is.
  const api = await playwright.request.newContext({ baseURL: edgeURL });
  const me = await api.get('/api/v1/me', { headers: { 'X-API-Key': token } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe('nojs_root');
  await api.dispose();

  // Shown once: the same page again (a reload) does not show it.
  await page.reload();
  await expect(page.getByRole('region', { name: 'New token' })).toHaveCount(0);
  await expect(tokens.getByRole('row').filter({ hasText: 'Nightly export' })).toHaveCount(1);
});

test('two-factor enrolment without the WASM: QR and key, a wrong code, recovery codes once, replace, turn off', async () => {
  const oathtool = (secret: string) =>
    execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(Date.now() / 1000)}`, secret]).toString().trim();
  await page.goto('/profile');
  const security = page.getByRole('region', { name: 'Security' });
  await expect(security.getByText('Off', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Enable two-factor authentication' }).click();
  await expect(page).toHaveURL(/\/profile\?rpc=begin_totp&ok=1/);
  await expect(page.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  const shown = (await page.getByLabel('Secret key').textContent())?.trim() ?? '';
  expect(shown).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  const secret = shown.replace(/\s/g, '');
  rememberSecrets(secret);

  // A wrong code: the message, and the same enrolment still on screen.
  await page.getByLabel('Code from your app').fill('000000');
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  await expect(page).toHaveURL(/\/profile\?rpc=confirm_totp&error=/);
  await expect(page.getByText('That code is not valid.')).toBeVisible();
  expect((await page.getByLabel('Secret key').textContent())?.replace(/\s/g, '')).toBe(secret);
  expect(page.url()).not.toContain('000000');

  await page.getByLabel('Code from your app').fill(oathtool(secret));
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  await expect(page).toHaveURL(/\/profile\?rpc=confirm_totp&ok=1/);
  const codes = page.getByRole('region', { name: 'Recovery codes' });
  await expect(codes.getByRole('listitem')).toHaveCount(10);
  const first = (await codes.getByRole('listitem').allTextContents()).map((c) => c.trim());
  rememberSecrets(...first);
  expect(first[0]).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  await expect(security.getByText('On', { exact: true })).toBeVisible();
  for (const c of first) expect(page.url()).not.toContain(c);
  await codes.getByRole('button', { name: 'I have saved these codes' }).click();
  await expect(page).toHaveURL(/\/profile\??$/);
  await expect(page.getByRole('region', { name: 'Recovery codes' })).toHaveCount(0);

  // Replacing them asks first; the new ones are shown once.
  await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
  await page.getByRole('dialog', { name: 'Replace your recovery codes?' }).getByRole('button', { name: 'Replace the codes' }).click();
  await expect(page).toHaveURL(/\/profile\?rpc=regenerate_recovery_codes&ok=1/);
  const again = (await page.getByRole('region', { name: 'Recovery codes' }).getByRole('listitem').allTextContents()).map((c) => c.trim());
  rememberSecrets(...again);
  expect(again).toHaveLength(10);
  expect(again.filter((c) => first.includes(c))).toHaveLength(0);
  await page.reload();
  await expect(page.getByRole('region', { name: 'Recovery codes' })).toHaveCount(0);

  // Turning it off asks first, then says so.
  await page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
  await page.getByRole('dialog', { name: 'Turn off two-factor authentication?' }).getByRole('button', { name: 'Turn it off' }).click();
  await expect(page).toHaveURL(/\/profile\?rpc=disable_two_factor&ok=1/);
  await expect(page.getByRole('status').filter({ hasText: 'Two-factor authentication is off.' })).toBeVisible();
  await expect(security.getByText('Off', { exact: true })).toBeVisible();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
});

test('an import without the WASM: the dry run and the import come back with their report', async () => {
  const lines = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ username: `${prefix}${i}`, email: `${prefix}${i}@example.com` })).join('\n');
  await page.goto('/admin/import');
  await page.getByLabel('Format').selectOption('jsonl');
  await page.getByLabel('Contents', { exact: true }).fill(`${lines(2, 'nojs_imp')}\n{"username": "bad name!"}`);
  await page.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(page).toHaveURL(/\/admin\/import\?rpc=import_accounts&ok=1/);
  await expect(page.getByRole('heading', { name: 'Dry run: nothing was written' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: '2 created, 1 error (dry run: nothing written)' })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'bad name!' })).toContainText('error');
  // (the report is shown once: a reload does not bring it back)
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Dry run: nothing was written' })).toHaveCount(0);

  // A long report comes back shortened, its counts whole and its errors first.
  await page.getByLabel('Format').selectOption('jsonl');
  await page.getByLabel('Contents', { exact: true }).fill(`${lines(300, 'nojs_many')}\n{"username": "bad name!"}`);
  await page.getByRole('button', { name: 'Import…' }).click();
  await page.getByRole('dialog', { name: 'Import the file now?' }).getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Imported' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: '300 created, 1 error' })).toBeVisible();
  await expect(page.getByText(/^\d+ of 301 rows shown \(errors kept first\)/)).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'bad name!' })).toContainText('error');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
  await page.getByRole('heading', { name: 'Imported' }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/import-without-wasm.png' });
  expect(cli('user', 'list', '--search', 'nojs_many299')).toContain('nojs_many299@example.com');
});

test('an import without the WASM takes the chosen file itself, over 256 KB', async () => {
  const rows = Array.from({ length: 3000 }, (_, i) =>
    JSON.stringify({ username: `nojs_file${i}`, full_name: `Account ${i} of a file chosen without script`, email: `nojs_file${i}@example.com` }));
  const file = Buffer.from(rows.join('\n'));
  expect(file.length).toBeGreaterThan(256 * 1024);
  await page.goto('/admin/import');
  await page.getByLabel('Format').selectOption('jsonl');
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'people.jsonl', mimeType: 'application/x-ndjson', buffer: file });
  await page.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(page).toHaveURL(/\/admin\/import\?rpc=import_accounts&ok=1/);
  await expect(page.getByRole('status').filter({ hasText: '3000 created (dry run: nothing written)' })).toBeVisible();

  // A file that is not text is refused by name.
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00]) });
  await page.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(page.getByRole('alert')).toHaveText('photo.jpg is not a text file (UTF-8).');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
  expect(cli('user', 'list', '--search', 'nojs_file1')).not.toContain('nojs_file1@example.com');
});

test('sign out without the WASM lands on the sign-in page', async () => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
});
