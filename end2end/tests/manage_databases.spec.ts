// Database definitions (issue 12): an admin adds one under Databases (a mistake is named on
// its field), sees it listed with where it points and whether a default password is stored
// (never the password), edits it (the stored password is kept), and deletes it behind a
// question that says what goes. Test Connection against the MariaDB server the test command
// started (success, wrong password). Without the WASM the forms still post; a Viewer has no
// Databases page. At 1280 px and 390 px.
import { test, expect, Browser, Page } from '@playwright/test';
import { cliAt, expectNoSidewaysScroll, hydrated, passkeyDbURL, passkeyURL, rememberSecrets, WIDTHS } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'database story passphrase';
const DB_PW = 'db-default-password-never-shown';
rememberSecrets(PW, DB_PW);
const cli = (...args: string[]) => cliAt(passkeyDbURL, ...args);

test.use({ baseURL: passkeyURL });
test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  cli('org', 'create', 'Warehouse');
  cli('user', 'create', '-r', 'Admin', '--org', 'Warehouse', '-u', 'db_admin', '-e', 'db_admin@example.com', '-f', 'Db', '-l', 'Admin', '-p', PW);
  cli('user', 'create', '-r', 'Viewer', '--org', 'Warehouse', '-u', 'db_viewer', '-e', 'db_viewer@example.com', '-f', 'Db', '-l', 'Viewer', '-p', PW);
});

async function signedIn(browser: Browser, username: string, viewport = { width: 1280, height: 800 }, wasm = true): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: passkeyURL, viewport });
  if (!wasm) await ctx.route('**/*.wasm', (route) => route.abort());
  const page = await ctx.newPage();
  if (wasm) {
    const signIn = new SignInPage(page);
    await signIn.goto();
    await signIn.signIn(username, PW);
  } else {
    await page.goto('/sign-in');
    await page.getByLabel('Username or email').fill(username);
    await page.getByLabel('Password').fill(PW);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  await expect(page).toHaveURL(/\/$/);
  return page;
}

test('an admin adds, edits and deletes a database definition', async ({ browser }) => {
  const page = await signedIn(browser, 'db_admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Databases' }).click();
  await expect(page.getByRole('heading', { name: 'Databases', level: 1 })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText('No databases yet.')).toBeVisible();

  await page.getByLabel('Database ID').fill('Chinook');
  await page.getByLabel('Engine').selectOption({ label: 'PostgreSQL' });
  await page.getByLabel('Host').fill('db.example.com');
  await page.getByLabel('Port').fill('99999');
  await page.getByLabel('Database name or SQLite file').fill('chinook');
  await page.getByLabel('TLS').selectOption('require');
  await page.getByLabel('Login').fill('reader');
  await page.getByLabel('Password').fill(DB_PW);
  await page.getByRole('button', { name: 'Add database' }).click();
  await expect(page.getByText('Port must be a number from 1 to 65535.')).toBeVisible();
  await expect(page.getByLabel('Port')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Port').fill('');
  await page.getByRole('button', { name: 'Add database' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Database saved.' })).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: 'Chinook' });
  await expect(row).toContainText('PostgreSQL');
  await expect(row).toContainText('db.example.com:5432/chinook');
  await expect(row).toContainText('reader (password set)');
  expect(await page.content()).not.toContain(DB_PW);

  // Edit: the form says the password is stored; leaving it empty keeps it.
  await row.getByRole('link', { name: 'Edit Chinook' }).click();
  await expect(page.getByRole('heading', { name: 'Edit Chinook' })).toBeVisible();
  await expect(page.getByLabel('Host')).toHaveValue('db.example.com');
  await expect(page.getByText('Stored (encrypted). Leave empty to keep it.')).toBeVisible();
  await page.getByLabel('Host').fill('db2.example.com');
  await page.getByRole('button', { name: 'Save database' }).click();
  await expect(page).toHaveURL(/\/databases$/);
  await expect(row).toContainText('db2.example.com:5432/chinook');
  await expect(row).toContainText('reader (password set)');

  // Delete asks first and says what goes; Cancel changes nothing.
  await row.getByRole('button', { name: 'Delete Chinook' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete the database Chinook?' });
  await expect(dialog).toContainText('Nothing changes on the database server itself.');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.reload();
  await expect(page.getByRole('row').filter({ hasText: 'Chinook' })).toHaveCount(1);
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete Chinook' }).click();
  await page.getByRole('dialog', { name: 'Delete the database Chinook?' }).getByRole('button', { name: 'Delete database' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Database deleted.' })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'Chinook' })).toHaveCount(0);
  await page.context().close();
});

test('without the WASM the form posts natively: a mistake comes back on its field, success is listed', async ({ browser }) => {
  const page = await signedIn(browser, 'db_admin', { width: 1280, height: 800 }, false);
  await page.goto('/databases');
  await page.getByLabel('Database ID').fill('9lives');
  await page.getByLabel('Engine').selectOption('sqlite');
  await page.getByLabel('Database name or SQLite file').fill('music/chinook.db');
  await page.getByRole('button', { name: 'Add database' }).click();
  await expect(page.getByText('Database ID must start with a letter or an underscore.')).toBeVisible();
  // What was typed comes back.
  await expect(page.getByLabel('Database name or SQLite file')).toHaveValue('music/chinook.db');
  await page.getByLabel('Database ID').fill('Music');
  await page.getByRole('button', { name: 'Add database' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'Music' })).toContainText('music/chinook.db');
  await page.context().close();
});

// The MariaDB server scripts/test.sh started (scripts/mariadb.sh).
function mariadb() {
  const raw = process.env.ROSTER_TEST_MARIADB_URL;
  if (!raw) throw new Error('ROSTER_TEST_MARIADB_URL is not set: scripts/test.sh starts MariaDB');
  const u = new URL(raw);
  return { host: u.hostname, port: u.port, login: decodeURIComponent(u.username), password: decodeURIComponent(u.password), name: u.pathname.slice(1) };
}

test('Test Connection: one database connects, one has the wrong password, each outcome is shown and kept', async ({ browser }) => {
  const m = mariadb();
  rememberSecrets(m.password, 'not the mariadb password');
  const page = await signedIn(browser, 'db_admin');
  await page.goto('/databases');
  await hydrated(page);
  for (const [id, password] of [['Maria', m.password], ['MariaWrong', 'not the mariadb password']]) {
    await page.getByLabel('Database ID').fill(id);
    await page.getByLabel('Engine').selectOption('mariadb');
    await page.getByLabel('Host').fill(m.host);
    await page.getByLabel('Port').fill(m.port);
    await page.getByLabel('Database name or SQLite file').fill(m.name);
    await page.getByLabel('TLS').selectOption('disable');
    await page.getByLabel('Login').fill(m.login);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Add database' }).click();
    await expect(page.getByRole('row').filter({ hasText: id }).first()).toContainText('Never');
  }
  const good = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Maria', exact: true }) });
  const bad = page.getByRole('row').filter({ hasText: 'MariaWrong' });
  await page.getByRole('button', { name: 'Test connection to Maria', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Maria: Connected.' })).toBeVisible();
  await expect(good.getByText('Connected', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Test connection to MariaWrong' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'MariaWrong: Wrong login or password.' })).toBeVisible();
  await expect(bad.getByText('Wrong login or password', { exact: true })).toBeVisible();
  await expect(bad).toContainText('Access denied');
  expect(await page.content()).not.toContain('not the mariadb password');
  await page.context().close();

  // Before the WASM arrives the button posts natively; the outcome is on the page it returns to.
  const plain = await signedIn(browser, 'db_admin', { width: 1280, height: 800 }, false);
  await plain.goto('/databases');
  await plain.getByRole('button', { name: 'Test connection to MariaWrong' }).click();
  await expect(plain).toHaveURL(/\/databases/);
  await expect(plain.getByRole('row').filter({ hasText: 'MariaWrong' })).toContainText('Wrong login or password');
  await plain.context().close();
});

for (const w of WIDTHS) {
  test(`the page fits at ${w.width}px`, async ({ browser }) => {
    const page = await signedIn(browser, 'db_admin', { width: w.width, height: w.height });
    await page.goto('/databases');
    await hydrated(page);
    await expect(page.getByRole('row').filter({ hasText: 'Music' })).toBeVisible();
    await expectNoSidewaysScroll(page, `databases at ${w.width}px`);
    await page.screenshot({ path: `test-results/databases-${w.name}.png`, fullPage: true });
    await page.context().close();
  });
}

test('a Viewer has no Databases page', async ({ browser }) => {
  const page = await signedIn(browser, 'db_viewer');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Databases' })).toHaveCount(0);
  const r = await page.goto('/databases');
  expect(r?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'Not available to you' })).toBeVisible();
  await page.context().close();
});
