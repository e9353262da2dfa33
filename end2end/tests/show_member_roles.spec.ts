// Displays that are always right: after adding members with each role, every row's role
// select shows the stored role — on the live page and after a full reload (hydration) —
// repeated enough rounds to catch a race between the list and its options.
import { test, expect } from '@playwright/test';
import { cliAt, edgeDbURL, edgeURL, hydrated, rememberSecrets } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'edge story passphrase three';
rememberSecrets(PW);
const cli = (...args: string[]) => cliAt(edgeDbURL, ...args);
const ROLES = ['Viewer', 'Operator', 'Member', 'Admin'];
const ROUNDS = 3;

test.use({ baseURL: edgeURL });

test('each added member shows its stored role, live and after reload', async ({ browser }) => {
  test.setTimeout(180_000);
  cli('user', 'create', '-r', 'Admin', '-u', 'roles_root', '-e', 'roles_root@example.com', '-f', 'R', '-l', 'R', '-p', PW);
  cli('org', 'create', 'RoleShow');
  for (let round = 0; round < ROUNDS; round++) {
    for (const role of ROLES) {
      const u = `rs_${role.toLowerCase()}_${round}`;
      cli('user', 'create', '-r', 'Viewer', '-u', u, '-e', `${u}@example.com`, '-f', u, '-l', 'X', '--use-random-password');
    }
  }
  const ctx = await browser.newContext({ baseURL: edgeURL });
  const page = await ctx.newPage();
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('roles_root', PW);
  await expect(page).toHaveURL(/\/$/);
  await expect.poll(async () => {
    await page.goto('/');
    return await page.getByLabel('Organization').locator('option', { hasText: 'RoleShow' }).count();
  }).toBe(1);
  await hydrated(page);
  await page.getByLabel('Organization').selectOption({ label: 'RoleShow' });
      // (the switch is saved before the next page is asked for)
      await expect(page.getByText('working in RoleShow')).toBeVisible();
  await page.goto('/members');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Members of RoleShow' })).toBeVisible();

  const stored = async (): Promise<Map<string, string>> => {
    const r = await page.request.get('/api/v1/orgs/RoleShow/members');
    const body = await r.json();
    return new Map(body.members.map((m: { username: string; role: string }) => [m.username, m.role]));
  };
  const expectRowsMatch = async () => {
    const want = await stored();
    for (const [username, role] of want) {
      if (username === 'roles_root') continue;
      const select = page.getByRole('combobox', { name: `Role of ${username}` });
      await expect(select, `${username} is ${role}`).toHaveValue(
        await select.locator('option', { hasText: role }).getAttribute('value') ?? 'missing',
      );
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const role of ROLES) {
      const u = `rs_${role.toLowerCase()}_${round}`;
      await page.getByLabel('Account', { exact: true }).fill(u);
      await page.getByLabel('Role', { exact: true }).selectOption({ label: role });
      await page.getByRole('button', { name: 'Add member' }).click();
      await expect(page.getByRole('row').filter({ hasText: u })).toHaveCount(1);
      await expectRowsMatch();
    }
    // A full load renders on the server and hydrates: the selects must still agree.
    await page.reload();
    await hydrated(page);
    await expectRowsMatch();
  }
  await ctx.close();
});
