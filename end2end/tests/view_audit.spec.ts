// The audit log viewer end to end: a super admin (provisioned with the CLI, so this story
// needs nothing from the others) filters the trail by event and outcome through the form,
// the filters land in the URL (back restores the unfiltered view), and the export link
// downloads a CSV of exactly the filtered events.
import { test, expect } from '@playwright/test';
import * as fs from 'fs';
import { cli, hydrated } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

const AUDITOR = { username: 'auditor', password: 'audit trail long passphrase' };

test('the audit log filters by event and outcome and exports CSV', async ({ page }) => {
  cli('user', 'create', '-r', 'Admin', '-u', AUDITOR.username, '-e', 'auditor@example.com', '-f', 'Audra', '-l', 'Tor',
    '-p', AUDITOR.password, '--skip-existing');
  cli('org', 'create', 'Audited');
  // One failed sign-in (the event to find), then the real one.
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(AUDITOR.username, 'not the right passphrase');
  await signIn.expectGenericError();
  await signIn.signIn(AUDITOR.username, AUDITOR.password);
  await expect(page.getByText('Signed in as')).toContainText(AUDITOR.username);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await hydrated(page);
  const table = page.getByRole('table', { name: 'Audit events, newest first' });
  await expect(table.getByText('org.created')).toBeVisible();

  // Filter: sign-in failures only.
  await page.getByLabel('Event', { exact: true }).fill('sign_in');
  await page.getByLabel('Outcome', { exact: true }).selectOption('failure');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/admin\/audit\?event=sign_in&outcome=failure$/);
  await expect(table.getByText('org.created')).toHaveCount(0);
  const rows = table.locator(':scope > tbody > tr');
  await expect(rows).not.toHaveCount(0);
  for (const row of await rows.all()) {
    await expect(row.getByRole('cell').nth(1)).toHaveText('sign_in');
    await expect(row.getByRole('cell').nth(2)).toHaveText('failure');
  }
  // The before/after comparison names the reason.
  await expect(rows.first().getByRole('rowheader', { name: 'reason' })).toBeVisible();
  await expect(page.getByLabel('Outcome', { exact: true })).toHaveValue('failure');

  // The export link carries the filters and downloads a CSV of the same events.
  const exportCsv = page.getByRole('link', { name: 'Export CSV' });
  await expect(exportCsv).toHaveAttribute('href', '/api/v1/audit/export?format=csv&event=sign_in&outcome=failure');
  const [download] = await Promise.all([page.waitForEvent('download'), exportCsv.click()]);
  expect(download.suggestedFilename()).toMatch(/^roster-audit-.*\.csv$/);
  const file = await download.path();
  const lines = fs.readFileSync(file!, 'utf8').trim().split('\r\n');
  expect(lines[0]).toBe('id,time,at_ms,event,outcome,actor,target,org_id,ip,user_agent,before,after');
  expect(lines.length - 1).toBe(await rows.count());
  for (const line of lines.slice(1)) {
    expect(line).toContain(',sign_in,failure,');
  }

  // A bad filter is explained next to its input.
  await page.getByLabel('From (UTC)').fill('2030-01-02T00:00');
  await page.getByLabel('To (UTC)').fill('2030-01-01T00:00');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByText('The start of the time range is after its end.').first()).toBeVisible();
  await expect(page.getByLabel('From (UTC)')).toHaveAttribute('aria-invalid', 'true');

  // Back and forward restore the filters from the URL.
  await page.goBack();
  await expect(page).toHaveURL(/\?event=sign_in&outcome=failure$/);
  await page.goBack();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByLabel('Outcome', { exact: true })).toHaveValue('');
  await expect(table.getByText('org.created')).toBeVisible();
});
