import { defineConfig } from '@playwright/test';
import * as path from 'path';

// The server under test: the debug binary built by `make test`, on a fresh SQLite file.
const root = path.resolve(__dirname, '..');
const bin = process.env.ROSTER_BIN ?? path.join(root, 'target/debug/roster');
const siteRoot = process.env.ROSTER_SITE_ROOT ?? path.join(root, 'target/site');
const state = path.join(__dirname, '.state');
const port = Number(process.env.ROSTER_E2E_PORT ?? 3100);
export const baseURL = `http://127.0.0.1:${port}`;
export const dbURL = `sqlite:${state}/e2e.db`;
// A second server on its own database for the access-model story (independent of the first
// story's first-run sign-up).
const accessState = path.join(__dirname, '.state-access');
const accessPort = port + 1;
// A third server for passkeys: WebAuthn binds credentials to the configured public URL, and
// browsers refuse WebAuthn on IP addresses, so this one is reached as http://localhost.
const passkeyState = path.join(__dirname, '.state-passkeys');
const passkeyPort = port + 2;

// A fourth server for the console's browser edge (questions before destructive actions,
// forms without the WASM, small screens, live updates), seeded through the CLI.
const edgeState = path.join(__dirname, '.state-edge');
const edgePort = port + 3;

// Two instances on one PostgreSQL database behind nginx (round robin) for the proxy story:
// end2end/proxy.sh starts them all (it needs ROSTER_TEST_PG_URL, which scripts/test.sh exports).
const proxyState = path.join(__dirname, '.state-proxy');
const proxyPort = port + 4;

// A real OpenID provider (npm oidc-provider) for single sign-on, registered with the passkeys
// server's redirect URI.
export const oidcPort = port + 9;

// nginx protecting a static site with forward authentication against the passkeys server
// (both on localhost: Roster's session cookie reaches the site's proxy).
const forwardState = path.join(__dirname, '.state-forward');
export const forwardPort = port + 10;

// The passkeys server's twin on PostgreSQL (port + 11) with its own nginx-protected site
// (port + 12): the tool stories (OpenID provider, forward authentication, webhooks) run
// against both backends (end2end/tools_pg.sh; it needs ROSTER_TEST_PG_URL).
const toolsPgState = path.join(__dirname, '.state-tools-pg');
const toolsPgPort = port + 11;

// Request lines (method and path) included: the last spec checks that no secret used by the
// suite ever reaches these logs.
const LOG = 'info,tower_http=debug,sqlx=warn';

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    },
  },
  webServer: [
    {
      command: `rm -rf "${state}" && mkdir -p "${state}" && exec "${bin}" serve --addr 127.0.0.1:${port} --site-root "${siteRoot}" 2>>"${state}/server.log"`,
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ROSTER_DATABASE_URL: dbURL, ROSTER_LOG: LOG },
    },
    {
      command: `rm -rf "${accessState}" && mkdir -p "${accessState}" && exec "${bin}" serve --addr 127.0.0.1:${accessPort} --site-root "${siteRoot}" 2>>"${accessState}/server.log"`,
      url: `http://127.0.0.1:${accessPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ROSTER_DATABASE_URL: `sqlite:${accessState}/access.db`, ROSTER_LOG: LOG },
    },
    {
      command: `rm -rf "${passkeyState}" && mkdir -p "${passkeyState}" && exec "${bin}" serve --addr 127.0.0.1:${passkeyPort} --site-root "${siteRoot}" --public-url http://localhost:${passkeyPort} --allow-internal-urls --forward-auth-hosts localhost:${forwardPort} 2>>"${passkeyState}/server.log"`,
      url: `http://127.0.0.1:${passkeyPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ROSTER_DATABASE_URL: `sqlite:${passkeyState}/passkeys.db`, ROSTER_LOG: LOG },
    },
    {
      command: `rm -rf "${edgeState}" && mkdir -p "${edgeState}" && exec "${bin}" serve --addr 127.0.0.1:${edgePort} --site-root "${siteRoot}" 2>>"${edgeState}/server.log"`,
      url: `http://127.0.0.1:${edgePort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ROSTER_DATABASE_URL: `sqlite:${edgeState}/edge.db`, ROSTER_LOG: LOG },
    },
    {
      // nginx on port + 4, the instances on port + 5 and port + 6.
      command: `exec bash proxy.sh "${proxyState}" ${proxyPort} ${proxyPort + 1} ${proxyPort + 2}`,
      url: `http://127.0.0.1:${proxyPort}/readyz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ROSTER_BIN: bin, ROSTER_SITE_ROOT: siteRoot, ROSTER_LOG: LOG },
    },
    {
      command: `exec bash forward_auth.sh "${forwardState}" ${forwardPort} ${passkeyPort}`,
      url: `http://127.0.0.1:${forwardPort}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `exec bash tools_pg.sh "${toolsPgState}" ${toolsPgPort} ${toolsPgPort + 1}`,
      url: `http://127.0.0.1:${toolsPgPort + 1}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ROSTER_BIN: bin, ROSTER_SITE_ROOT: siteRoot, ROSTER_LOG: LOG },
    },
    {
      command: 'exec node oidc/provider.mjs',
      url: `http://127.0.0.1:${oidcPort}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        OIDC_PORT: String(oidcPort),
        OIDC_ISSUER: `http://localhost:${oidcPort}`,
        OIDC_REDIRECT_URIS: `http://localhost:${passkeyPort}/auth/oidc/corp/callback`,
      },
    },
  ],
});
