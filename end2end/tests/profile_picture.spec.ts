// Profile -> Picture: upload a PNG (cropped and resized to 256 x 256 by the server), see a
// refused file's reason, and remove the picture.
import { test, expect } from '@playwright/test';
import { cli, hydrated, rememberSecrets } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'a long avatar upload passphrase';
// A 2 x 1 PNG (red, blue).
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4zwAE/wEHAAH/4iOeWQAAAABJRU5ErkJggg==',
  'base64',
);

test('upload, refuse and remove a profile picture', async ({ page }) => {
  rememberSecrets(PW);
  cli('user', 'create', '-r', 'DefaultUser', '-u', 'pic', '-e', 'pic@example.com', '-f', 'Pic', '-l', 'Ture', '-p', PW);
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn('pic', PW);
  await expect(page.getByText('Signed in as')).toContainText('pic');
  await page.goto('/profile');
  await hydrated(page);
  const picture = page.getByRole('img', { name: 'Your picture' });
  await expect(picture).toBeVisible();

  await page.getByLabel('New picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG });
  await page.getByRole('button', { name: 'Upload picture' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Picture saved.' })).toBeVisible();
  await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);

  await page.getByLabel('New picture').setInputFiles({ name: 'x.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg/>') });
  await page.getByRole('button', { name: 'Upload picture' }).click();
  await expect(page.getByRole('alert')).toHaveText('Upload a PNG, JPEG or WebP image.');

  await hydrated(page);
  await page.getByRole('button', { name: 'Remove picture' }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove your picture?' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Picture removed.' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Remove picture' }).click();
  await dialog.getByRole('button', { name: 'Remove picture' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Picture removed.' })).toBeVisible();
});
