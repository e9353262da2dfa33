// Single sign-on end to end through a real OpenID provider (npm oidc-provider, started by the
// test command): a super admin adds the provider in Settings -> Single sign-on; someone
// unknown signs in through it and gets an account (first-sign-in provisioning); a tampered
// `state` on the way back is refused; an invited person joins through it from the invitation
// page. Runs on the server that has a public URL.
import { test, expect, Page, Browser } from '@playwright/test';
import { passkeyURL, passkeyDbURL, cliAt, expectNoSidewaysScroll, hydrated, oidcIssuer, rememberSecrets, rememberSessions } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'single sign-on story passphrase';
const CLIENT_SECRET = 'test-client-secret-not-for-production';
test.use({ baseURL: passkeyURL });
test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  rememberSecrets(PW, CLIENT_SECRET);
  cliAt(passkeyDbURL, 'user', 'create', '-r', 'Admin', '-u', 'sso_root', '-e', 'sso_root@example.com', '-f', 'Sso', '-l', 'Root', '-p', PW);
});

/** On the provider's own (development) pages: any login works; then consent. */
async function signInAtProvider(page: Page, login: string) {
  await expect(page).toHaveURL(new RegExp(`^${oidcIssuer}/interaction/`));
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function freshPage(browser: Browser) {
  const context = await browser.newContext({ baseURL: passkeyURL });
  return { context, page: await context.newPage() };
}

test('a super admin adds the provider under Single sign-on', async ({ browser }) => {
  const { context, page } = await freshPage(browser);
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('sso_root', PW);
  await expect(page.getByText('Signed in as')).toContainText('sso_root');
  await rememberSessions(context);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Single sign-on' }).click();
  await expect(page.getByRole('heading', { name: 'Single sign-on', level: 1 })).toBeVisible();
  await hydrated(page);
  // A mistyped issuer is caught by reading its discovery document.
  await page.getByLabel('Short name').fill('corp');
  await page.getByLabel('Display name').fill('Corp IdP');
  await page.getByLabel('Issuer URL').fill('http://localhost:1');
  await page.getByLabel('Client ID').fill('roster-test');
  await page.getByLabel('Client secret').fill(CLIENT_SECRET);
  await page.getByRole('button', { name: 'Add provider' }).click();
  // (one sentence, whatever the fetch met: the reason is in the server log)
  await expect(page.getByText(/Could not read a valid discovery document at this issuer URL/)).toBeVisible();
  await page.getByLabel('Issuer URL').fill(oidcIssuer);
  await page.getByLabel('Unknown people').selectOption({ label: 'Get an account on first sign-in' });
  await page.getByLabel('Organization for new accounts').fill('Default');
  await page.getByLabel('Role for new accounts').fill('Member');
  await page.getByRole('button', { name: 'Add provider' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Provider saved.' })).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: 'Corp IdP' });
  await expect(row).toContainText(`${passkeyURL}/auth/oidc/corp/callback`);
  await expect(row).toContainText('Created in Default as Member');
  await context.close();
});

test('someone unknown signs in through the provider and gets an account', async ({ browser }) => {
  const { context, page } = await freshPage(browser);
  await new SignInPage(page).goto();
  await page.getByRole('button', { name: 'Sign in with Corp IdP' }).click();
  await signInAtProvider(page, 'olivia');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText('Signed in as')).toContainText('olivia');
  await rememberSessions(context);
  await page.goto('/profile');
  await hydrated(page);
  await expect(page.getByLabel('Email')).toHaveValue('olivia@example.test');
  const linked = page.getByRole('region', { name: 'Linked sign-in providers' });
  await expect(linked.getByText(/linked .* as olivia@example\.test/)).toBeVisible();
  // The account has no password, so the provider cannot be unlinked.
  await linked.getByRole('button', { name: 'Unlink Corp IdP' }).click();
  await page.getByRole('dialog', { name: 'Unlink Corp IdP?' }).getByRole('button', { name: 'Unlink provider' }).click();
  await expect(linked.getByRole('alert')).toContainText('only way to sign in');
  await context.close();
});

test('a tampered state on the way back is refused', async ({ browser }) => {
  const { context, page } = await freshPage(browser);
  // The provider's redirect chain back to us is not interceptable hop by hop: take over
  // the consent submission, follow the provider's redirects with the context's own cookies,
  // and send the browser to the callback with its state altered.
  await page.route(`${oidcIssuer}/interaction/**`, async (route) => {
    if (route.request().method() !== 'POST' || !(route.request().postData() ?? '').includes('prompt=consent')) {
      return route.continue();
    }
    const response = await route.fetch({ maxRedirects: 0 });
    let location = response.headers()['location'];
    while (location && !location.includes('/auth/oidc/corp/callback')) {
      const next = await context.request.get(new URL(location, oidcIssuer).toString(), { maxRedirects: 0 });
      location = next.headers()['location'];
    }
    const url = new URL(location);
    url.searchParams.set('state', `${url.searchParams.get('state')}tampered`);
    await route.fulfill({ status: 303, headers: { location: url.toString() } });
  });
  await new SignInPage(page).goto();
  await page.getByRole('button', { name: 'Sign in with Corp IdP' }).click();
  await signInAtProvider(page, 'olivia');
  await expect(page).toHaveURL(/\/sign-in\?sso_error=state$/);
  await expect(page.getByRole('alert')).toHaveText('That single sign-on attempt is invalid or has expired. Start again from this page.');
  await expect(page.getByText('Signed in as')).toHaveCount(0);
  await context.close();
});

test('without the WASM: the admin edits the provider through its link, and someone links and unlinks it from the profile', async ({ browser }) => {
  const { context, page } = await freshPage(browser);
  // No WASM, ever: the pages stay as the server rendered them.
  await context.route('**/*.wasm', (route) => route.abort());
  // (the page never hydrates: open it without waiting for that)
  await page.goto('/sign-in');
  await new SignInPage(page).signIn('sso_root', PW);
  await expect(page.getByText('Signed in as')).toContainText('sso_root');
  await rememberSessions(context);

  await page.goto('/admin/sso');
  await page.getByRole('link', { name: 'Edit Corp IdP' }).click();
  await expect(page.getByRole('heading', { name: 'Edit Corp IdP' })).toBeVisible();
  await expect(page.getByLabel('Display name')).toHaveValue('Corp IdP');
  await page.getByLabel('Display name').fill('Corp Login');
  await page.getByRole('button', { name: 'Save provider' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Provider saved.' })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'Corp Login' })).toBeVisible();

  // Linking leaves for the provider and comes back to the profile.
  await page.goto('/profile');
  const linked = page.getByRole('region', { name: 'Linked sign-in providers' });
  await linked.getByRole('button', { name: 'Link Corp Login' }).click();
  await signInAtProvider(page, 'root-at-corp');
  await expect(page).toHaveURL(/\/profile\?sso_linked=1$/);
  await expect(linked.getByText(/linked .* as root-at-corp@example\.test/)).toBeVisible();
  // Unlinking asks first; Cancel changes nothing.
  await linked.getByRole('button', { name: 'Unlink Corp Login' }).click();
  const dialog = page.getByRole('dialog', { name: 'Unlink Corp Login?' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await linked.getByRole('button', { name: 'Unlink Corp Login' }).click();
  await dialog.getByRole('button', { name: 'Unlink provider' }).click();
  await expect(page).toHaveURL(/\/profile\?rpc=unlink_sso&ok=1/);
  await expect(linked.getByRole('status')).toHaveText('Provider unlinked.');
  await expect(linked.getByRole('button', { name: 'Link Corp Login' })).toBeVisible();
  await context.close();
});

test('an invited person joins through the provider from the invitation page', async ({ browser }) => {
  // (made on the command line, which prints the link: the page's path here)
  const link = cliAt(passkeyDbURL, 'invite', 'create', '--org', 'Default', '--email', 'ivy@example.com', '--role', 'Operator').trim();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
  rememberSecrets(link.replace(/^.*\/invite\//, ''));
  const path = link.replace(/^https?:\/\/[^/]+/, '');
  const { context, page } = await freshPage(browser);
  await page.goto(path);
  await expect(page.getByRole('heading', { name: 'Join Default', level: 1 })).toBeVisible();
  const other = page.getByRole('group', { name: "Or use your organization's sign-in" });
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await expectNoSidewaysScroll(page, `the invitation page at ${width} px`);
    await page.screenshot({ path: test.info().outputPath(`invite-sso-${width}.png`), fullPage: true });
  }
  await other.getByRole('button', { name: 'Join with Corp Login' }).click();
  await signInAtProvider(page, 'ivy');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText('Signed in as')).toContainText('ivy');
  await rememberSessions(context);
  // The invited address (not the provider's), in the organization invited to.
  const me = await page.request.get('/api/v1/me', { headers: { Origin: passkeyURL, 'Sec-Fetch-Site': 'same-origin' } });
  const body = await me.json();
  expect([body.username, body.email, body.org?.name]).toEqual(['ivy', 'ivy@example.com', 'Default']);
  // The link is used now.
  await page.goto(path);
  await expect(page.getByRole('alert')).toContainText('has been used already');
  await context.close();
});
