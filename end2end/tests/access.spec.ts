// The access model end to end, on its own server and database, with several browser
// contexts at once: a super admin toggles an ability in the role matrix and a member's open
// page follows without a reload (and the server follows on the next request); the org
// switcher changes what the member sees; an org admin trying to delete a user who belongs
// to another organization is offered "remove from organization" with the reason.
import { test, expect, Browser, BrowserContext, Page, APIRequestContext } from '@playwright/test';
import { accessURL, accessDbURL, cliAt, hydrated, markDocument, expectSameDocument, rememberSecrets } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'access story passphrase';
rememberSecrets(PW);
const cli = (...args: string[]) => cliAt(accessDbURL, ...args);

test.use({ baseURL: accessURL });
test.describe.configure({ mode: 'serial' });

const contexts: BrowserContext[] = [];
let root: Page;
let mia: Page;
let boss: Page;

async function signedIn(browser: Browser, username: string): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: accessURL });
  contexts.push(ctx);
  const page = await ctx.newPage();
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(username, PW);
  await expect(page.getByText('Signed in as')).toContainText(username);
  return page;
}

/** The API as `page`'s session, sending the headers a same-origin page sends. */
function api(page: Page): APIRequestContext {
  return page.request;
}
const sameOrigin = { Origin: accessURL, 'Sec-Fetch-Site': 'same-origin' };

test.beforeAll(async ({ browser }) => {
  // Seeded with the CLI while the server runs, as an operator would.
  const user = (u: string, role: string, org?: string) =>
    cli('user', 'create', '-r', role, ...(org ? ['--org', org] : []), '-u', u, '-e', `${u}@example.com`, '-f', u, '-l', 'Test', '-p', PW);
  user('root', 'Admin');
  cli('org', 'create', 'Acme');
  cli('org', 'create', 'Beta');
  user('mia', 'Member', 'Acme');
  cli('org', 'add-member', '--org', 'Beta', '-u', 'mia', '-r', 'Viewer');
  user('boss', 'Admin', 'Acme');
  user('multi', 'Viewer', 'Acme');
  cli('org', 'add-member', '--org', 'Beta', '-u', 'multi', '-r', 'Viewer');
  user('solo', 'Viewer', 'Acme');
  user('newbie', 'DefaultUser');
  root = await signedIn(browser, 'root');
  // The running server picks up changes made by another process within a second.
  await expect
    .poll(async () => (await (await api(root).get('/api/v1/check?user=boss&org=Acme&ability=manage-users')).json()).allowed)
    .toBe(true);
  // An org admin adds only accounts that are already theirs to see: newbie lists mia.
  const listed = await api(root).put('/api/v1/users/newbie/access/mia', { data: { level: 'view' }, headers: sameOrigin });
  expect(listed.status()).toBe(200);
  mia = await signedIn(browser, 'mia');
  boss = await signedIn(browser, 'boss');
});

test.afterAll(async () => {
  for (const c of contexts) await c.close();
});

test('everyone sees the role matrix; only super admins can toggle it', async () => {
  await mia.goto('/roles');
  await hydrated(mia);
  const cell = mia.getByRole('switch', { name: 'run-backups for Operator' });
  await expect(cell).toHaveAttribute('aria-checked', 'true');
  await expect(cell).toBeDisabled();
  await expect(mia.getByText('Only super admins change roles.')).toBeVisible();
  // The counts say what they count.
  await expect(mia.getByRole('columnheader', { name: /Operator/ })).toContainText('holder');
  await root.goto('/roles');
  await hydrated(root);
  await expect(root.getByRole('switch', { name: 'run-backups for Operator' })).toBeEnabled();
});

test('a toggle in the matrix shows on the member page without reload and decides the next request', async () => {
  await mia.goto('/members');
  await hydrated(mia);
  await expect(mia.getByRole('heading', { name: 'Members of Acme' })).toBeVisible();
  await expect(mia.getByRole('list', { name: 'Your abilities' })).toContainText('run-backups');
  await expect(mia.getByRole('button', { name: 'Add member' })).toHaveCount(0);
  await markDocument(mia);

  // Refused by the server before the toggle.
  const before = await api(mia).post('/api/v1/orgs/Acme/members', { data: { username: 'newbie', role: 1 }, headers: sameOrigin });
  expect(before.status()).toBe(403);

  const toggle = root.getByRole('switch', { name: 'manage-users for Member' });
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');

  // Mia's open page follows (server push), no reload.
  await expect(mia.getByRole('button', { name: 'Add member' })).toBeVisible();
  await expect(mia.getByRole('list', { name: 'Your abilities' })).toContainText('manage-users');
  await expectSameDocument(mia);

  // ...and the server allows the action on her very next request.
  // Suggestions as she types (accounts she may add: newbie lists her).
  await mia.getByLabel('Account', { exact: true }).fill('newb');
  await expect(mia.locator('#add-candidates option[value="newbie"]')).toHaveCount(1);
  await mia.getByLabel('Account', { exact: true }).fill('newbie');
  await mia.getByRole('button', { name: 'Add member' }).click();
  await expect(mia.getByText('Choose a role.')).toBeVisible();
  await mia.getByLabel('Role', { exact: true }).selectOption({ label: 'Viewer' });
  await mia.getByRole('button', { name: 'Add member' }).click();
  await expect(mia.getByRole('table', { name: 'Members' }).getByRole('rowheader', { name: 'newbie', exact: true })).toBeVisible();
  await expectSameDocument(mia);

  // Untick: the action disappears from her page and the server refuses it again.
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await expect(mia.getByRole('button', { name: 'Add member' })).toHaveCount(0);
  await expect(mia.getByRole('button', { name: 'Remove newbie from Acme' })).toHaveCount(0);
  const after = await api(mia).delete('/api/v1/orgs/Acme/members/newbie', { headers: sameOrigin });
  expect(after.status()).toBe(403);
  expect((await after.json()).error.code).toBe('missing_ability');
  await expectSameDocument(mia);
});

test('switching organization in the header changes what the member sees', async () => {
  await expect(mia.getByRole('heading', { name: 'Members of Acme' })).toBeVisible();
  await markDocument(mia);
  const switcher = mia.getByLabel('Organization');
  await expect(switcher).toHaveValue(/\d+/);
  await switcher.selectOption({ label: 'Beta' });
  await expect(mia.getByRole('heading', { name: 'Members of Beta' })).toBeVisible();
  await expect(mia.getByText('You hold no abilities here')).toBeVisible();
  await expect(mia.getByRole('list', { name: 'Your abilities' })).toHaveCount(0);
  await expectSameDocument(mia);
  // The session remembers it.
  await mia.reload();
  await hydrated(mia);
  await expect(mia.getByRole('heading', { name: 'Members of Beta' })).toBeVisible();
  await mia.getByLabel('Organization').selectOption({ label: 'Acme' });
  await expect(mia.getByRole('heading', { name: 'Members of Acme' })).toBeVisible();
});

test('an org admin removes a user of two organizations from its own, after a question', async () => {
  await boss.goto('/members');
  await hydrated(boss);
  const table = boss.getByRole('table', { name: 'Members' });
  await expect(table.getByRole('rowheader', { name: 'multi', exact: true })).toBeVisible();
  // An account that also belongs elsewhere is not the org admin's to delete: removal only.
  await expect(boss.getByRole('button', { name: 'Delete multi' })).toHaveCount(0);
  await boss.getByRole('button', { name: 'Remove multi from Acme' }).click();
  const dialog = boss.getByRole('dialog', { name: 'Remove multi from Acme?' });
  await expect(dialog).toContainText('The account itself stays.');
  await dialog.getByRole('button', { name: 'Remove from organization' }).click();
  await expect(table.getByRole('rowheader', { name: 'multi', exact: true })).toHaveCount(0);
  // Still an account, still in Beta.
  const ms = await (await api(root).get('/api/v1/users/multi/memberships')).json();
  expect(ms.map((m: { org: { name: string } }) => m.org.name)).toEqual(['Beta']);
  // A user of Acme alone can be deleted by the org admin.
  await boss.getByRole('button', { name: 'Delete solo' }).click();
  await boss.getByRole('dialog', { name: 'Delete solo?' }).getByRole('button', { name: 'Delete account' }).click();
  await expect(table.getByRole('rowheader', { name: 'solo', exact: true })).toHaveCount(0);
  // The org admin cannot act on itself.
  await expect(boss.getByRole('button', { name: 'Delete boss' })).toHaveCount(0);
});

test('an org admin grants extra abilities within what it holds', async () => {
  await boss.goto('/members');
  await hydrated(boss);
  const row = boss.getByRole('row').filter({ hasText: 'newbie' });
  await row.getByText('Extra abilities for newbie', { exact: true }).click();
  await row.getByLabel('view-users').check();
  await row.getByRole('button', { name: 'Save extra abilities for newbie' }).click();
  await expect(row.getByRole('cell').nth(2)).toContainText('view-users');
  // (the cell names the ability as soon as it is ticked: the save may still be on its way)
  const reason = async () => (await (await api(root).get('/api/v1/check?user=newbie&org=Acme&ability=view-users')).json()).reason;
  await expect.poll(reason, { timeout: 10_000 }).toBe('extra_grant');
});

test('per-account lists let an org admin reach an account of another organization', async () => {
  // multi now belongs to Beta alone: out of boss's reach...
  expect((await api(boss).get('/api/v1/users/multi')).status()).toBe(404);
  await root.goto('/admin/users/multi');
  await hydrated(root);
  await expect(root.getByRole('list', { name: 'Memberships' })).toContainText('Beta: Viewer');
  await root.getByLabel('Account to give access').fill('boss');
  await root.getByLabel('Access', { exact: true }).selectOption({ label: 'May view, edit and delete' });
  await root.getByRole('button', { name: 'Give access' }).click();
  await expect(root.getByRole('list', { name: 'Account access lists' })).toContainText('boss may view, edit and delete');
  // ...until it is on multi's edit list.
  await boss.goto('/admin/users/multi');
  await hydrated(boss);
  await expect(boss.getByRole('heading', { name: 'User multi' })).toBeVisible();
  await expect(boss.getByLabel('Super admin')).toHaveCount(0);
  await boss.getByLabel('Full name').fill('Multi Renamed');
  await boss.getByRole('button', { name: 'Save changes' }).click();
  await expect(boss.getByRole('status')).toHaveText('Changes saved.');
  // Taken off the list again: out of reach again.
  await root.reload();
  await hydrated(root);
  await root.getByRole('button', { name: 'Take boss off the lists' }).click();
  await expect(root.getByText("Nobody besides the organization's admins and super admins.")).toBeVisible();
  expect((await api(boss).get('/api/v1/users/multi')).status()).toBe(404);
});

test('a super admin manages organizations and roles', async () => {
  await root.goto('/admin/orgs');
  await hydrated(root);
  await root.getByLabel('New organization name').fill('acme');
  await root.getByRole('button', { name: 'Create organization' }).click();
  await expect(root.getByText('That name already exists.')).toBeVisible();
  await root.getByLabel('New organization name').fill('Gamma');
  await root.getByRole('button', { name: 'Create organization' }).click();
  await root.getByLabel('New name for Gamma').fill('Gamma Two');
  await root.getByRole('button', { name: 'Rename Gamma' }).click();
  await expect(root.getByRole('rowheader', { name: 'Gamma Two' })).toBeVisible();
  await root.getByRole('button', { name: 'Delete Gamma Two' }).click();
  const del = root.getByRole('dialog', { name: 'Delete Gamma Two?' });
  await expect(del).toContainText('It has no members.');
  await del.getByRole('button', { name: 'Delete organization' }).click();
  await expect(root.getByRole('rowheader', { name: 'Gamma Two' })).toHaveCount(0);
  // Each organization links to its members.
  await root.getByRole('rowheader', { name: 'Beta' }).getByRole('link').click();
  await expect(root.getByRole('heading', { name: 'Members of Beta' })).toBeVisible();
  await expect(root.getByRole('table', { name: 'Members' }).getByRole('rowheader', { name: 'mia' })).toBeVisible();

  await root.goto('/roles');
  await hydrated(root);
  await root.getByLabel('New role name').fill('Auditor');
  await root.getByRole('button', { name: 'Create role' }).click();
  const cell = root.getByRole('switch', { name: 'view-users for Auditor' });
  await expect(cell).toHaveAttribute('aria-checked', 'false');
  await cell.click();
  await expect(cell).toHaveAttribute('aria-checked', 'true');
  const auditor = root.getByRole('listitem').filter({ has: root.getByLabel('Name of Auditor') });
  // (the live page may re-render the list when the toggle's change event arrives: retry the
  // edit if that wiped the typed name)
  await expect(async () => {
    await auditor.getByLabel('Name of Auditor').fill('Reviewer');
    await auditor.getByRole('button', { name: 'Rename' }).click();
    await expect(root.getByRole('switch', { name: 'view-users for Reviewer' })).toHaveAttribute('aria-checked', 'true', { timeout: 2_000 });
  }).toPass();
  await root.getByRole('button', { name: 'Delete Reviewer' }).click();
  await root.getByRole('dialog', { name: 'Delete the role Reviewer?' }).getByRole('button', { name: 'Delete role' }).click();
  await expect(root.getByRole('switch', { name: 'view-users for Reviewer' })).toHaveCount(0);
  // A role still held says who holds it and where they go.
  await root.getByRole('button', { name: 'Delete Viewer' }).click();
  const viewer = root.getByRole('dialog', { name: 'Delete the role Viewer?' });
  await expect(viewer).toContainText('hold Viewer. They get another role instead');
  await viewer.getByRole('button', { name: 'Cancel' }).click();
  await expect(root.getByRole('switch', { name: 'run-backups for Viewer' })).toHaveCount(1);
});

test('the users admin places a new account in the current organization with a role', async () => {
  await root.goto('/admin/users/new');
  await hydrated(root);
  await root.getByLabel('Username').fill('placed');
  await root.getByLabel('Email').fill('placed@example.com');
  await root.getByLabel('Password', { exact: true }).fill(PW);
  await expect(root.getByText('The account joins Default, the organization you are working in.')).toBeVisible();
  await root.getByLabel('Role in Default').selectOption({ label: 'Operator' });
  await root.getByRole('button', { name: 'Create user' }).click();
  await expect(root.getByRole('list', { name: 'Memberships' })).toContainText('Default: Operator');
});

test('explain access shows the decision and the chain', async () => {
  await root.goto('/access');
  await hydrated(root);
  await root.getByLabel('Username').fill('mia');
  await root.getByLabel('In organization').selectOption({ label: 'Acme' });
  await root.getByLabel('Ability').selectOption('manage-users');
  await root.getByRole('button', { name: 'Explain' }).click();
  const status = root.getByRole('status').filter({ hasText: 'Denied' });
  await expect(status).toBeVisible();
  // The chain is in words, and the question is a link that can be shared.
  await expect(status.getByRole('list', { name: 'How the decision was reached' })).toContainText('Role: Role Member in');
  await expect(root).toHaveURL(/\/access\?user=mia&org=\d+&ability=manage-users/);
});
