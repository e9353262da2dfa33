// The users admin end to end, in one story on one fresh database: first sign-up -> create
// users -> search -> sort -> page -> edit -> copy -> disable (cuts off that user's open
// session) -> delete; plus the generic sign-in error and no-reload interactions.
import { test, expect, Browser, BrowserContext, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import { cli, hydrated, markDocument, expectSameDocument, rememberSecrets } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';
import { UsersPage } from './fixtures/users_page';

const ADMIN = { username: 'admin', fullName: 'Ada Admin', email: 'admin@example.com', password: 'correct horse battery staple' };
const BOB_PW = 'blue river long secret';
rememberSecrets(ADMIN.password, BOB_PW, 'silver lantern passphrase', 'another long passphrase', 'quiet harbor passphrase');

test.describe.configure({ mode: 'serial' });

let adminContext: BrowserContext;
let admin: Page;

test.beforeAll(async ({ browser }: { browser: Browser }) => {
  adminContext = await browser.newContext();
  admin = await adminContext.newPage();
});

test.afterAll(async () => {
  await adminContext?.close();
});

test('a failed sign-in shows the generic message', async ({ page }) => {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('nobody', 'whatever it may be');
  await signIn.expectGenericError();
  await expect(page).toHaveURL(/\/sign-in$/);
  // With no account yet, the page points to the first-run sign-up.
  await expect(page.getByRole('link', { name: 'Create the first account' })).toBeVisible();
});

test('the first sign-up becomes super admin, then sign-up closes', async ({ browser }) => {
  await admin.goto('/sign-up');
  await hydrated(admin);
  // Field-level errors first.
  await admin.getByLabel('Username').fill('1admin');
  await admin.getByLabel('Full name').fill(ADMIN.fullName);
  await admin.getByLabel('Email').fill('not-an-email');
  await admin.getByLabel('Password').fill('short');
  await admin.getByRole('button', { name: 'Create account' }).click();
  await expect(admin.getByText('Username must start with a letter or an underscore.')).toBeVisible();
  await expect(admin.getByText('Email must contain an @, like name@example.com.')).toBeVisible();
  await expect(admin.getByText('Password must be at least 15 characters long.')).toBeVisible();
  await expect(admin.getByLabel('Username')).toHaveAttribute('aria-invalid', 'true');

  await admin.getByLabel('Username').fill(ADMIN.username);
  await admin.getByLabel('Email').fill(ADMIN.email);
  await admin.getByLabel('Password').fill(ADMIN.password);
  await admin.getByRole('button', { name: 'Create account' }).click();
  // Everyone lands on the same home.
  await expect(admin).toHaveURL(/\/$/);
  await expect(admin.getByRole('heading', { name: 'Welcome, Ada Admin' })).toBeVisible();
  await expect(admin.getByText('Signed in as')).toContainText('admin');
  await admin.getByRole('link', { name: 'Users', exact: true }).first().click();
  await expect(admin.getByRole('table', { name: 'Users' }).getByText('super admin')).toBeVisible();

  const other = await browser.newPage();
  await other.goto('/sign-up');
  await expect(other.getByText('Self sign-up is closed.')).toBeVisible();
  await other.close();
});

test('an admin creates users through the form, with field errors', async () => {
  const users = new UsersPage(admin);
  await users.goto();
  await admin.getByRole('link', { name: 'New user' }).click();
  await expect(admin.getByRole('heading', { name: 'New user' })).toBeVisible();
  await users.fillNewUser({ username: 'al ice', email: 'alice@example.com', password: 'password' });
  await admin.getByRole('button', { name: 'Create user' }).click();
  await expect(admin.getByText('Username may only contain letters, digits and @ _ - ~ . (found a space).')).toBeVisible();
  await expect(admin.getByText('Password must be at least 15 characters long.')).toBeVisible();

  await users.fillNewUser({ username: 'alice', fullName: 'Alice Archer', email: 'alice@example.com', password: 'silver lantern passphrase' });
  await admin.getByRole('button', { name: 'Create user' }).click();
  await expect(admin).toHaveURL(/\/admin\/users\/alice\?created=1$/);
  await expect(admin.getByRole('status')).toHaveText('User created.');

  // The same email again is a clear conflict on the email field.
  await admin.goto('/admin/users/new');
  await hydrated(admin);
  await users.fillNewUser({ username: 'alice2', email: 'ALICE@example.com', password: 'another long passphrase' });
  await admin.getByRole('button', { name: 'Create user' }).click();
  await expect(admin.getByText('Another account already uses that email.')).toBeVisible();
});

test('search, sort and page work without full page reloads', async () => {
  // Seed through the CLI, as an operator would: 30 more users plus bob, who can sign in.
  for (let i = 0; i < 30; i++) {
    const n = String(i).padStart(2, '0');
    cli('user', 'create', '-r', 'DefaultUser', '-u', `user${n}`, '-e', `z${String(29 - i).padStart(2, '0')}-user${n}@example.com`,
      '-f', 'Seeded', '-l', `Person ${n}`, '--use-random-password');
  }
  cli('user', 'create', '-r', 'DefaultUser', '-u', 'bob', '-e', 'bob@example.com', '-f', 'Bob', '-l', 'Baker', '-p', BOB_PW);

  const users = new UsersPage(admin);
  await users.goto();
  await markDocument(admin);

  // First page: 25 accounts by username, the built-in public account shown apart (24 rows).
  await expect(users.table().locator('tbody tr')).toHaveCount(24);
  expect((await users.usernames()).slice(0, 4)).toEqual(['admin', 'alice', 'bob', 'user00']);
  await expect(admin.getByRole('link', { name: 'public', exact: true })).toBeVisible();

  // Next and previous pages (links: they work before the WASM arrives too).
  await admin.getByRole('link', { name: 'Next page' }).click();
  await expect(users.table().locator('tbody tr')).toHaveCount(9);
  expect(await users.usernames()).toContain('user29');
  await expect(admin.getByRole('link', { name: 'Next page' })).toHaveCount(0);
  await admin.getByRole('link', { name: 'Previous page' }).click();
  await expect(users.table().locator('tbody tr')).toHaveCount(24);
  expect((await users.usernames())[0]).toBe('admin');
  await expect(admin.getByRole('link', { name: 'Previous page' })).toHaveCount(0);

  // Sort by email: ascending, then descending.
  await users.sortBy('Email');
  await expect(users.header('Email')).toHaveAttribute('aria-sort', 'ascending');
  await expect.poll(async () => (await users.usernames())[0]).toBe('admin');
  await users.sortBy('Email');
  await expect(users.header('Email')).toHaveAttribute('aria-sort', 'descending');
  await expect.poll(async () => (await users.usernames())[0]).toBe('user00');

  // Search by name, case-insensitively; sorting is kept.
  await users.search('ARCHER');
  await expect.poll(() => users.usernames()).toEqual(['alice']);
  await users.search('no such person');
  await expect(admin.getByText('No users match.')).toBeVisible();

  await expectSameDocument(admin);
  // The state lives in the URL: a reload shows the same view.
  await admin.reload();
  await hydrated(admin);
  await expect(admin.getByText('No users match.')).toBeVisible();
});

test('edit and copy a user', async () => {
  await admin.goto('/admin/users/alice');
  await hydrated(admin);
  await markDocument(admin);
  await admin.getByLabel('Full name').fill('Alice A. Archer');
  await admin.getByLabel('Status').selectOption('disabled');
  await admin.getByRole('button', { name: 'Save changes' }).click();
  await expect(admin.getByRole('status')).toHaveText('Changes saved.');
  await expectSameDocument(admin);

  await admin.getByRole('link', { name: 'Copy' }).click();
  await expect(admin.getByRole('heading', { name: 'Copy user alice' })).toBeVisible();
  const users = new UsersPage(admin);
  await users.fillNewUser({ username: 'alice_copy', fullName: 'Copy Of Alice', email: 'copy@example.com', password: 'quiet harbor passphrase' });
  await admin.getByRole('button', { name: 'Create copy' }).click();
  await expect(admin).toHaveURL(/\/admin\/users\/alice_copy\?created=1$/);
  // The configuration (disabled status) came along; the personal details did not.
  await expect(admin.getByLabel('Status')).toHaveValue('disabled');
  await expect(admin.getByLabel('Full name')).toHaveValue('Copy Of Alice');
  await expect(admin.getByLabel('Email')).toHaveValue('copy@example.com');
  await expectSameDocument(admin);
});

test("disabling a user cuts off that user's open session", async ({ browser }) => {
  const bobContext = await browser.newContext();
  const bob = await bobContext.newPage();
  const signIn = new SignInPage(bob);
  await signIn.goto();
  await signIn.signIn('bob', 'wrong password, sorry');
  await signIn.expectGenericError();
  await signIn.signIn('bob', BOB_PW);
  await expect(bob).toHaveURL(/\/$/);
  await bob.goto('/profile');
  await expect(bob.getByRole('heading', { name: 'Your profile' })).toBeVisible();

  await admin.goto('/admin/users/bob');
  await hydrated(admin);
  await admin.getByLabel('Status').selectOption('disabled');
  await admin.getByRole('button', { name: 'Save changes' }).click();
  await expect(admin.getByRole('status')).toHaveText('Changes saved.');

  // Bob's very next request is refused: the profile asks him to sign in.
  await bob.reload();
  await expect(bob.getByRole('alert')).toContainText('Please sign in to continue.');
  await expect(bob.getByText('Signed in as')).toHaveCount(0);
  // And he cannot sign in again while disabled: same generic message.
  await signIn.goto();
  await signIn.signIn('bob', BOB_PW);
  await signIn.expectGenericError();
  await bobContext.close();
});

test('delete with confirmation; never yourself', async () => {
  await admin.goto('/admin/users/bob');
  await hydrated(admin);
  await admin.getByRole('button', { name: 'Delete bob' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Delete bob?' });
  await expect(dialog).toContainText('This deletes the account bob for good');
  // Cancel changes nothing (and has the focus: Enter does not delete).
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await admin.reload();
  await expect(admin.getByRole('heading', { name: 'User bob' })).toBeVisible();
  await hydrated(admin);
  await admin.getByRole('button', { name: 'Delete bob' }).click();
  await admin.getByRole('dialog', { name: 'Delete bob?' }).getByRole('button', { name: 'Delete account' }).click();
  await expect(admin).toHaveURL(/\/admin\/users$/);
  const users = new UsersPage(admin);
  await users.search('bob@');
  await expect(admin.getByText('No users match.')).toBeVisible();

  await admin.goto('/admin/users/admin');
  await hydrated(admin);
  await admin.getByRole('button', { name: 'Delete admin' }).click();
  const own = admin.getByRole('dialog', { name: 'Delete admin?' });
  await own.getByRole('button', { name: 'Delete account' }).click();
  // The refusal is shown in the dialog, where the action was taken.
  await expect(own.getByRole('alert')).toHaveText('You cannot delete your own account.');
});

test('profile: change own name and password', async () => {
  await admin.goto('/profile');
  await hydrated(admin);
  await admin.getByLabel('Full name').fill('Ada Q. Admin');
  await admin.getByRole('button', { name: 'Save profile' }).click();
  await expect(admin.getByRole('status')).toHaveText('Profile saved.');
  await admin.getByLabel('Current password').fill('not my password');
  await admin.getByLabel('New password').fill('an entirely new passphrase');
  await admin.getByRole('button', { name: 'Change password' }).click();
  await expect(admin.getByText('The current password is not correct.')).toBeVisible();
  await admin.getByLabel('Current password').fill(ADMIN.password);
  await admin.getByRole('button', { name: 'Change password' }).click();
  await expect(admin.getByText('Password changed.')).toBeVisible();
});

test('an account moved with its old password hash signs in, then leaves the legacy list', async ({ browser }) => {
  // A bcrypt hash as DBackup (or htpasswd) made it.
  const pw = 'a password from dbackup';
  rememberSecrets(pw);
  const hash = execFileSync('htpasswd', ['-nbB', '-C', '10', 'x', pw]).toString().trim().split(':')[1];
  cli('user', 'create', '-r', 'DefaultUser', '-u', 'moved', '-e', 'moved@example.com', '-f', 'Mo', '-l', 'Ved', '--password-hash', hash);
  await admin.goto('/admin/users');
  await hydrated(admin);
  const note = admin.getByText('1 account still has a password hash imported from another system');
  await expect(note).toBeVisible();
  await admin.getByRole('link', { name: 'Show them' }).click();
  await expect(admin).toHaveURL(/legacy=1/);
  const table = admin.getByRole('table', { name: 'Users' });
  await expect(table.getByRole('rowheader')).toHaveText(['moved']);
  await expect(admin.getByText('Showing the 1 account whose password hash was imported')).toBeVisible();
  for (const width of [1280, 390]) {
    await admin.setViewportSize({ width, height: 800 });
    await admin.screenshot({ path: `test-results/users-legacy-${width}.png`, fullPage: true });
  }
  await admin.setViewportSize({ width: 1280, height: 800 });

  const context = await browser.newContext();
  const page = await context.newPage();
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('moved', pw);
  await expect(page).toHaveURL(/\/$/);
  await context.close();

  await admin.reload();
  await expect(table.getByRole('rowheader')).toHaveCount(0);
  await admin.getByRole('link', { name: 'Show all accounts' }).click();
  await expect(admin.getByText('still has a password hash imported')).toHaveCount(0);
  await expect(table.getByRole('rowheader', { name: 'moved' })).toBeVisible();
});

test('the audit log lists what happened', async () => {
  await admin.goto('/admin/audit');
  await hydrated(admin);
  const table = admin.getByRole('table', { name: 'Audit events, newest first' });
  await expect(table).toContainText('user.deleted');
  await expect(table).toContainText('user.disabled');
  await expect(table).toContainText('password.changed');
  await expect(table).not.toContainText(ADMIN.password);
  await expect(table).not.toContainText(BOB_PW);
});
