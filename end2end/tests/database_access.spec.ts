// Shared credentials and per-account database logins (issue 12): an admin adds a MariaDB
// database and a shared credential, maps two accounts (one with a login of its own, one
// through the credential), runs Test Connection on each (one connects, one has the wrong
// password) and sees each outcome; the credential's delete question says how many accounts
// lose their login. Without the WASM the mapping form still posts. At 1280 px and 390 px.
// Against the MariaDB server the test command started (scripts/mariadb.sh).
import { test, expect, Browser, Page } from '@playwright/test';
import { cliAt, expectNoSidewaysScroll, hydrated, passkeyDbURL, passkeyURL, rememberSecrets, WIDTHS } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'credentials story passphrase';
const WRONG = 'an outdated shared password';
rememberSecrets(PW, WRONG);
const cli = (...args: string[]) => cliAt(passkeyDbURL, ...args);

test.use({ baseURL: passkeyURL });
test.describe.configure({ mode: 'serial' });

function mariadb() {
  const raw = process.env.ROSTER_TEST_MARIADB_URL;
  if (!raw) throw new Error('ROSTER_TEST_MARIADB_URL is not set: scripts/test.sh starts MariaDB');
  const u = new URL(raw);
  return { host: u.hostname, port: u.port, login: decodeURIComponent(u.username), password: decodeURIComponent(u.password), name: u.pathname.slice(1) };
}

test.beforeAll(() => {
  cli('org', 'create', 'Depot');
  cli('user', 'create', '-r', 'Admin', '--org', 'Depot', '-u', 'depot_admin', '-e', 'depot_admin@example.com', '-f', 'Depot', '-l', 'Admin', '-p', PW);
  for (const u of ['ana_direct', 'ben_shared']) {
    cli('user', 'create', '-r', 'Member', '--org', 'Depot', '-u', u, '-e', `${u}@example.com`, '-f', u, '-l', 'User', '-p', PW);
  }
});

async function signedIn(browser: Browser, viewport = { width: 1280, height: 800 }, wasm = true): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: passkeyURL, viewport });
  if (!wasm) await ctx.route('**/*.wasm', (route) => route.abort());
  const page = await ctx.newPage();
  if (wasm) {
    await new SignInPage(page).goto();
    await new SignInPage(page).signIn('depot_admin', PW);
  } else {
    await page.goto('/sign-in');
    await page.getByLabel('Username or email').fill('depot_admin');
    await page.getByLabel('Password').fill(PW);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  await expect(page).toHaveURL(/\/$/);
  return page;
}

test('an admin shares a credential, maps two accounts and tests each login', async ({ browser }) => {
  const m = mariadb();
  rememberSecrets(m.password);
  const page = await signedIn(browser);
  await page.goto('/databases');
  await hydrated(page);
  await page.getByLabel('Database ID').fill('Shop');
  await page.getByLabel('Engine').selectOption('mariadb');
  await page.getByLabel('Host').fill(m.host);
  await page.getByLabel('Port').fill(m.port);
  await page.getByLabel('Database name or SQLite file').fill(m.name);
  await page.getByLabel('TLS').selectOption('disable');
  await page.getByRole('button', { name: 'Add database' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Database saved.' })).toBeVisible();

  // The database's shared credentials: one, with a password that is no longer right.
  await page.getByRole('link', { name: 'Credentials of Shop' }).click();
  await expect(page.getByRole('heading', { name: 'Shared credentials of Shop', level: 1 })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText('No shared credentials yet.')).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill('shop reader');
  await page.getByLabel('Login', { exact: true }).fill(m.login);
  await page.getByLabel('Password', { exact: true }).fill(WRONG);
  await page.getByRole('button', { name: 'Add credential' }).click();
  await expect(page.getByText('The name may only contain letters, digits and @ _ - ~ . (found a space).')).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill('shop_reader');
  await page.getByLabel('Password', { exact: true }).fill(WRONG);
  await page.getByRole('button', { name: 'Add credential' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Credential saved.' })).toBeVisible();
  const credRow = page.getByRole('row').filter({ hasText: 'shop_reader' });
  await expect(credRow).toContainText(m.login);
  await expect(credRow).toContainText('depot_admin');

  // Ana signs in to Shop with a login of her own.
  await page.goto('/admin/users/ana_direct');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Database access' })).toBeVisible();
  await expect(page.getByText('No database logins in this organization.')).toBeVisible();
  await page.getByLabel('Database ID').fill('Shop');
  await page.getByLabel('Its own login and password').check();
  await page.getByLabel('Database login').fill(m.login);
  await page.getByLabel('Database password').fill(m.password);
  await page.getByRole('button', { name: 'Save login' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Login saved.' })).toBeVisible();
  const anaRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Shop' }) });
  await expect(anaRow).toContainText(`Own login ${m.login} (password set)`);
  await anaRow.getByRole('button', { name: 'Test the login to Shop' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Shop: Connected.' })).toBeVisible();
  await expect(anaRow.getByText('Connected', { exact: true })).toBeVisible();
  expect(await page.content()).not.toContain(m.password);

  // Ben goes through the shared credential, whose password is wrong.
  await page.goto('/admin/users/ben_shared');
  await hydrated(page);
  // The form suggests the organization's databases, then the chosen one's credentials.
  await expect(page.locator('#mapping-databases option[value="Shop"]')).toHaveCount(1);
  await page.getByLabel('Database ID').fill('Shop');
  await expect(page.locator('#mapping-credentials option[value="shop_reader"]')).toHaveCount(1);
  await page.getByLabel('A shared credential').check();
  await page.getByLabel('Shared credential name').fill('shop_reader');
  await page.getByRole('button', { name: 'Save login' }).click();
  const benRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Shop' }) });
  await expect(benRow).toContainText('Shared credential shop_reader');
  await benRow.getByRole('button', { name: 'Test the login to Shop' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Shop: Wrong login or password.' })).toBeVisible();
  await expect(benRow.getByText('Wrong login or password', { exact: true })).toBeVisible();
  expect(await page.content()).not.toContain(WRONG);

  // Deleting the credential says who loses their login; Cancel keeps it.
  await page.goto('/databases/Shop/credentials');
  await hydrated(page);
  await expect(credRow.getByRole('cell').nth(3)).toHaveText('1');
  await credRow.getByRole('button', { name: 'Delete shop_reader' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete the credential shop_reader?' });
  await expect(dialog).toContainText('the database login of the 1 account(s) mapped through it');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(credRow).toHaveCount(1);
  await page.context().close();
});

test('without the WASM the mapping form posts natively: a mistake comes back, a change is listed', async ({ browser }) => {
  const page = await signedIn(browser, { width: 1280, height: 800 }, false);
  await page.goto('/admin/users/ben_shared');
  await page.getByRole('link', { name: 'Change the login to Shop' }).click();
  await expect(page.getByRole('heading', { name: 'Change the login to Shop' })).toBeVisible();
  await page.getByLabel('A shared credential').check();
  await page.getByLabel('Shared credential name').fill('no_such_credential');
  await page.getByRole('button', { name: 'Save login' }).click();
  await expect(page.getByText("Database 'Shop' has no credential named 'no_such_credential'.")).toBeVisible();
  await page.goto('/admin/users/ben_shared?map=Shop');
  await page.getByLabel('No login').check();
  await page.getByLabel('Shared credential name').fill('');
  await page.getByRole('button', { name: 'Save login' }).click();
  await expect(page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Shop' }) })).toContainText('No login');
  await page.context().close();
});

for (const w of WIDTHS) {
  test(`the credentials and database access fit at ${w.width}px`, async ({ browser }) => {
    const page = await signedIn(browser, { width: w.width, height: w.height });
    await page.goto('/databases/Shop/credentials');
    await hydrated(page);
    await expect(page.getByRole('row').filter({ hasText: 'shop_reader' })).toBeVisible();
    await expectNoSidewaysScroll(page, `credentials at ${w.width}px`);
    await page.screenshot({ path: `test-results/credentials-${w.name}.png`, fullPage: true });
    await page.goto('/admin/users/ana_direct#database-access');
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Database access' })).toBeVisible();
    await expectNoSidewaysScroll(page, `database access at ${w.width}px`);
    await page.screenshot({ path: `test-results/database-access-${w.name}.png`, fullPage: true });
    await page.context().close();
  });
}
