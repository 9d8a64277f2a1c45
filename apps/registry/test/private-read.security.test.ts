/**
 * PACKR_READ_REQUIRES_AUTH=true, "private by login", over app.request(): every read route refuses
 * a caller without a valid token (none, revoked, expired, malformed Authorization) with npm's 401;
 * health and the sign-in routes still answer; a valid token reads as before; and with the setting
 * off nothing changes. The registry under test has a real uplink (a second Packr on loopback), so
 * the proxied reads are covered too, and the uplink must not even be asked for a stranger.
 */
import { schema } from "@packr/core";
import { publishBody, tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, expectError } from "./http.ts";
import { createPrivatePair } from "./private-pair.ts";
import type { UplinkPair } from "./uplink-fixture.ts";

/** Every read the registry serves, as [method, path, body?]; each must refuse a stranger. */
const READS: Array<[string, string, unknown?]> = [
  ["GET", "/local-pub"],
  ["HEAD", "/local-pub"],
  ["GET", "/local-pub/1.0.0"],
  ["GET", "/local-pub/latest"],
  ["GET", "/local-pub/-/local-pub-1.0.0.tgz"],
  ["HEAD", "/local-pub/-/local-pub-1.0.0.tgz"],
  ["GET", "/@acme%2fsecret"],
  ["GET", "/@acme/secret/-/secret-1.0.0.tgz"],
  ["GET", "/no-such-package"],
  // proxied from the uplink
  ["GET", "/up-lib"],
  ["GET", "/up-lib/1.0.0"],
  ["GET", "/up-lib/-/up-lib-1.0.0.tgz"],
  ["GET", "/-/v1/search?text=local"],
  ["GET", '/-/_view/starredByUser?key="admin"'],
  ["GET", "/-/package/local-pub/dist-tags"],
  ["GET", "/-/package/local-pub/visibility"],
  ["GET", "/-/package/local-pub/collaborators"],
  ["GET", "/-/org/acme/package"],
  ["GET", "/-/user/admin/package"],
  ["GET", "/-/downloads/point/last-week/local-pub"],
  ["GET", "/agent/search?q=local"],
  ["GET", "/agent/local-pub"],
  ["GET", "/agent/local-pub/deps"],
  ["GET", "/agent/local-pub/docs"],
  ["GET", "/agent/local-pub/latest"],
  ["GET", "/agent/local-pub/recommendations"],
  ["GET", "/agent/compare?packages=local-pub,up-lib"],
  ["GET", "/-/npm/v1/keys"],
  ["GET", "/openapi.json"],
  ["GET", "/-/ping"],
  ["GET", "/-/whoami"],
  ["GET", "/-/npm/v1/tokens"],
  ["POST", "/-/npm/v1/security/advisories/bulk", { "local-pub": ["1.0.0"] }],
  ["POST", "/-/npm/v1/security/audits/quick", { name: "x", version: "1.0.0" }],
  // An endpoint that does not exist is a 401 too: a stranger learns nothing, not even a 404.
  ["GET", "/-/no-such-endpoint"],
];

async function request(
  pair: UplinkPair,
  [method, path, body]: [string, string, unknown?],
  headers: Record<string, string>,
): Promise<Response> {
  return await pair.reg.app.request(path, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A 401 the way npm needs it: the challenge, the notice npm prints, the flat body (HEAD has none). */
async function expect401(
  res: Response,
  what: string,
  code: "UNAUTHORIZED" | "TOKEN_REVOKED" | "TOKEN_EXPIRED",
  challenge: string,
): Promise<void> {
  expect(res.status, what).toBe(401);
  expect(res.headers.get("www-authenticate"), what).toBe(challenge);
  expect(res.headers.get("npm-notice"), what).toBeTruthy();
  if (what.startsWith("HEAD ")) return;
  const body = await expectError(res, 401, code);
  if (code === "UNAUTHORIZED" && challenge === 'Bearer realm="packr"') {
    expect(body.error, what).toMatch(/This registry is private: log in to use it\. Run npm login/);
    expect(body.error, what).toContain("//registry.test/:_authToken=");
  }
}

describe("private by login (PACKR_READ_REQUIRES_AUTH=true)", () => {
  let pair: UplinkPair;
  let revoked: string;
  let expired: string;

  beforeAll(async () => {
    pair = await createPrivatePair();
    const leaver = await tokenContext(pair.reg.runtime.deps, { user: "leaver", role: "admin" });
    if (leaver.actor.type !== "token") throw new Error("token actor expected");
    await pair.reg.runtime.deps.db
      .update(schema.tokens)
      .set({ revokedAt: new Date() })
      .where(eq(schema.tokens.id, leaver.actor.tokenId));
    pair.reg.runtime.deps.tokens.invalidate(leaver.actor.tokenId);
    revoked = leaver.token;
    expired = (
      await pair.reg.runtime.deps.tokens.issue(pair.reg.runtime.deps.db, {
        kind: "ci",
        name: "old",
        userId: leaver.actor.userId,
        role: "ci-readonly",
        ttlSeconds: -60,
      })
    ).token;
  });
  afterAll(async () => pair?.close());

  it("refuses every read without a token: 401, Bearer challenge, a sentence saying to log in", async () => {
    for (const r of READS) {
      await expect401(
        await request(pair, r, {}),
        `${r[0]} ${r[1]}`,
        "UNAUTHORIZED",
        'Bearer realm="packr"',
      );
    }
    // Nothing a stranger sends reaches the uplink.
    expect(pair.askedAbout("up-lib")).toEqual([]);
  });

  it("refuses every read with a revoked token, like no token", async () => {
    for (const r of READS) {
      await expect401(
        await request(pair, r, { authorization: `Bearer ${revoked}` }),
        `${r[0]} ${r[1]}`,
        "TOKEN_REVOKED",
        'Bearer realm="packr", error="invalid_token"',
      );
    }
  });

  it("refuses every read with an expired token, like no token", async () => {
    for (const r of READS) {
      await expect401(
        await request(pair, r, { authorization: `Bearer ${expired}` }),
        `${r[0]} ${r[1]}`,
        "TOKEN_EXPIRED",
        'Bearer realm="packr", error="invalid_token"',
      );
    }
  });

  it("refuses malformed Authorization headers", async () => {
    const forged = `${pair.token.slice(0, -4)}AAAA`;
    const cases: Array<[string, string]> = [
      ["Bearer", 'Bearer realm="packr"'],
      ["Bearer    ", 'Bearer realm="packr"'],
      ["Bearer not-a-jwt", 'Bearer realm="packr", error="invalid_token"'],
      [`Bearer ${forged}`, 'Bearer realm="packr", error="invalid_token"'],
      ["Basic YWRtaW46YWRtaW4tcGFzc3dvcmQtMQ==", 'Bearer realm="packr"'],
      [`Token ${pair.token}`, 'Bearer realm="packr"'],
      [pair.token, 'Bearer realm="packr"'],
      // The internal API secret is the dashboard's credential for the admin API, not a read token.
      [
        `Bearer ${pair.reg.runtime.secrets.internalApi}`,
        'Bearer realm="packr", error="invalid_token"',
      ],
    ];
    for (const [authorization, challenge] of cases) {
      for (const r of READS) {
        await expect401(
          await request(pair, r, { authorization }),
          `${r[0]} ${r[1]} with "${authorization.slice(0, 20)}"`,
          "UNAUTHORIZED",
          challenge,
        );
      }
    }
  });

  it("refuses the admin API to strangers and to revoked tokens", async () => {
    await expect401(
      await client(pair.reg.app).get("/api/v1/admin/me"),
      "GET /api/v1/admin/me",
      "UNAUTHORIZED",
      'Bearer realm="packr"',
    );
    await expect401(
      await client(pair.reg.app, revoked).get("/api/v1/admin/tokens"),
      "GET /api/v1/admin/tokens",
      "TOKEN_REVOKED",
      'Bearer realm="packr", error="invalid_token"',
    );
    // A session without the internal secret beside it is no credential.
    const sneaky = await client(pair.reg.app).get("/api/v1/admin/me", {
      "x-packr-session": "ses_x.y",
    });
    expect(sneaky.status).toBe(401);
  });

  it("refuses writes without a token as before (publish, dist-tag, star)", async () => {
    await expectError(
      await client(pair.reg.app).put("/anon-pkg", publishBody("anon-pkg", "1.0.0")),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await client(pair.reg.app).put("/-/package/local-pub/dist-tags/next", '"1.0.0"'),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await client(pair.reg.app, revoked).put("/local-pub", {
        _id: "local-pub",
        users: { leaver: true },
      }),
      401,
      "TOKEN_REVOKED",
    );
  });

  it("does not open routes that merely look like the open ones", async () => {
    for (const [method, path] of [
      ["GET", "/health/"],
      ["GET", "/healthz"],
      ["GET", "/-/v1/login"],
      ["POST", "/-/v1/done"],
      ["GET", "/-/v1/device/authorize"],
      ["GET", "/-/user/org.couchdb.user:admin/package"],
      ["GET", "/-/user/token/abc"],
      ["POST", "/-/v1/login/extra"],
    ] as const) {
      const res = await pair.reg.app.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });
});
