// Provisioning: a super admin adds a SCIM connection under Settings -> Provisioning, copies
// its bearer token shown once with the base URL the identity provider needs, and the provider
// (played here by node's fetch, speaking SCIM) creates an account that lands in the
// organization with the connection's role. A new token can be had without stopping the old
// one; deleting the connection asks first, says what stops and what stays, and the token is
// refused from then on. Without the WASM the form still adds one (token shown once) and a
// mistake is named on its field. A directory group mapped to a role places its members, the
// members page shows each membership's source, and removing the mapping asks first (also
// before the WASM). Once on each backend.
import { test, expect, Browser, Page } from '@playwright/test';
import { expectNoSidewaysScroll, hydrated, rememberSecrets, toolServers, WIDTHS } from './fixtures/roster';

for (const server of toolServers) {
  test.describe(`on ${server.backend}`, () => {
    const PW = 'provisioning story passphrase';
    rememberSecrets(PW);
    test.use({ baseURL: server.url });
    test.describe.configure({ mode: 'serial' });

    test.beforeAll(() => {
      server.cli('user', 'create', '-r', 'Admin', '-u', 'scim_root', '-e', 'scim_root@example.com', '-f', 'Scim', '-l', 'Root', '-p', PW);
    });

    async function signedIn(browser: Browser, wasm = true): Promise<Page> {
      const ctx = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
      if (!wasm) await ctx.route('**/*.wasm', (route) => route.abort());
      const page = await ctx.newPage();
      await page.goto('/sign-in');
      await page.getByLabel('Username or email').fill('scim_root');
      await page.getByLabel('Password').fill(PW);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(page).toHaveURL(/\/$/);
      return page;
    }

    function row(page: Page, name: string) {
      return page.getByRole('row').filter({ hasText: name });
    }

    /** A SCIM request as an identity provider makes it. */
    async function scim(token: string, method: string, path: string, body?: unknown) {
      const r = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: r.status === 204 ? null : await r.json() };
    }

    test('a super admin connects an identity provider, which provisions an account', async ({ browser }) => {
      const page = await signedIn(browser);
      await hydrated(page);
      await page.getByRole('link', { name: 'Provisioning' }).first().click();
      await expect(page.getByRole('heading', { name: 'Provisioning', level: 1 })).toBeVisible();
      await expect(page.getByText('No connections yet.')).toBeVisible();

      await page.getByLabel('Connection id').fill('okta');
      await page.getByLabel('Name', { exact: true }).fill('Okta');
      await page.getByLabel('Organizations it may provision into').fill('Default');
      await page.getByLabel('Their role there').fill('Member');
      await expect(page.getByLabel('When the provider deletes a person')).toHaveValue('disable');
      await page.getByRole('button', { name: 'Add connection' }).click();
      const shown = page.getByRole('region', { name: 'New bearer token' });
      await expect(shown).toContainText('Copy the bearer token of Okta now: it will not be shown again.');
      await expect(shown).toContainText(`${server.url}/scim/v2/okta`);
      const token = await shown.getByLabel('Bearer token').inputValue();
      expect(token).toMatch(/^rscim_[A-Za-z0-9_-]{43}$/);
      rememberSecrets(token);
      await expect(page.getByLabel('Connection id')).toHaveValue('');
      const listed = row(page, 'Okta');
      await expect(listed).toContainText('Member in Default');
      await expect(listed).toContainText('Disables the account');

      // The provider creates a person: an account in Default, as a Member, without a password.
      const made = await scim(token, 'POST', '/scim/v2/okta/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'pat.provisioned@example.com',
        name: { givenName: 'Pat', familyName: 'Provisioned' },
        emails: [{ value: 'pat.provisioned@example.com', primary: true, type: 'work' }],
        active: true,
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const members = await page.request.get('/api/v1/orgs/Default/members?search=pat.provisioned', {
        headers: { Origin: server.url, 'Sec-Fetch-Site': 'same-origin' },
      });
      expect(members.status()).toBe(200);
      expect(JSON.stringify(await members.json())).toContain('"role":"Member"');
      await page.reload();
      await expect(page.getByRole('region', { name: 'New bearer token' })).toHaveCount(0);
      expect(await page.content()).not.toContain(token);
      await expect(row(page, 'Okta').getByRole('cell').nth(4)).toHaveText('1');

      await hydrated(page);
      for (const { width, height, name } of WIDTHS) {
        await page.setViewportSize({ width, height });
        await expectNoSidewaysScroll(page, `provisioning at ${name}`);
        await page.screenshot({ path: test.info().outputPath(`provisioning-${name}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 800 });

      // A new token: shown once; the first one keeps working.
      await page.getByRole('button', { name: 'New token for Okta' }).click();
      const again = page.getByRole('region', { name: 'New bearer token' });
      const second = await again.getByLabel('Bearer token').inputValue();
      expect(second).toMatch(/^rscim_/);
      expect(second).not.toBe(token);
      rememberSecrets(second);
      expect((await scim(token, 'GET', '/scim/v2/okta/Users')).status).toBe(200);
      expect((await scim(second, 'GET', '/scim/v2/okta/Users')).body.totalResults).toBe(1);

      // Delete asks first and says what stops and what stays.
      await page.getByRole('button', { name: 'Delete Okta' }).click();
      const del = page.getByRole('dialog', { name: 'Delete the SCIM connection Okta?' });
      await expect(del).toContainText('its 2 tokens stop working at once');
      await expect(del).toContainText('The 1 account it provisioned stay');
      await del.getByRole('button', { name: 'Cancel' }).click();
      await expect(del).toBeHidden();
      await page.getByRole('button', { name: 'Delete Okta' }).click();
      await del.getByRole('button', { name: 'Delete connection' }).click();
      await expect(page.getByRole('status').filter({ hasText: 'Connection deleted.' })).toBeVisible();
      await expect(page.getByText('No connections yet.')).toBeVisible();
      expect((await scim(second, 'GET', '/scim/v2/okta/Users')).status).toBe(401);
      await page.context().close();
    });

    test('without the WASM the form adds a connection, shows its token once and names a mistake on its field', async ({ browser }) => {
      const page = await signedIn(browser, false);
      await page.goto('/admin/provisioning');
      await page.getByLabel('Connection id').fill('Entra ID');
      await page.getByLabel('Name', { exact: true }).fill('Entra');
      await page.getByLabel('Organizations it may provision into').fill('Default');
      await page.getByRole('button', { name: 'Add connection' }).click();
      const id = page.getByLabel('Connection id');
      await expect(id).toHaveAttribute('aria-invalid', 'true');
      await expect(id).toHaveAccessibleDescription(/lower-case letters, digits or '-'/);
      await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Entra');
      await id.fill('entra');
      await page.getByLabel('When the provider deletes a person').selectOption('delete');
      await page.getByRole('button', { name: 'Add connection' }).click();
      await expect(page).toHaveURL(/\/admin\/provisioning\?rpc=create_scim_connection&ok=1/);
      const token = await page.getByRole('region', { name: 'New bearer token' }).getByLabel('Bearer token').inputValue();
      expect(token).toMatch(/^rscim_/);
      rememberSecrets(token);
      await expect(row(page, 'Entra')).toContainText('Deletes the account');
      await expect(row(page, 'Entra')).toContainText('Viewer in Default');
      await page.getByRole('button', { name: 'Delete Entra' }).click();
      await page.getByRole('dialog', { name: 'Delete the SCIM connection Entra?' }).getByRole('button', { name: 'Delete connection' }).click();
      await expect(page).toHaveURL(/rpc=delete_scim_connection&ok=1/);
      await expect(page.getByText('No connections yet.')).toBeVisible();
      await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
      await page.context().close();
    });

    test('a directory group mapped to a role places its members, and the members page says where that came from', async ({ browser }) => {
      const token = server.cli('scim', 'create', 'ad', '--name', 'Corp AD', '--org', 'Default', '--default-role', 'Viewer').trim();
      rememberSecrets(token);
      const dana = await scim(token, 'POST', '/scim/v2/ad/Users', { userName: 'dana.mapped@example.com' });
      expect(dana.status, JSON.stringify(dana.body)).toBe(201);
      const group = await scim(token, 'POST', '/scim/v2/ad/Groups', {
        displayName: 'Data Team',
        members: [{ value: dana.body.id }],
      });
      expect(group.status, JSON.stringify(group.body)).toBe(201);

      const page = await signedIn(browser);
      await page.goto('/admin/provisioning');
      await hydrated(page);
      await page.getByRole('link', { name: 'Group mappings of Corp AD' }).click();
      await expect(page.getByRole('heading', { name: 'Group mappings of Corp AD', level: 1 })).toBeVisible();
      await expect(page.getByText('No mappings yet')).toBeVisible();
      // A name the provider never sent is named on its field.
      await page.getByLabel('Directory group').fill('Data Teem');
      await page.getByRole('button', { name: 'Map group' }).click();
      await expect(page.getByLabel('Directory group')).toHaveAccessibleDescription(/no group named 'Data Teem'/);
      await page.getByLabel('Directory group').fill('Data Team');
      // (within the form: the header's organization switcher has that label too, once the
      // admin belongs to several)
      await page.getByRole('region', { name: 'Map a group' }).getByLabel('Organization', { exact: true }).selectOption('Default');
      await page.getByLabel('Role there').selectOption('Operator');
      await page.getByLabel('Priority').fill('5');
      await page.getByText('Extra abilities (optional)').click();
      await page.getByRole('checkbox', { name: /^run-backups/ }).check();
      await page.getByRole('button', { name: 'Map group' }).click();
      await expect(page.getByRole('status').filter({ hasText: 'Group mapped' })).toBeVisible();
      const mapped = row(page, 'Data Team');
      await expect(mapped).toContainText('Operator');
      await expect(mapped).toContainText('+ run-backups');
      await expect(mapped.getByRole('cell').nth(3)).toHaveText('1');
      for (const { width, height, name } of WIDTHS) {
        await page.setViewportSize({ width, height });
        await expectNoSidewaysScroll(page, `directory groups at ${name}`);
        await page.screenshot({ path: test.info().outputPath(`directory-groups-${name}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 800 });

      // The members page: Dana is an Operator there, from the directory; the admin by hand.
      await page.goto('/members');
      await hydrated(page);
      const danaRow = row(page, 'dana.mapped@example.com');
      await expect(danaRow.getByRole('cell', { name: 'SCIM: Corp AD' })).toBeVisible();
      await expect(danaRow.getByRole('combobox')).toHaveValue(/.+/);
      await expect(danaRow.getByRole('combobox').locator('option:checked')).toHaveText('Operator');
      await expect(row(page, 'scim_root').getByRole('cell', { name: 'Manual' })).toBeVisible();
      await page.screenshot({ path: test.info().outputPath('members-source-1280.png'), fullPage: true });

      // Removing the mapping asks first and says who loses what; Dana falls back to the
      // connection's placement for new people.
      await page.goto('/admin/provisioning/ad');
      await hydrated(page);
      await page.getByRole('button', { name: 'Remove the mapping of Data Team to Default' }).click();
      const ask = page.getByRole('dialog', { name: 'Remove the mapping of Data Team to Default?' });
      await expect(ask).toContainText('The 1 member of Data Team loses what this mapping gives in Default: the Operator role and run-backups');
      await ask.getByRole('button', { name: 'Remove mapping' }).click();
      await expect(page.getByRole('status').filter({ hasText: 'Mapping removed.' })).toBeVisible();
      await expect(page.getByText('No mappings yet')).toBeVisible();
      const members = await page.request.get('/api/v1/orgs/Default/members?search=dana.mapped', {
        headers: { Origin: server.url, 'Sec-Fetch-Site': 'same-origin' },
      });
      const dm = (await members.json()).members.find((m: { username: string }) => m.username === 'dana.mapped@example.com');
      expect([dm.role, dm.source]).toEqual(['Viewer', 'Corp AD']);
      server.cli('scim', 'delete', 'ad');
      await page.context().close();
    });

    test('without the WASM a group is mapped and a mistake is named on its field', async ({ browser }) => {
      const token = server.cli('scim', 'create', 'plain', '--name', 'Plain', '--org', 'Default').trim();
      rememberSecrets(token);
      expect((await scim(token, 'POST', '/scim/v2/plain/Groups', { displayName: 'Readers' })).status).toBe(201);
      const page = await signedIn(browser, false);
      await page.goto('/admin/provisioning/plain');
      await page.getByLabel('Directory group').fill('Writers');
      await page.getByRole('button', { name: 'Map group' }).click();
      await expect(page.getByLabel('Directory group')).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByLabel('Directory group')).toHaveValue('Writers');
      await page.getByLabel('Directory group').fill('Readers');
      await page.getByLabel('Role there').selectOption('Member');
      await page.getByRole('button', { name: 'Map group' }).click();
      await expect(page).toHaveURL(/rpc=create_scim_mapping&ok=1/);
      await expect(row(page, 'Readers')).toContainText('Member');
      await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
      server.cli('scim', 'delete', 'plain');
      await page.context().close();
    });
  });
}
