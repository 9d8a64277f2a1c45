/**
 * Short-lived tokens through the admin API: `expiresIn` (a duration) beside the older
 * `expiresInDays`, every refusal (no credential, a caller who may not mint, malformed / too short /
 * too long expiries, each answered with a sentence naming the range), and a real 2-second token
 * (PACKR_TOKEN_MIN_TTL=1s) refused once it has expired, saying when.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, decodeJwt, expectError } from "./http.ts";

const MIN = 60_000;
const DAY = 86_400_000;

describe("POST /api/v1/admin/tokens with an expiry (default range 5m..90d)", () => {
  let reg: TestRegistry;
  let login: string;
  beforeAll(async () => {
    // A person signs up through a provider to hold a session in one test.
    reg = await createTestRegistry({ PACKR_SIGNUP: "open" });
    login = await reg.login("admin", "admin-password-1");
  });
  afterAll(async () => reg.close());

  const create = (body: Record<string, unknown>, token?: string) =>
    client(reg.app, token).post("/api/v1/admin/tokens", {
      name: "ci-job",
      role: "ci-publish",
      ...body,
    });

  it("creates a 15-minute token, shown by the token list with that expiry; expiresInDays still works", async () => {
    const before = Date.now();
    const res = await create({ expiresIn: "15m" }, login);
    expect(res.status).toBe(201);
    const t = (await res.json()) as { token: string; id: string; expiresAt: string };
    const lives = Date.parse(t.expiresAt) - before;
    expect(lives).toBeGreaterThanOrEqual(15 * MIN - 1000);
    expect(lives).toBeLessThanOrEqual(15 * MIN + 5000);
    expect(decodeJwt(t.token).exp).toBe(Math.floor(Date.parse(t.expiresAt) / 1000));
    expect((await client(reg.app, t.token).get("/-/whoami")).status).toBe(200);

    const list = (await (await client(reg.app, login).get("/api/v1/admin/tokens")).json()) as {
      tokens: Array<{ id: string; expiresAt: string }>;
    };
    expect(list.tokens.find((x) => x.id === t.id)?.expiresAt).toBe(t.expiresAt);

    const days = (await (await create({ expiresInDays: 7 }, login)).json()) as {
      expiresAt: string;
    };
    expect(Date.parse(days.expiresAt) - Date.now()).toBeGreaterThan(7 * DAY - 10_000);
    const dflt = (await (await create({}, login)).json()) as { expiresAt: string };
    expect(Date.parse(dflt.expiresAt) - Date.now()).toBeGreaterThan(30 * DAY - 10_000);
    expect(Date.parse(dflt.expiresAt) - Date.now()).toBeLessThanOrEqual(30 * DAY);
  });

  it("refuses a caller with no credential or a bad one", async () => {
    await expectError(await create({ expiresIn: "15m" }), 401, "UNAUTHORIZED");
    await expectError(await create({ expiresIn: "15m" }, "a.b.c"), 401, "UNAUTHORIZED");
  });

  it("refuses callers who may not mint that token: a CI token, a maintainer asking for admin", async () => {
    const ci = (await (await create({ expiresIn: "15m" }, login)).json()) as { token: string };
    const byCi = await expectError(await create({ expiresIn: "15m" }, ci.token), 403, "FORBIDDEN");
    expect(byCi.error).toContain("CI token cannot create tokens");
    // A person signed in to the dashboard (not an admin) asking for an admin token.
    const internal = { authorization: `Bearer ${reg.runtime.secrets.internalApi}` };
    const signIn = await client(reg.app).post(
      "/api/v1/admin/sessions",
      { provider: "github", subject: "mo-1", email: null, emailVerified: false, name: "mo" },
      internal,
    );
    expect(signIn.status).toBe(201);
    const { session } = (await signIn.json()) as { session: string };
    const asMo = await client(reg.app).post(
      "/api/v1/admin/tokens",
      { name: "x", role: "admin", expiresIn: "15m" },
      { ...internal, "x-packr-session": session },
    );
    expect((await expectError(asMo, 403, "FORBIDDEN")).error).toContain("admin");
  });

  it("refuses too short, too long and malformed expiries with a sentence naming the range", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { expiresIn: "4m" },
        'A token may live from 5 minutes to 90 days; expiresIn "4m" is too short.',
      ],
      [
        { expiresIn: "2s" },
        'A token may live from 5 minutes to 90 days; expiresIn "2s" is too short.',
      ],
      [
        { expiresIn: "91d" },
        'A token may live from 5 minutes to 90 days; expiresIn "91d" is too long.',
      ],
      [
        { expiresInDays: 365 },
        "A token may live from 5 minutes to 90 days; expiresInDays 365 days is too long.",
      ],
      [
        { expiresInDays: 0 },
        "expiresInDays is a whole number of days, at least 1; a token may live from 5 minutes to 90 days.",
      ],
      [
        { expiresIn: "soon" },
        'expiresIn "soon" is not a duration: write a number with a unit (15m, 2h, 7d), from 5 minutes to 90 days.',
      ],
      [{ expiresIn: "15 minutes" }, "is not a duration"],
      [{ expiresIn: "" }, "is not a duration"],
      [{ expiresIn: "15m", expiresInDays: 1 }, "not both"],
      [{ expiresIn: 1.5 }, 'expiresIn "1.5" is not a duration'],
      [{ expiresIn: "9".repeat(200) }, "is not a duration"],
      [{ expiresIn: true }, "expiresIn"],
    ];
    for (const [body, sentence] of cases) {
      const err = await expectError(await create(body, login), 400, "VALIDATION");
      expect(err.error, JSON.stringify(body)).toContain(sentence);
    }
  });
});

describe("a real short-lived token (PACKR_TOKEN_MIN_TTL=1s)", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await createTestRegistry({ PACKR_TOKEN_MIN_TTL: "1s" });
  });
  afterAll(async () => reg.close());

  it("works for its 2 seconds, then every request is told it expired and when", async () => {
    const login = await reg.login("admin", "admin-password-1");
    const res = await client(reg.app, login).post("/api/v1/admin/tokens", {
      name: "two-seconds",
      role: "ci-readonly",
      expiresIn: "2s",
    });
    expect(res.status).toBe(201);
    const t = (await res.json()) as { token: string; expiresAt: string };
    expect((await client(reg.app, t.token).get("/-/whoami")).status).toBe(200);

    const exp = decodeJwt(t.token).exp ?? 0;
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 300));
    const sentence = `Your token expired on ${new Date(exp * 1000).toISOString()}.`;
    for (const path of ["/-/whoami", "/api/v1/admin/me"]) {
      const err = await expectError(await client(reg.app, t.token).get(path), 401, "TOKEN_EXPIRED");
      expect(err.error, path).toContain(sentence);
    }
    // Still refused below the new minimum.
    const short = await expectError(
      await client(reg.app, login).post("/api/v1/admin/tokens", {
        name: "x",
        role: "ci-readonly",
        expiresIn: "500ms",
      }),
      400,
      "VALIDATION",
    );
    expect(short.error).toBe(
      'A token may live from 1 second to 90 days; expiresIn "500ms" is too short.',
    );
  });
});
