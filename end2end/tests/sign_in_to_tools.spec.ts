// Roster as the OpenID provider of a tool, driven by a certified relying party (npm
// openid-client) through Chromium, on the server with a public URL: discovery, the
// authorization code flow with PKCE, a sign-in with password + TOTP and one with a passkey
// (amr and acr say which), consent asked once, ID token validation (signature, iss, aud,
// nonce, at_hash: openid-client checks them), userinfo, refresh with rotation (the old
// refresh token refused), revocation and RP-initiated logout.
import { test, expect, Page, BrowserContext } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as http from 'http';
import * as client from 'openid-client';
import { hydrated, rememberSecrets, rememberSessions, toolServers } from './fixtures/roster';
import { SignInPage } from './fixtures/sign_in_page';

// Once on each backend: the passkeys server (SQLite) and its twin on PostgreSQL.
for (const server of toolServers) {
  test.describe(`on ${server.backend}`, () => {
    const PW = 'tools story passphrase';
    // The tool's addresses (a blank page served by the test itself).
    const CALLBACK = 'http://127.0.0.1:3190/callback';
    const BYE = 'http://127.0.0.1:3190/signed-out';
    test.use({ baseURL: server.url });
    test.describe.configure({ mode: 'serial' });

    let config: client.Configuration;
    let tool: http.Server;
    let totpSecret = '';

    function oathtool(secret: string, unixSeconds: number): string {
      return execFileSync('oathtool', ['--totp', '-b', `--now=@${unixSeconds}`, secret]).toString().trim();
    }

    test.beforeAll(async () => {
      tool = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<title>tool</title>'));
      await new Promise<void>((resolve) => tool.listen(3190, '127.0.0.1', resolve));
      rememberSecrets(PW);
      server.cli('user', 'create', '-r', 'DefaultUser', '-u', 'otto', '-e', 'otto@example.com', '-f', 'Otto', '-l', 'Tool', '-p', PW);
      server.cli('user', 'create', '-r', 'DefaultUser', '-u', 'nora', '-e', 'nora@example.com', '-f', 'Nora', '-l', 'Script', '-p', PW);
      server.cli('user', 'create', '-r', 'DefaultUser', '-u', 'kira', '-e', 'kira@example.com', '-f', 'Kira', '-l', 'Key', '-p', PW);
      const secret = server.cli(
        'client', 'create', 'e2e-tool', '--name', 'E2E Tool', '--redirect-uri', CALLBACK,
        '--post-logout-redirect-uri', BYE, '--org', 'Default', '--scope', 'openid,profile,email,roster,offline_access',
      ).trim();
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      rememberSecrets(secret);
      // (plain http: the test server's public URL is http://localhost)
      config = await client.discovery(new URL(server.url), 'e2e-tool', secret, undefined, {
        execute: [client.allowInsecureRequests],
      });
    });

    test.afterAll(async () => {
      await new Promise((resolve) => tool.close(resolve));
    });

    /** Starts a sign-in the way a tool does; answers what the tool keeps for the callback. */
    async function start(extra: Record<string, string> = {}) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: CALLBACK,
        scope: 'openid profile email roster offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...extra,
      });
      return { url, verifier, state, nonce };
    }

    /** Resolves with the URL the browser lands on under `prefix` (the tool, played by a tiny local
     * server that answers every request with a blank page). */
    function caught(page: Page, prefix: string, state: string): Promise<string> {
      return page
        .waitForURL((u) => u.href.startsWith(prefix) && u.searchParams.get('state') === state, { waitUntil: 'commit' })
        .then(() => page.url());
    }

    async function exchange(page: Page, flow: Awaited<ReturnType<typeof start>>, back: string) {
      const tokens = await client.authorizationCodeGrant(config, new URL(back), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      rememberSecrets(tokens.access_token, tokens.refresh_token ?? '', tokens.id_token ?? '');
      void page;
      return tokens;
    }

    test('a tool signs a person in with password and TOTP through Roster', async ({ browser }) => {
      // Otto turns on TOTP first.
      const setup = await browser.newContext({ baseURL: server.url });
      const p = await setup.newPage();
      await new SignInPage(p).goto();
      await new SignInPage(p).signIn('otto', PW);
      await expect(p.getByText('Signed in as')).toContainText('otto');
      await p.goto('/profile');
      await hydrated(p);
      await p.getByRole('button', { name: 'Enable two-factor authentication' }).click();
      totpSecret = ((await p.getByLabel('Secret key').textContent()) ?? '').replace(/\s/g, '');
      rememberSecrets(totpSecret);
      const now = Math.floor(Date.now() / 1000);
      await p.getByLabel('Code from your app').fill(oathtool(totpSecret, now));
      await p.getByRole('button', { name: 'Confirm and turn on' }).click();
      await expect(p.getByRole('region', { name: 'Recovery codes' })).toBeVisible();
      await setup.close();

      // The tool sends a new browser to Roster: sign in, second factor, consent, back.
      const context = await browser.newContext({ baseURL: server.url });
      const page = await context.newPage();
      const flow = await start();
      const back = caught(page, CALLBACK, flow.state);
      await page.goto(flow.url.href);
      await expect(page).toHaveURL(/\/sign-in\?continue=1$/);
      await hydrated(page);
      await new SignInPage(page).signIn('otto', PW);
      await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
      await page.getByLabel('Authentication code').fill(oathtool(totpSecret, now + 30));
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect(page.getByRole('heading', { name: 'Sign in to E2E Tool?' })).toBeVisible();
      await expect(page.getByText('role and abilities in the organizations it may see')).toBeVisible();
      await expect(page.getByText('The organizations it may see: Default.')).toBeVisible();
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 800 });
        await page.screenshot({ path: test.info().outputPath(`consent-${width}.png`), fullPage: true });
      }
      await page.getByRole('button', { name: 'Allow' }).click();
      const tokens = await exchange(page, flow, await back);
      const claims = tokens.claims();
      expect(claims?.preferred_username).toBe('otto');
      expect(claims?.amr).toEqual(['pwd', 'otp', 'mfa']);
      expect(claims?.acr).toBe('2');
      expect(claims?.orgs).toEqual([expect.objectContaining({ name: 'Default', role: 'Member' })]);
      await rememberSessions(context);

      // Signed in at Roster now: the next sign-in into the tool asks nothing.
      const again = await start();
      const back2 = caught(page, CALLBACK, again.state);
      await page.goto(again.url.href);
      const tokens2 = await exchange(page, again, await back2);
      expect(tokens2.claims()?.sub).toBe(claims?.sub);
      await context.close();
    });

    test('a tool signs a person in with a passkey; amr says so', async ({ browser }) => {
      const context: BrowserContext = await browser.newContext({ baseURL: server.url });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable', { enableUI: false });
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal',
          hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
        },
      });
      await new SignInPage(page).goto();
      await new SignInPage(page).signIn('kira', PW);
      await expect(page.getByText('Signed in as')).toContainText('kira');
      await page.goto('/profile');
      await hydrated(page);
      await page.getByLabel('Passkey name').fill('Laptop');
      await page.getByRole('button', { name: 'Add passkey' }).click();
      await expect(page.getByRole('status').filter({ hasText: 'Passkey Laptop added.' })).toBeVisible();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect(page.getByRole('heading', { name: 'Sign in to Roster' })).toBeVisible();

      const flow = await start();
      const back = caught(page, CALLBACK, flow.state);
      await page.goto(flow.url.href);
      await hydrated(page);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await expect(page.getByRole('heading', { name: 'Sign in to E2E Tool?' })).toBeVisible();
      await page.getByRole('button', { name: 'Allow' }).click();
      const tokens = await exchange(page, flow, await back);
      const claims = tokens.claims();
      expect(claims?.preferred_username).toBe('kira');
      expect(claims?.amr).toEqual(['hwk']);
      expect(claims?.acr).toBe('2');

      // Userinfo answers the same person; the refresh token rotates and the old one is refused.
      const info = await client.fetchUserInfo(config, tokens.access_token, claims!.sub);
      expect(info.email).toBe('kira@example.com');
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      rememberSecrets(refreshed.access_token, refreshed.refresh_token ?? '');
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      expect(refreshed.claims()?.sub).toBe(claims!.sub);
      await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      // That reuse ended the whole sign-in, the new tokens too.
      await expect(client.fetchUserInfo(config, refreshed.access_token, claims!.sub)).rejects.toBeTruthy();

      // A fresh sign-in, revoked by the tool.
      const next = await start();
      const back2 = caught(page, CALLBACK, next.state);
      await page.goto(next.url.href);
      const fresh = await exchange(page, next, await back2);
      await client.tokenRevocation(config, fresh.refresh_token!);
      await expect(client.fetchUserInfo(config, fresh.access_token, claims!.sub)).rejects.toBeTruthy();

      // RP-initiated logout with the ID token: signed out of Roster, back at the tool.
      const bye = caught(page, BYE, 'bye-1');
      const logout = client.buildEndSessionUrl(config, {
        id_token_hint: fresh.id_token!,
        post_logout_redirect_uri: BYE,
        state: 'bye-1',
      });
      await page.goto(logout.href);
      expect(new URL(await bye).searchParams.get('state')).toBe('bye-1');
      expect((await page.request.get('/api/v1/me')).status()).toBe(401);
      await context.close();
    });

    test('before the WASM arrives the sign-in and the consent still work', async ({ browser }) => {
      const context = await browser.newContext({ baseURL: server.url });
      // No WASM, ever: the pages stay as the server rendered them and their forms post natively.
      await context.route('**/*.wasm', (route) => route.abort());
      const page = await context.newPage();
      const flow = await start();
      const back = caught(page, CALLBACK, flow.state);
      await page.goto(flow.url.href);
      await page.getByLabel('Username or email').fill('nora');
      await page.getByLabel('Password').fill(PW);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(page.getByRole('heading', { name: 'Sign in to E2E Tool?' })).toBeVisible();
      await page.getByRole('button', { name: 'Allow' }).click();
      const tokens = await exchange(page, flow, await back);
      expect(tokens.claims()?.preferred_username).toBe('nora');
      expect(tokens.claims()?.amr).toEqual(['pwd']);
      await context.close();
    });
  });
}
