// The API reference page: any signed-in person finds it in the menu, reads the operations the
// server generated from its handlers (with every answer each can give), follows a type to its
// schema and downloads the same document for tools. It is server-rendered folded sections, so
// it reads the same with the WASM blocked.
import { test, expect } from '@playwright/test';
import { cliAt, edgeDbURL, edgeURL, hydrated, rememberSecrets } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const PW = 'edge story passphrase api';
rememberSecrets(PW);
const cli = (...args: string[]) => cliAt(edgeDbURL, ...args);

test.use({ baseURL: edgeURL });
test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  cli('org', 'create', 'ApiReaders');
  cli('user', 'create', '-r', 'Viewer', '--org', 'ApiReaders', '-u', 'api_reader', '-e', 'api_reader@example.com', '-f', 'Api', '-l', 'Reader', '-p', PW);
});

test('a member reads the API reference from the menu, follows a type to its schema', async ({ page }) => {
  await page.goto('/sign-in');
  await hydrated(page);
  await new SignInPage(page).signIn('api_reader', PW);
  await expect(page).toHaveURL(/\/$/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API', exact: true }).click();
  await expect(page).toHaveURL(/\/api$/);
  await expect(page.getByRole('heading', { level: 1, name: 'API reference' })).toBeVisible();
  await hydrated(page);

  // The operation that lists accounts, folded until opened; opened, it lists its parameters
  // and every answer (the refusals included: a member without view-users gets 403).
  const listUsers = page.locator('details.operation', { has: page.locator('summary code.path', { hasText: /^\/users$/ }) })
    .filter({ has: page.locator('.method.get') });
  await expect(listUsers).toHaveCount(1);
  await expect(listUsers.getByRole('table')).toHaveCount(0);
  await listUsers.locator('summary').click();
  const params = listUsers.getByRole('table').first();
  await expect(params.getByRole('rowheader', { name: /search/ })).toBeVisible();
  const answers = listUsers.getByRole('table').last();
  for (const status of ['200', '401', '403']) {
    await expect(answers.getByRole('rowheader', { name: status, exact: true })).toBeVisible();
  }
  await expect(answers.getByRole('row', { name: /403/ })).toContainText('Not allowed');
  await listUsers.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/desktop-api-operation.png' });

  // The body type links to its schema, which opens at the bottom of the page.
  await listUsers.getByRole('link', { name: 'UserPage' }).click();
  await expect(page).toHaveURL(/#schema-UserPage$/);
  const schema = page.locator('#schema-UserPage');
  await schema.locator('summary').click();
  await expect(schema.getByRole('rowheader', { name: /^users/ })).toBeVisible();
  await expect(schema.getByRole('row', { name: /^next/ })).toContainText('Cursor for the next page');

  // The same document, for tools.
  const download = page.getByRole('link', { name: 'Download the OpenAPI document' });
  await expect(download).toHaveAttribute('href', '/api/v1/openapi.json');
  const doc = await (await page.request.get('/api/v1/openapi.json')).json();
  expect(doc.openapi).toMatch(/^3\./);
  expect(Object.keys(doc.paths)).toContain('/users');
});

test('the API reference reads without the WASM, and is not for anonymous visitors', async ({ browser }) => {
  const ctx = await browser.newContext({ baseURL: edgeURL });
  await ctx.route('**/*.wasm', (route) => route.abort());
  const page = await ctx.newPage();
  await page.goto('/api');
  // Anonymous: asked to sign in, not shown the document.
  await expect(page.getByRole('alert')).toContainText('sign in', { ignoreCase: true });
  await expect(page.getByRole('heading', { name: 'API reference' })).toHaveCount(0);
  await page.getByRole('main').getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByLabel('Username or email').fill('api_reader');
  await page.getByLabel('Password').fill(PW);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/api');
  await expect(page.getByRole('heading', { level: 1, name: 'API reference' })).toBeVisible();
  const deleteOrg = page.locator('details.operation', { has: page.locator('summary code.path', { hasText: /^\/orgs\/\{org\}$/ }) })
    .filter({ has: page.locator('.method.delete') });
  await deleteOrg.locator('summary').click();
  await expect(deleteOrg.getByRole('table').last().getByRole('rowheader', { name: '404', exact: true })).toBeVisible();
  await ctx.close();
});
