/**
 * A real OpenID Connect provider on loopback (`oidc-provider`, the certified implementation) with
 * its development login and consent pages: any login name signs in as that account, and
 * "[ Cancel ]" aborts with `access_denied`, as a person declining consent would. A `groups` scope
 * yields the `groups` claim: `["dev", "platform"]` for logins starting with `plat-`, else `["dev"]`.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

export type OidcServer = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The email an account gets: `<login>@oidc.example.test`. */
  emailOf: (login: string) => string;
  close: () => Promise<void>;
};

export async function startOidcProvider(dashboardUrl: string): Promise<OidcServer> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = "packr-dashboard";
  const clientSecret = "oidc-test-secret-0123456789abcdef";
  const emailOf = (login: string) => `${login}@oidc.example.test`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${dashboardUrl}/api/auth/callback/oidc`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    pkce: { required: () => true },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
      // Asked for only where a test sets OIDC_SCOPES (the sign-up allow-list by claim).
      groups: ["groups"],
    },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({
        sub: id,
        email: emailOf(id),
        email_verified: true,
        name: `OIDC ${id}`,
        preferred_username: id,
        // `plat-<name>` logins are in the platform group.
        groups: id.startsWith("plat-") ? ["dev", "platform"] : ["dev"],
      }),
    }),
    cookies: { keys: ["oidc-test-cookie-key-0123456789"] },
  });
  server.on("request", provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    emailOf,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
