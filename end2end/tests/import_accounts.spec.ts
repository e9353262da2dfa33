// Importing accounts (issue 12): a super admin chooses SlashDB's users.cfg sample (as its
// documentation prints it, with `app1:` holding `user_id: mike`), checks it with a dry run,
// reads what would happen to each account, then imports it; the same file again changes
// nothing. With SlashDB's databases.cfg beside it, the databases are defined first and the
// accounts' logins find them. A real import asks first, saying what it changes. The page at
// 1280 px and 390 px.
import { test, expect, Browser, Page } from '@playwright/test';
import * as path from 'path';
import { cliAt, expectNoSidewaysScroll, hydrated, passkeyDbURL, passkeyURL, rememberSecrets, WIDTHS } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'import story passphrase';
rememberSecrets(PW);
const SAMPLE = path.resolve(__dirname, '../../server/tests/fixtures/slashdb-users.cfg');
const DATABASES = path.resolve(__dirname, '../../server/tests/fixtures/slashdb-databases.cfg');

test.use({ baseURL: passkeyURL });
test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  cliAt(passkeyDbURL, 'user', 'create', '-r', 'Admin', '-u', 'import_admin', '-e', 'import_admin@example.com', '-f', 'Import', '-l', 'Admin', '-p', PW);
});

async function signedIn(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: passkeyURL, viewport });
  const page = await ctx.newPage();
  await new SignInPage(page).goto();
  await new SignInPage(page).signIn('import_admin', PW);
  await expect(page).toHaveURL(/\/$/);
  return page;
}

function row(page: Page, account: string) {
  return page.getByRole('row').filter({ has: page.getByRole('cell', { name: account, exact: true }) });
}

test('a super admin checks the SlashDB sample with a dry run, then imports it', async ({ browser }) => {
  const page = await signedIn(browser);
  await page.goto('/admin/users');
  await page.getByRole('link', { name: 'Import or export' }).click();
  await expect(page.getByRole('heading', { name: 'Import accounts' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('File', { exact: true }).setInputFiles(SAMPLE);
  await expect(page.getByText('slashdb-users.cfg loaded.')).toBeVisible();
  await expect(page.getByLabel('Contents', { exact: true })).toHaveValue(/user_id: mike/);
  await expect(page.getByLabel('Format')).toHaveValue('slashdb');

  await page.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(page.getByRole('heading', { name: 'Dry run: nothing was written' })).toBeVisible();
  await expect(row(page, 'app1')).toContainText('error');
  await expect(row(page, 'app1')).toContainText("Its user_id 'mike' differs from its key 'app1'");
  await expect(row(page, 'public')).toBeVisible();
  const admin = row(page, 'admin');
  await expect(admin).not.toContainText('error');
  await expect(admin).toContainText("Database 'Chinook' is not defined in Roster");
  await expect(page.getByRole('status').filter({ hasText: 'dry run: nothing written' })).toBeVisible();

  // SlashDB's databases.cfg beside it: its databases are defined first.
  await page.getByText("SlashDB's databases.cfg (optional, with a users.cfg)").click();
  await page.getByLabel('databases.cfg file').setInputFiles(DATABASES);
  await expect(page.getByText('slashdb-databases.cfg loaded.')).toBeVisible();
  await expect(page.getByLabel('databases.cfg contents')).toHaveValue(/db_type: postgresql/);
  await page.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(row(page, 'Database Chinook')).toContainText('created');
  await expect(row(page, 'Database Ledger')).toContainText("Roster does not connect to 'oracle' databases");
  await expect(row(page, 'admin')).not.toContainText('is not defined in Roster');
  await expect(page.getByRole('status').filter({ hasText: 'databases: 3 created, 2 errors; accounts:' })).toBeVisible();

  // A real import asks first and says what it changes; Cancel changes nothing.
  await page.getByLabel('Change them to what the file says').check();
  await page.getByRole('button', { name: 'Import…' }).click();
  const confirm = page.getByRole('dialog', { name: 'Import the file now?' });
  await expect(confirm).toContainText('changed to what the file says');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByRole('heading', { name: 'Dry run: nothing was written' })).toBeVisible();
  await page.getByLabel('Report them as errors').check();
  await page.getByRole('button', { name: 'Import…' }).click();
  await expect(confirm).toContainText('those that exist and differ are not changed');
  await confirm.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Imported', exact: true })).toBeVisible();
  await expect(confirm).toBeHidden();
  await expect(row(page, 'app1')).toContainText('error');
  await expect(row(page, 'Database Sales')).toContainText('created');

  // Again: nothing changes.
  await page.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(page.getByRole('heading', { name: 'Dry run: nothing was written' })).toBeVisible();
  await expect(row(page, 'public')).toContainText('unchanged');
  await expect(row(page, 'admin')).not.toContainText('created');
  await expect(row(page, 'Database Chinook')).toContainText('unchanged');
  await page.context().close();
});

test('a file over 256 KB is read into the page and checked whole', async ({ browser }) => {
  const page = await signedIn(browser);
  await page.goto('/admin/import');
  await hydrated(page);
  const rows = Array.from({ length: 5000 }, (_, i) => `big${i},big${i}@example.com,Account ${i} of a large spreadsheet`);
  const file = Buffer.from(['username,email,full_name', ...rows].join('\n'));
  expect(file.length).toBeGreaterThan(256 * 1024);
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: file });
  await expect(page.getByText('people.csv loaded.')).toBeVisible();
  await expect(page.getByLabel('Format')).toHaveValue('csv');
  await page.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(page.getByRole('status').filter({ hasText: '5000 created (dry run: nothing written)' })).toBeVisible();
  await expect(page.getByText(/^\d+ of 5000 rows shown/)).toBeVisible();
  await page.context().close();
});

test('the import page at 1280 px and 390 px', async ({ browser }) => {
  for (const w of WIDTHS) {
    const page = await signedIn(browser, { width: w.width, height: 900 });
    await page.goto('/admin/import');
    await hydrated(page);
    await page.getByLabel('File', { exact: true }).setInputFiles(SAMPLE);
    await expect(page.getByText('slashdb-users.cfg loaded.')).toBeVisible();
    await page.getByText("SlashDB's databases.cfg (optional, with a users.cfg)").click();
    await page.getByLabel('databases.cfg file').setInputFiles(DATABASES);
    await expect(page.getByText('slashdb-databases.cfg loaded.')).toBeVisible();
    await page.getByRole('button', { name: 'Check (dry run)' }).click();
    await expect(page.getByRole('heading', { name: 'Dry run: nothing was written' })).toBeVisible();
    await expectNoSidewaysScroll(page, `import page at ${w.name}`);
    await page.screenshot({ path: `test-results/import-${w.name}.png`, fullPage: true });
    await page.getByRole('button', { name: 'Import…' }).click();
    await expect(page.getByRole('dialog', { name: 'Import the file now?' })).toBeVisible();
    await page.screenshot({ path: `test-results/import-confirm-${w.name}.png` });
    await page.context().close();
  }
});
