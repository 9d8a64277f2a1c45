/**
 * Short-lived tokens: the expiry a creation asks for (a duration or days) within the configured
 * range, and the refusal once it has passed, seen on a test clock instead of waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { createTestDeps, type TestDeps, tokenContext } from "../src/testing/index.ts";
import { createNpmToken } from "../src/tokens/create-npm-token.ts";
import { createToken } from "../src/tokens/create-token.ts";
import { failure } from "./helpers.ts";

const MIN = 60_000;
const DAY = 86_400_000;

describe("token expiry", () => {
  let clock = new Date("2026-03-01T12:00:00.000Z");
  let deps: TestDeps;
  let maint: ServiceContext & { token: string };
  beforeAll(async () => {
    deps = await createTestDeps("pglite", undefined, { now: () => clock });
    maint = await tokenContext(deps, { user: "mia", role: "maintainer", kind: "login" });
  });
  afterAll(async () => deps.close());

  it("a 15-minute token works until it expires, then is refused saying when it expired", async () => {
    const start = clock.getTime();
    const t = await createToken({
      ctx: maint,
      input: { name: "job-42", role: "ci-readonly", expiresIn: "15m" },
    });
    expect(t.expiresAt.toISOString()).toBe(new Date(start + 15 * MIN).toISOString());
    await expect(deps.tokens.verify(t.token)).resolves.toMatchObject({ tokenId: t.id });

    clock = new Date(start + 14 * MIN);
    await expect(deps.tokens.verify(t.token)).resolves.toMatchObject({ tokenId: t.id });

    clock = new Date(start + 16 * MIN);
    const err = await failure(deps.tokens.verify(t.token));
    expect(err.code).toBe("TOKEN_EXPIRED");
    expect(err.message).toBe(
      `Your token expired on ${t.expiresAt.toISOString()}. Log in again (npm login) or create a new token.`,
    );
    // An anonymous request carrying it is told the same when it needs authentication.
    const actor = await deps.tokens.authenticate(t.token);
    expect(actor.type === "anonymous" && actor.authError?.code).toBe("TOKEN_EXPIRED");
  });

  it("takes durations in every unit and the older expiresInDays; defaults to 30 days", async () => {
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ expiresIn: "5m" }, 5 * MIN],
      [{ expiresIn: "300s" }, 5 * MIN],
      [{ expiresIn: "2h" }, 2 * 60 * MIN],
      [{ expiresIn: "7d" }, 7 * DAY],
      [{ expiresIn: "90d" }, 90 * DAY],
      [{ expiresIn: String(20 * MIN) }, 20 * MIN],
      [{ expiresIn: 20 * MIN }, 20 * MIN],
      [{ expiresInDays: 7 }, 7 * DAY],
      [{}, 30 * DAY],
    ];
    for (const [expiry, ms] of cases) {
      const t = await createToken({
        ctx: maint,
        input: { name: "x", role: "ci-readonly", ...expiry },
      });
      expect(t.expiresAt.getTime() - t.createdAt.getTime(), JSON.stringify(expiry)).toBe(ms);
    }
  });

  it("refuses too short, too long, malformed or doubled expiries with a sentence naming the range", async () => {
    const refusals: Array<[Record<string, unknown>, string]> = [
      [
        { expiresIn: "4m" },
        'A token may live from 5 minutes to 90 days; expiresIn "4m" is too short.',
      ],
      [
        { expiresIn: "91d" },
        'A token may live from 5 minutes to 90 days; expiresIn "91d" is too long.',
      ],
      [
        { expiresIn: "1" },
        'A token may live from 5 minutes to 90 days; expiresIn "1" is too short.',
      ],
      [
        { expiresIn: "soon" },
        'expiresIn "soon" is not a duration: write a number with a unit (15m, 2h, 7d), from 5 minutes to 90 days.',
      ],
      [{ expiresIn: "-5m" }, "is not a duration"],
      [{ expiresIn: "1.5h" }, "is not a duration"],
      [
        { expiresInDays: 91 },
        "A token may live from 5 minutes to 90 days; expiresInDays 91 days is too long.",
      ],
      [{ expiresInDays: 0 }, "expiresInDays is a whole number of days, at least 1"],
      [{ expiresInDays: 1.5 }, "expiresInDays is a whole number of days, at least 1"],
      [{ expiresIn: "15m", expiresInDays: 1 }, "not both"],
      [{ expiresIn: 900 }, 'expiresIn "900" is too short'],
      [{ expiresIn: true }, "expiresIn"],
    ];
    for (const [expiry, sentence] of refusals) {
      const err = await failure(
        // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
        createToken({ ctx: maint, input: { name: "x", role: "ci-readonly", ...expiry } as any }),
      );
      expect(err.code, JSON.stringify(expiry)).toBe("VALIDATION");
      expect(err.message, JSON.stringify(expiry)).toContain(sentence);
    }
  });

  it("npm token create's --expires is days, within the same range", async () => {
    const one = await createNpmToken({ ctx: maint, input: { body: { expires: 1 } } });
    expect(Date.parse(one.expires) - Date.parse(one.created)).toBe(DAY);
    const long = await failure(createNpmToken({ ctx: maint, input: { body: { expires: 365 } } }));
    expect(long.code).toBe("VALIDATION");
    expect(long.message).toBe(
      "A token may live from 5 minutes to 90 days; --expires 365 days is too long.",
    );
    const zero = await failure(createNpmToken({ ctx: maint, input: { body: { expires: 0 } } }));
    expect(zero.message).toContain("--expires is a whole number of days, at least 1");
  });
});

describe("a lower ceiling", () => {
  it("is the default when it is shorter than 30 days, and a day may then be too long", async () => {
    const deps = await createTestDeps("pglite", undefined, {
      tokenTtl: { minMs: 1000, maxMs: 60 * MIN },
    });
    try {
      const ctx = await tokenContext(deps, { user: "kim", role: "maintainer", kind: "login" });
      const t = await createToken({ ctx, input: { name: "x", role: "ci-readonly" } });
      expect(t.expiresAt.getTime() - t.createdAt.getTime()).toBe(60 * MIN);
      const short = await createToken({
        ctx,
        input: { name: "y", role: "ci-readonly", expiresIn: "2s" },
      });
      expect(short.expiresAt.getTime() - short.createdAt.getTime()).toBe(2000);
      const err = await failure(createNpmToken({ ctx, input: { body: { expires: 1 } } }));
      expect(err.message).toBe(
        "A token may live from 1 second to 1 hour; --expires 1 day is too long.",
      );
    } finally {
      await deps.close();
    }
  });
});
