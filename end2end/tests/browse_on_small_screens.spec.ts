// Every page at phone width (390px) and desktop width (1280px): nothing scrolls the page
// sideways (wide tables scroll inside their own box), the navigation folds into a Menu
// button on phones, and each page is photographed for a person to look at
// (test-results/screens/).
import { test, expect, Page } from '@playwright/test';
import { cliAt, edgeDbURL, edgeURL, expectNoSidewaysScroll, hydrated, rememberSecrets, WIDTHS } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'edge story passphrase four';
rememberSecrets(PW);
const cli = (...args: string[]) => cliAt(edgeDbURL, ...args);

test.use({ baseURL: edgeURL });

const PAGES = [
  '/',
  '/members',
  '/roles',
  '/access?user=small_member&org=1&ability=run-backups',
  '/admin/users',
  '/admin/users/new',
  '/admin/users/small_member',
  '/admin/users/public',
  '/admin/orgs',
  '/admin/audit',
  '/admin/sso',
  '/admin/webhooks',
  '/api',
  '/profile',
];

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

test('no page scrolls sideways, at phone and desktop widths', async ({ browser }) => {
  test.setTimeout(180_000);
  cli('user', 'create', '-r', 'Admin', '-u', 'small_root', '-e', 'small_root@example.com', '-f', 'Small', '-l', 'Screens', '-p', PW);
  cli('user', 'create', '-r', 'Viewer', '--org', 'Default', '-u', 'small_member', '-e', 'a.rather.long.email.address.for.layout@example.com',
    '-f', 'Maximiliana Konstantinopoulou-Featherstonehaugh', '-l', 'X', '-p', PW);
  for (const w of WIDTHS) {
    const ctx = await browser.newContext({ baseURL: edgeURL, viewport: { width: w.width, height: w.height } });
    const page = await ctx.newPage();
    await page.goto('/sign-in');
    await hydrated(page);
    await expectNoSidewaysScroll(page, `/sign-in at ${w.width}`);
    await shoot(page, `${w.name}-sign-in`);
    const signIn = new SignInPage(page);
    await signIn.signIn('small_root', PW);
    await expect(page).toHaveURL(/\/$/);
    // The header is compact on phones: a Menu button instead of a row of links.
    const menu = page.getByText('Menu', { exact: true });
    if (w.width < 720) {
      await expect(menu).toBeVisible();
      await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Roles' })).toBeHidden();
      const header = await page.locator('header.topbar').boundingBox();
      expect(header?.height ?? 999, 'the header stays small').toBeLessThan(w.height / 6);
      await menu.click();
      await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Roles' })).toBeVisible();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Roles' }).click();
      await expect(page).toHaveURL(/\/roles$/);
      await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Roles' })).toBeHidden();
    } else {
      await expect(menu).toBeHidden();
      await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Roles' })).toBeVisible();
    }
    for (const path of PAGES) {
      await page.goto(path);
      await hydrated(page);
      await expect(page.locator('main h1')).toBeVisible();
      await expectNoSidewaysScroll(page, `${path} at ${w.width}`);
      await shoot(page, `${w.name}${path.split('?')[0].replace(/\//g, '-') || '-home'}`);
    }
    // Wide tables keep their first column in view while scrolling sideways.
    await page.goto('/admin/users');
    await hydrated(page);
    const wrap = page.locator('.table-wrap').first();
    await wrap.evaluate((el) => (el.scrollLeft = 10_000));
    const first = page.getByRole('table').getByRole('rowheader').first();
    const box = await first.boundingBox();
    const wrapBox = await wrap.boundingBox();
    expect(box && wrapBox && box.x - wrapBox.x).toBeLessThan(2);
    await ctx.close();
  }
});
