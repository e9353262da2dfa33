// A real, certified OpenID provider (npm `oidc-provider`) for the single sign-on tests: its
// development login form accepts any login; the login becomes the subject. A login with an
// `@` is also the email (to test allowed domains); any other login gets `LOGIN@example.test`.
// A login starting with `unverified` has email_verified = false.
//   OIDC_PORT            port on 127.0.0.1 (default 9090)
//   OIDC_ISSUER          issuer URL (default http://localhost:PORT)
//   OIDC_REDIRECT_URIS   comma-separated redirect URIs of the client `roster-test`
import { Provider } from 'oidc-provider';

const port = Number(process.env.OIDC_PORT ?? 9090);
const issuer = process.env.OIDC_ISSUER ?? `http://localhost:${port}`;
const redirectUris = (process.env.OIDC_REDIRECT_URIS ?? '').split(',').filter(Boolean);

const op = new Provider(issuer, {
  clients: [{
    client_id: 'roster-test',
    client_secret: 'test-client-secret-not-for-production',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        const email = sub.includes('@') ? sub : `${sub}@example.test`;
        return {
          sub,
          email,
          email_verified: !sub.startsWith('unverified'),
          name: `Test ${sub.split('@')[0]}`,
          preferred_username: sub.split('@')[0],
        };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ['test-only-cookie-key'] },
});
op.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
// Started by a test process: exit with it (its end of the stdin pipe closes).
if (process.env.OIDC_EXIT_WITH_STDIN) {
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}
