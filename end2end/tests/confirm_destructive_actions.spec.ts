// Nothing destructive on one click, at desktop and phone widths: every delete, removal and
// instance-wide switch asks in a dialog that says what will be lost; Cancel changes nothing
// (checked after a reload, from the server), confirming does it; refusals show inside the
// dialog; role-matrix flips say what they did and can be undone.
import { test, expect, Browser, Page } from '@playwright/test';
import { cliAt, edgeDbURL, edgeURL, hydrated, rememberSecrets, WIDTHS } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'edge story passphrase one';
rememberSecrets(PW);
const cli = (...args: string[]) => cliAt(edgeDbURL, ...args);
const user = (u: string, role: string, org?: string) =>
  cli('user', 'create', '-r', role, ...(org ? ['--org', org] : []), '-u', u, '-e', `${u}@example.com`, '-f', u, '-l', 'Edge', '-p', PW);

test.use({ baseURL: edgeURL });
test.describe.configure({ mode: 'serial' });

async function signedIn(browser: Browser, username: string, viewport: { width: number; height: number }): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: edgeURL, viewport });
  const page = await ctx.newPage();
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(username, PW);
  await expect(page).toHaveURL(/\/$/);
  return page;
}

for (const w of WIDTHS) {
  test.describe(`at ${w.width}px`, () => {
    const suffix = w.name;
    let root: Page;

    test.beforeAll(async ({ browser }) => {
      user(`root_${suffix}`, 'Admin');
      cli('org', 'create', `Analytics-${suffix}`);
      user(`ana_${suffix}`, 'Viewer', `Analytics-${suffix}`);
      user(`bo_${suffix}`, 'Operator', `Analytics-${suffix}`);
      root = await signedIn(browser, `root_${suffix}`, { width: w.width, height: w.height });
      // Work in Analytics (another process created it: the server notices within a second).
      await expect.poll(async () => {
        await root.goto('/');
        return await root.getByLabel('Organization').locator('option', { hasText: `Analytics-${suffix}` }).count();
      }).toBe(1);
      await hydrated(root);
      await root.getByLabel('Organization').selectOption({ label: `Analytics-${suffix}` });
      // (the switch is saved before the next page is asked for)
      await expect(root.getByText(`working in Analytics-${suffix}`)).toBeVisible();
      await root.goto('/members');
      await expect(root.getByRole('heading', { name: `Members of Analytics-${suffix}` })).toBeVisible();
    });

    test.afterAll(async () => {
      await root?.context().close();
    });

    test('removing a member asks, says what ends, and can be cancelled', async () => {
      await root.goto('/members');
      await hydrated(root);
      const row = root.getByRole('row').filter({ hasText: `ana_${suffix}` });
      await row.getByRole('button', { name: `Remove ana_${suffix} from Analytics-${suffix}` }).click();
      const dialog = root.getByRole('dialog', { name: `Remove ana_${suffix} from Analytics-${suffix}?` });
      await expect(dialog).toBeVisible();
      await expect(dialog).toContainText('loses the Viewer role');
      await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
      await root.keyboard.press('Escape');
      await expect(dialog).toBeHidden();
      await root.reload();
      await hydrated(root);
      await expect(root.getByRole('row').filter({ hasText: `ana_${suffix}` })).toHaveCount(1);
      // Confirmed: gone, and the message appears in the corner.
      await root.getByRole('button', { name: `Remove ana_${suffix} from Analytics-${suffix}` }).click();
      await root.getByRole('dialog').getByRole('button', { name: 'Remove from organization' }).click();
      await expect(root.getByRole('status').filter({ hasText: 'Removed from the organization.' })).toBeVisible();
      await expect(root.getByRole('row').filter({ hasText: `ana_${suffix}` })).toHaveCount(0);
    });

    test('deleting an account asks and names what is lost', async () => {
      const row = root.getByRole('row').filter({ hasText: `bo_${suffix}` });
      await row.getByRole('button', { name: `Delete bo_${suffix}` }).click();
      const dialog = root.getByRole('dialog', { name: `Delete bo_${suffix}?` });
      await expect(dialog).toContainText('sign-ins, tokens, passkeys and memberships end');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect(dialog).toBeHidden();
      await root.reload();
      await expect(root.getByRole('row').filter({ hasText: `bo_${suffix}` })).toHaveCount(1);
      await hydrated(root);
      await root.getByRole('button', { name: `Delete bo_${suffix}` }).click();
      await root.getByRole('dialog').getByRole('button', { name: 'Delete account' }).click();
      await expect(root.getByRole('row').filter({ hasText: `bo_${suffix}` })).toHaveCount(0);
      const r = await root.request.get(`/api/v1/users/bo_${suffix}`);
      expect(r.status()).toBe(404);
    });

    test('organizations: delete and the 2FA requirement ask first', async () => {
      cli('org', 'create', `Scratch-${suffix}`);
      user(`sc_${suffix}`, 'Viewer', `Scratch-${suffix}`);
      // (both changes came from another process: wait until the server has both)
      await expect.poll(async () => {
        await root.goto('/admin/orgs');
        const row = root.getByRole('row').filter({ hasText: `Scratch-${suffix}` });
        return (await row.count()) === 1 ? (await row.getByRole('cell').first().textContent())?.trim() : 'none';
      }).toMatch(/1$/);
      await hydrated(root);
      const row = root.getByRole('row').filter({ hasText: `Scratch-${suffix}` });
      // The requirement: a question; Cancel changes nothing; confirming without 2FA of one's
      // own is refused, in the dialog, and changes nothing either.
      await row.getByRole('button', { name: `Require 2FA in Scratch-${suffix}` }).click();
      const req = root.getByRole('dialog', { name: `Require two-factor authentication in Scratch-${suffix}?` });
      await expect(req).toContainText('limited to their profile');
      await req.getByRole('button', { name: 'Cancel' }).click();
      await expect(req).toBeHidden();
      await row.getByRole('button', { name: `Require 2FA in Scratch-${suffix}` }).click();
      await req.getByRole('button', { name: `Require 2FA in Scratch-${suffix}` }).click();
      await expect(req.getByRole('alert')).toContainText('two-factor authentication for your own account first');
      await req.getByRole('button', { name: 'Cancel' }).click();
      await root.reload();
      await hydrated(root);
      await expect(root.getByRole('row').filter({ hasText: `Scratch-${suffix}` }).getByRole('cell').nth(1)).toHaveText('No');
      // Delete: names the memberships that end.
      await root.getByRole('button', { name: `Delete Scratch-${suffix}` }).click();
      const del = root.getByRole('dialog', { name: `Delete Scratch-${suffix}?` });
      await expect(del).toContainText('1 membership ends; the account stays.');
      await del.getByRole('button', { name: 'Cancel' }).click();
      await root.reload();
      await expect(root.getByRole('row').filter({ hasText: `Scratch-${suffix}` })).toHaveCount(1);
      await hydrated(root);
      await root.getByRole('button', { name: `Delete Scratch-${suffix}` }).click();
      await root.getByRole('dialog', { name: `Delete Scratch-${suffix}?` }).getByRole('button', { name: 'Delete organization' }).click();
      await expect(root.getByRole('row').filter({ hasText: `Scratch-${suffix}` })).toHaveCount(0);
      // The instance-wide switch asks too, and a refusal shows in the dialog (no 2FA yet).
      await root.getByRole('button', { name: 'Require 2FA for everyone' }).click();
      const all = root.getByRole('dialog', { name: 'Require two-factor authentication for everyone?' });
      await all.getByRole('button', { name: 'Require it' }).click();
      await expect(all.getByRole('alert')).toContainText('two-factor authentication for your own account first');
      await all.getByRole('button', { name: 'Cancel' }).click();
      await expect(all).toBeHidden();
    });

    test('a role-matrix flip says what it did and can be undone', async () => {
      const role = `Temp-${suffix}`;
      await root.goto('/roles');
      await hydrated(root);
      await root.getByLabel('New role name').fill(role);
      await root.getByRole('button', { name: 'Create role' }).click();
      const cell = root.getByRole('switch', { name: `run-backups for ${role}` });
      await expect(cell).toHaveAttribute('aria-checked', 'false');
      await cell.click();
      await expect(root.getByRole('switch', { name: `run-backups for ${role}` })).toHaveAttribute('aria-checked', 'true');
      const note = root.getByRole('status').filter({ hasText: `${role} now grants run-backups (0 holders).` });
      await expect(note).toBeVisible();
      await note.getByRole('button', { name: 'Undo' }).click();
      await expect(root.getByRole('switch', { name: `run-backups for ${role}` })).toHaveAttribute('aria-checked', 'false');
      const roles = await (await root.request.get('/api/v1/roles')).json();
      expect(roles.find((r: { name: string }) => r.name === role).abilities).not.toContain('run-backups');
      // Deleting the role asks first.
      await root.getByRole('button', { name: `Delete ${role}` }).click();
      const del = root.getByRole('dialog', { name: `Delete the role ${role}?` });
      await expect(del).toContainText(`No one holds ${role}.`);
      await del.getByRole('button', { name: 'Cancel' }).click();
      await root.reload();
      await expect(root.getByRole('switch', { name: `run-backups for ${role}` })).toHaveCount(1);
      await hydrated(root);
      await root.getByRole('button', { name: `Delete ${role}` }).click();
      await root.getByRole('dialog', { name: `Delete the role ${role}?` }).getByRole('button', { name: 'Delete role' }).click();
      await expect(root.getByRole('switch', { name: `run-backups for ${role}` })).toHaveCount(0);
    });

    test('revoking a token asks first', async () => {
      const r = await root.request.post('/api/v1/tokens', {
        data: { name: `edge-${suffix}`, kind: 'pat' },
        headers: { Origin: edgeURL, 'Sec-Fetch-Site': 'same-origin' },
      });
      expect(r.status()).toBe(201);
      rememberSecrets((await r.json()).token);
      await root.goto('/profile');
      await hydrated(root);
      await root.getByRole('button', { name: `Revoke edge-${suffix}` }).click();
      const dialog = root.getByRole('dialog', { name: `Revoke the token edge-${suffix}?` });
      await expect(dialog).toContainText('refused from their next request');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect(dialog).toBeHidden();
      await root.getByRole('button', { name: `Revoke edge-${suffix}` }).click();
      await root.getByRole('dialog', { name: `Revoke the token edge-${suffix}?` }).getByRole('button', { name: 'Revoke token' }).click();
      await expect(root.getByRole('row').filter({ hasText: `edge-${suffix}` })).toContainText('revoked');
    });
  });
}
