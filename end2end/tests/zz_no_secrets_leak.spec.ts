// Runs last (file order): after the whole suite, no password, TOTP secret, recovery code,
// token or session id used by it appears in the servers' logs or anywhere in their database
// files (the audit table included; secrets are stored hashed or encrypted, never as text).
import { test, expect } from '@playwright/test';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { secretsFile } from './fixtures/roster';

const root = path.resolve(__dirname, '..');
const places = ['.state', '.state-access', '.state-passkeys'].flatMap((dir) =>
  ['server.log', 'e2e.db', 'e2e.db-wal', 'access.db', 'access.db-wal', 'passkeys.db', 'passkeys.db-wal'].map((f) =>
    path.join(root, dir, f),
  ),
);
// The proxy story's instances and nginx (its database is on PostgreSQL, not a file here).
const proxyLogs = ['instance-a.log', 'instance-b.log', 'nginx/logs/access.log', 'nginx/logs/error.log'].map((f) =>
  path.join(root, '.state-proxy', f),
);
// The tool stories' twin server on PostgreSQL and the nginx in front of its site.
const toolsPgLogs = ['server.log', 'forward/nginx/logs/access.log', 'forward/nginx/logs/error.log'].map((f) =>
  path.join(root, '.state-tools-pg', f),
);

test('no secret used by the suite reached a log or a database file', () => {
  const secrets = [...new Set(readFileSync(secretsFile, 'utf8').split('\n').map((s) => s.trim()))].filter(
    (s) => s.length >= 12,
  );
  // Passwords of every story, the TOTP seed, recovery codes, a token and session cookies.
  expect(secrets.length).toBeGreaterThan(15);
  const files = places.filter((f) => existsSync(f));
  expect(files.filter((f) => f.endsWith('server.log'))).toHaveLength(3);
  expect(files.filter((f) => f.endsWith('.db'))).toHaveLength(3);
  expect(proxyLogs.filter((f) => !existsSync(f))).toEqual([]);
  expect(toolsPgLogs.filter((f) => !existsSync(f))).toEqual([]);
  files.push(...proxyLogs, ...toolsPgLogs);
  const leaks: string[] = [];
  for (const f of files) {
    const text = readFileSync(f).toString('latin1');
    for (const s of secrets) {
      if (text.includes(s)) leaks.push(`${s.slice(0, 6)}… in ${path.relative(root, f)}`);
    }
  }
  expect(leaks).toEqual([]);
  // The logs did record requests (so the check above looked at something).
  const log = readFileSync(path.join(root, '.state-access', 'server.log'), 'utf8');
  expect(log).toContain('/rpc/sign_in');
  expect(readFileSync(toolsPgLogs[0], 'utf8')).toContain('/oauth/token');
});
