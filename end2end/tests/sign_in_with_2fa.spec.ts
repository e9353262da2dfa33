// Two-factor authentication and API tokens end to end, on the access-story server: enrol
// TOTP by reading the secret off the page and computing codes with oathtool (not our code),
// sign in with a code, see a replayed code refused, sign in with a recovery code; create a
// personal access token, use it, revoke it.
import { test, expect, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import { accessURL, accessDbURL, cliAt, hydrated, rememberSecrets, rememberSessions } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'two factor story passphrase';
test.use({ baseURL: accessURL });
test.describe.configure({ mode: 'serial' });

function oathtool(secret: string, unixSeconds: number): string {
  return execFileSync('oathtool', ['--totp', '-b', `--now=@${unixSeconds}`, secret]).toString().trim();
}

let secret = '';
let enrolledAt = 0;
let recovery: string[] = [];

async function signInWithPassword(page: Page) {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('tess', PW);
  await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Roster' })).toBeVisible();
}

test.beforeAll(() => {
  rememberSecrets(PW);
  cliAt(accessDbURL, 'user', 'create', '-r', 'DefaultUser', '-u', 'tess', '-e', 'tess@example.com', '-f', 'Tess', '-l', 'Test', '-p', PW);
});

test('enrol TOTP from the profile with a code computed by oathtool', async ({ page }) => {
  await new SignInPage(page).goto();
  await new SignInPage(page).signIn('tess', PW);
  await expect(page.getByText('Signed in as')).toContainText('tess');
  await page.goto('/profile');
  await hydrated(page);
  const security = page.getByRole('region', { name: 'Security' });
  await expect(security.getByText('Off', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Enable two-factor authentication' }).click();
  await expect(page.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  // Shown in groups of four, as people copy it by hand.
  const shown = (await page.getByLabel('Secret key').textContent())?.trim() ?? '';
  expect(shown).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  secret = shown.replace(/\s/g, '');
  enrolledAt = Math.floor(Date.now() / 1000);
  // A wrong code first: a clear error, still off.
  await page.getByLabel('Code from your app').fill('000000');
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  await expect(page.getByText('That code is not valid.')).toBeVisible();
  await page.getByLabel('Code from your app').fill(oathtool(secret, enrolledAt));
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  const codes = page.getByRole('region', { name: 'Recovery codes' });
  await expect(codes.getByRole('listitem')).toHaveCount(10);
  recovery = (await codes.getByRole('listitem').allTextContents()).map((c) => c.trim());
  rememberSecrets(secret, ...recovery);
  await rememberSessions(page.context());
  expect(recovery[0]).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  await expect(codes.getByRole('link', { name: 'Download codes' })).toHaveAttribute('download', 'roster-recovery-codes.txt');
  await expect(security.getByText('On', { exact: true })).toBeVisible();
  await expect(security.getByText('Recovery codes left')).toBeVisible();
  // The codes stay until the person says they saved them.
  await codes.getByRole('button', { name: 'I have saved these codes' }).click();
  await expect(codes).toHaveCount(0);
  await signOut(page);
});

test('sign in with the next code; the same code again is refused', async ({ page }) => {
  await signInWithPassword(page);
  // Half signed in: the header still offers only "Sign in".
  await expect(page.getByText('Signed in as')).toHaveCount(0);
  // The step after the one used at enrolment: inside the +/- 1 step window for a minute.
  const code = oathtool(secret, enrolledAt + 30);
  await page.getByLabel('Authentication code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('Signed in as')).toContainText('tess');
  await signOut(page);
  await signInWithPassword(page);
  await page.getByLabel('Authentication code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('That code is not valid.')).toBeVisible();
  await expect(page.getByText('Signed in as')).toHaveCount(0);
});

test('a recovery code signs in once', async ({ page }) => {
  await signInWithPassword(page);
  await page.getByLabel('Authentication code').fill(recovery[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('Signed in as')).toContainText('tess');
  await page.goto('/profile');
  await hydrated(page);
  await expect(page.getByRole('region', { name: 'Security' }).getByText('9', { exact: true })).toBeVisible();
  await signOut(page);
  await signInWithPassword(page);
  await page.getByLabel('Authentication code').fill(recovery[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('That code is not valid.')).toBeVisible();
});

test('a personal access token works until it is revoked', async ({ page, playwright }) => {
  await signInWithPassword(page);
  await page.getByLabel('Authentication code').fill(recovery[1]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('Signed in as')).toContainText('tess');
  await page.goto('/profile');
  await hydrated(page);
  await page.getByLabel('Token name').fill('e2e script');
  await page.getByLabel('Expires in (days)').fill('7');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByLabel('Your new token').inputValue();
  expect(token).toMatch(/^rst_pat_/);
  rememberSecrets(token);
  await rememberSessions(page.context());
  const tokens = page.getByRole('table', { name: 'Your tokens' });
  await expect(tokens.getByRole('row', { name: /e2e script/ })).toContainText('active');
  // A script, without cookies.
  const script = await playwright.request.newContext({ baseURL: accessURL });
  const me = await script.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe('tess');
  await page.getByRole('button', { name: 'Revoke e2e script' }).click();
  await page.getByRole('dialog', { name: 'Revoke the token e2e script?' }).getByRole('button', { name: 'Revoke token' }).click();
  await expect(tokens.getByRole('row', { name: /e2e script/ })).toContainText('revoked');
  const after = await script.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(after.status()).toBe(401);
  await script.dispose();
});

test('regenerated codes replace the old ones; an admin resets 2FA with a reason and unlocks sign-in', async ({ page, browser }) => {
  cliAt(accessDbURL, 'user', 'create', '-r', 'Admin', '-u', 'keeper', '-e', 'keeper@example.com', '-f', 'Keeper', '-l', 'Admin', '-p', PW);
  await signInWithPassword(page);
  await page.getByLabel('Authentication code').fill(recovery[2]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('Signed in as')).toContainText('tess');
  await page.goto('/profile');
  await hydrated(page);
  await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
  const replace = page.getByRole('dialog', { name: 'Replace your recovery codes?' });
  await expect(replace).toContainText('stop working at once');
  await replace.getByRole('button', { name: 'Replace the codes' }).click();
  const codes = page.getByRole('region', { name: 'Recovery codes' });
  await expect(codes.getByRole('listitem')).toHaveCount(10);
  const fresh = (await codes.getByRole('listitem').allTextContents()).map((c) => c.trim());
  expect(fresh).not.toContain(recovery[3]);
  rememberSecrets(...fresh);
  await signOut(page);
  // The old batch is gone.
  await signInWithPassword(page);
  await page.getByLabel('Authentication code').fill(recovery[3]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('That code is not valid.')).toBeVisible();

  const adminContext = await browser.newContext({ baseURL: accessURL });
  const admin = await adminContext.newPage();
  const signIn = new SignInPage(admin);
  await signIn.goto();
  await signIn.signIn('keeper', PW);
  await expect(admin.getByText('Signed in as')).toContainText('keeper');
  // Requiring 2FA needs the admin's own 2FA first: said in words, nothing changes.
  await admin.goto('/admin/orgs');
  await hydrated(admin);
  await admin.getByRole('button', { name: 'Require 2FA in Default' }).click();
  const require = admin.getByRole('dialog', { name: 'Require two-factor authentication in Default?' });
  await require.getByRole('button', { name: 'Require 2FA in Default' }).click();
  await expect(require.getByRole('alert')).toContainText('Turn on two-factor authentication for your own account first.');
  await require.getByRole('button', { name: 'Cancel' }).click();
  await admin.goto('/admin/users/tess');
  await hydrated(admin);
  await admin.getByRole('button', { name: 'Reset two-factor authentication' }).click();
  const reset = admin.getByRole('dialog', { name: "Reset tess's two-factor authentication?" });
  await reset.getByRole('button', { name: 'Reset two-factor authentication' }).click();
  await expect(reset.getByText('Give a reason: it is kept in the audit log.')).toBeVisible();
  await reset.getByLabel('Reason for the reset').fill('Lost phone, identity checked by video call');
  await reset.getByRole('button', { name: 'Reset two-factor authentication' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Two-factor authentication was reset.' })).toBeVisible();
  // Not held back: no unlock button. After a burst of wrong passwords, there is one.
  await expect(admin.getByRole('button', { name: 'Unlock sign-in' })).toHaveCount(0);
  for (let i = 0; i < 5; i++) {
    await admin.request.post('/rpc/sign_in', {
      form: { login: 'tess', password: `wrong password number ${i}` },
      headers: { Origin: accessURL, 'Sec-Fetch-Site': 'same-origin' },
    });
  }
  await admin.reload();
  await hydrated(admin);
  await admin.getByRole('button', { name: 'Unlock sign-in' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Sign-in unlocked' })).toBeVisible();
  await adminContext.close();

  // The password alone signs tess in now.
  const signInAgain = new SignInPage(page);
  await signInAgain.goto();
  await signInAgain.signIn('tess', PW);
  await expect(page.getByText('Signed in as')).toContainText('tess');
});
