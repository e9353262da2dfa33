// Passkeys end to end with Chrome's virtual authenticator (DevTools WebAuthn domain), on a
// server configured with its public URL (http://localhost): register a passkey from the
// profile, sign in with it without a password, use it as the second factor after a
// password, rename it, and see a cloned credential (counter rolled back) refused.
import { test, expect, Page, BrowserContext, CDPSession } from '@playwright/test';
import { passkeyURL, passkeyDbURL, cliAt, hydrated, rememberSecrets, rememberSessions } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'passkey story passphrase';
test.use({ baseURL: passkeyURL });
test.describe.configure({ mode: 'serial' });

let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId = '';

test.beforeAll(async ({ browser }) => {
  rememberSecrets(PW);
  cliAt(passkeyDbURL, 'user', 'create', '-r', 'Admin', '-u', 'root', '-e', 'root@example.com', '-f', 'Root', '-l', 'Admin', '-p', PW);
  cliAt(passkeyDbURL, 'user', 'create', '-r', 'DefaultUser', '-u', 'pia', '-e', 'pia@example.com', '-f', 'Pia', '-l', 'Passkey', '-p', PW);
  context = await browser.newContext({ baseURL: passkeyURL });
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal',
      hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  }));
});

test.afterAll(async () => {
  await context.close();
});

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Roster' })).toBeVisible();
}

async function credential() {
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  return credentials[0];
}

test('register a passkey from the profile', async () => {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('pia', PW);
  await expect(page.getByText('Signed in as')).toContainText('pia');
  await page.goto('/profile');
  await hydrated(page);
  await expect(page.getByText('No passkeys yet.')).toBeVisible();
  await page.getByLabel('Passkey name').fill('Laptop');
  await page.getByRole('button', { name: 'Add passkey' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Passkey Laptop added.' })).toBeVisible();
  await expect(page.getByLabel('Name of passkey Laptop')).toHaveValue('Laptop');
  const cred = await credential();
  expect(cred.isResidentCredential).toBe(true);
  await signOut();
});

test('sign in with the passkey alone; the counter moves on every use', async () => {
  const before = (await credential()).signCount;
  await new SignInPage(page).goto();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByText('Signed in as')).toContainText('pia');
  await rememberSessions(page.context());
  expect((await credential()).signCount).toBeGreaterThan(before);
  await signOut();
});

test('after a password, the passkey is the second factor', async () => {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('pia', PW);
  await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
  await expect(page.getByText('Signed in as')).toHaveCount(0);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page.getByText('Signed in as')).toContainText('pia');
  // Rename it.
  await page.goto('/profile');
  await hydrated(page);
  await page.getByLabel('Name of passkey Laptop').fill('Work laptop');
  await page.getByRole('button', { name: 'Rename' }).click();
  await expect(page.getByLabel('Name of passkey Work laptop')).toHaveValue('Work laptop');
  await signOut();
});

test('a cloned credential (counter rolled back) is refused and audited', async () => {
  const cred = await credential();
  await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: cred.credentialId });
  await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...cred, signCount: 0 } });
  await new SignInPage(page).goto();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('alert')).toContainText('That passkey was not accepted.');
  await expect(page.getByText('Signed in as')).toHaveCount(0);
  // The super admin sees the event in the audit log.
  const root = await context.browser()!.newContext({ baseURL: passkeyURL });
  const admin = await root.newPage();
  const signIn = new SignInPage(admin);
  await signIn.goto();
  await signIn.signIn('root', PW);
  await expect(admin.getByText('Signed in as')).toContainText('root');
  await admin.goto('/admin/audit');
  await hydrated(admin);
  await expect(admin.getByRole('cell', { name: 'passkey.counter_regression' })).toBeVisible();
  await root.close();
});

test('user verification refused: the browser stops, nobody signs in', async () => {
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
  await new SignInPage(page).goto();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('alert')).toContainText(/cancelled or not allowed|not accepted/);
  await expect(page.getByText('Signed in as')).toHaveCount(0);
});

test('without the WASM: adding waits for the script; renaming and removing are plain forms', async ({ browser }) => {
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
  // The super admin adds a passkey with the script...
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('root', PW);
  await expect(page.getByText('Signed in as')).toContainText('root');
  await page.goto('/profile');
  await hydrated(page);
  await expect(page.getByText("Adding a passkey needs the page's script")).toBeHidden();
  await page.getByLabel('Passkey name').fill('Desk key');
  await page.getByRole('button', { name: 'Add passkey' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Passkey Desk key added.' })).toBeVisible();
  await rememberSessions(context);
  // ...then, with the same session, in a browser whose WASM never arrives.
  const nojs = await browser.newContext({ baseURL: passkeyURL, storageState: await context.storageState() });
  await nojs.route('**/*.wasm', (route) => route.abort());
  const p = await nojs.newPage();
  await p.goto('/profile');
  await expect(p.getByRole('button', { name: 'Add passkey' })).toBeDisabled();
  await expect(p.getByText("Adding a passkey needs the page's script, which has not loaded (yet).")).toBeVisible();
  await p.getByLabel('Name of passkey Desk key').fill('Spare key');
  await p.getByRole('button', { name: 'Rename' }).click();
  await expect(p).toHaveURL(/\/profile\?rpc=rename_passkey&ok=1/);
  await expect(p.getByLabel('Name of passkey Spare key')).toHaveValue('Spare key');
  await p.getByRole('button', { name: 'Remove passkey Spare key' }).click();
  await p.getByRole('dialog', { name: 'Remove the passkey Spare key?' }).getByRole('button', { name: 'Remove passkey' }).click();
  await expect(p).toHaveURL(/\/profile\?rpc=delete_passkey&ok=1/);
  await expect(p.getByRole('status').filter({ hasText: 'Passkey removed.' })).toBeVisible();
  await expect(p.getByText('No passkeys yet.')).toBeVisible();
  await expect(p.locator('body[data-hydrated]')).toHaveCount(0);
  await nojs.close();
});
