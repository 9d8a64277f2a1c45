import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimiter } from "../src/auth/rate-limiter.ts";
import type { ServiceContext } from "../src/context.ts";
import { deviceCodes, oauthAccounts, users } from "../src/db/schema/index.ts";
import { authorizeDevice } from "../src/device/authorize-device.ts";
import { decideDeviceCode, describeDeviceCode } from "../src/device/device-decisions.ts";
import { pollDevice } from "../src/device/poll-device.ts";
import { normalizeUserCode, USER_CODE_ALPHABET } from "../src/device/user-code.ts";
import { authenticateSession } from "../src/sessions/authenticate-session.ts";
import { createSession } from "../src/sessions/create-session.ts";
import { endSession } from "../src/sessions/end-session.ts";
import { createTestDeps, type TestDeps, testDrivers } from "../src/testing/index.ts";
import { failure } from "./helpers.ts";

describe.each(testDrivers())("sessions and the device flow on %s", (driver) => {
  let deps: TestDeps;
  let system: ServiceContext;
  let clock: number;
  const at = (ctx: ServiceContext, ip = "10.0.0.1"): ServiceContext => ({
    ...ctx,
    ip,
    deps: { ...ctx.deps, now: () => new Date(clock) },
  });
  beforeAll(async () => {
    deps = await createTestDeps(driver);
    system = { deps, actor: { type: "system", reason: "dashboard" }, requestId: "t" };
    clock = Date.now();
  });
  afterAll(async () => deps.close());

  const signIn = async (subject: string, email: string | null, verified = true) => {
    const s = await createSession({
      ctx: system,
      input: { provider: "github", subject, email, emailVerified: verified, name: "Gina Hub" },
    });
    return {
      ...s,
      ctx: { deps, requestId: "t", actor: await authenticateSession(deps, s.session) },
    };
  };

  it("creates a user on first sign-in, finds it again by (provider, subject), links by verified email", async () => {
    const first = await signIn("gh-1", "gina@example.test");
    expect(first.createdUser).toBe(true);
    expect(first.user).toMatchObject({ name: "gina", email: "gina@example.test", isAdmin: false });
    const again = await signIn("gh-1", "other@example.test");
    expect(again.user.id).toBe(first.user.id);
    const google = await createSession({
      ctx: system,
      input: {
        provider: "google",
        subject: "g-9",
        email: "GINA@example.test",
        emailVerified: true,
        name: null,
      },
    });
    expect(google.user.id).toBe(first.user.id);
    // An unverified address never links: a new user, with a unique name.
    const stranger = await signIn("gh-2", "gina@example.test", false);
    expect(stranger.user.id).not.toBe(first.user.id);
    expect(stranger.user.name).toBe("gina-2");
    expect(stranger.user.email).toBeNull();
    const links = await deps.db
      .select()
      .from(oauthAccounts)
      .where(eq(oauthAccounts.userId, first.user.id));
    expect(links.map((l) => l.provider).sort()).toEqual(["github", "google"]);
  });

  it("refuses forged, expired and signed-out sessions, and non-internal creators", async () => {
    const s = await signIn("gh-3", null);
    const [id, mac] = s.session.split(".");
    expect(
      (
        await failure(
          authenticateSession(deps, `${id}.${mac?.replace(/^./, (c) => (c === "A" ? "B" : "A"))}`),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
    expect((await failure(authenticateSession(deps, `ses_other.${mac}`))).code).toBe(
      "UNAUTHORIZED",
    );
    expect((await failure(authenticateSession(deps, "garbage"))).code).toBe("UNAUTHORIZED");
    const later = { ...deps, now: () => new Date(s.expiresAt.getTime() + 1000) };
    expect((await failure(authenticateSession(later, s.session))).code).toBe("UNAUTHORIZED");
    await endSession({ ctx: s.ctx });
    expect((await failure(authenticateSession(deps, s.session))).code).toBe("UNAUTHORIZED");
    expect(
      (
        await failure(
          createSession({
            ctx: s.ctx,
            input: {
              provider: "github",
              subject: "x",
              email: null,
              emailVerified: false,
              name: null,
            },
          }),
        )
      ).code,
    ).toBe("FORBIDDEN");
  });

  it("runs RFC 8628: pending, slow_down that lengthens the interval, approval, single use", async () => {
    const person = await signIn("gh-4", "dev@example.test");
    const auth = await authorizeDevice({ ctx: at(system), input: { provider: "github" } });
    expect(auth.userCode).toMatch(
      new RegExp(`^[${USER_CODE_ALPHABET}]{4}-[${USER_CODE_ALPHABET}]{4}$`),
    );
    expect(auth.verificationUriComplete).toBe(
      `http://dashboard.test/cli/auth?code=${auth.userCode}`,
    );
    expect(auth.interval).toBe(5);
    const poll = (ctx = at(system)) =>
      pollDevice({ ctx, input: { deviceCode: auth.deviceCode, enforceInterval: true } });
    expect(await poll()).toEqual({ status: "pending", interval: 5 });
    expect(await poll()).toEqual({ status: "slow_down", interval: 10 });
    clock += 6_000; // the old interval is no longer enough
    expect(await poll()).toEqual({ status: "slow_down", interval: 15 });
    clock += 15_000;
    expect(await poll()).toEqual({ status: "pending", interval: 15 });

    const view = await describeDeviceCode({
      ctx: at(person.ctx),
      input: { userCode: auth.userCode.toLowerCase().replace("-", " ") },
    });
    expect(view).toMatchObject({ status: "pending", client: "packr-cli", provider: "github" });
    await expect(
      decideDeviceCode({ ctx: at(person.ctx), input: { userCode: auth.userCode, approve: true } }),
    ).resolves.toEqual({ status: "approved" });
    clock += 15_000;
    const done = await poll();
    expect(done.status).toBe("approved");
    if (done.status !== "approved") return;
    expect(done.username).toBe(person.user.name);
    await expect(deps.tokens.verify(done.token)).resolves.toMatchObject({ tokenKind: "login" });
    clock += 15_000;
    expect(await poll()).toEqual({ status: "invalid" });
    expect(
      (
        await failure(
          decideDeviceCode({
            ctx: at(person.ctx),
            input: { userCode: auth.userCode, approve: true },
          }),
        )
      ).code,
    ).toBe("CONFLICT");
  });

  it("denied, expired and wrong codes", async () => {
    const person = await signIn("gh-5", null);
    const denied = await authorizeDevice({ ctx: at(system), input: {} });
    await decideDeviceCode({
      ctx: at(person.ctx),
      input: { userCode: denied.userCode, approve: false },
    });
    expect(
      await pollDevice({
        ctx: at(system),
        input: { deviceCode: denied.deviceCode, enforceInterval: true },
      }),
    ).toEqual({ status: "denied" });

    const expiring = await authorizeDevice({ ctx: at(system), input: {} });
    clock += 601_000;
    expect(
      await pollDevice({
        ctx: at(system),
        input: { deviceCode: expiring.deviceCode, enforceInterval: true },
      }),
    ).toEqual({ status: "expired" });
    const expired = await failure(
      describeDeviceCode({ ctx: at(person.ctx), input: { userCode: expiring.userCode } }),
    );
    const wrong = await failure(
      describeDeviceCode({ ctx: at(person.ctx), input: { userCode: "BBBB-BBBB" } }),
    );
    const garbage = await failure(
      describeDeviceCode({ ctx: at(person.ctx), input: { userCode: "not a code" } }),
    );
    expect([expired.code, wrong.code, garbage.code]).toEqual([
      "NOT_FOUND",
      "NOT_FOUND",
      "NOT_FOUND",
    ]);
    expect(expired.message).toBe(wrong.message);
    expect(garbage.message).toBe(wrong.message);
    expect(
      (
        await failure(
          decideDeviceCode({
            ctx: at(person.ctx),
            input: { userCode: expiring.userCode, approve: true },
          }),
        )
      ).message,
    ).toBe(wrong.message);
    expect(
      await pollDevice({
        ctx: at(system),
        input: { deviceCode: "made-up", enforceInterval: true },
      }),
    ).toEqual({ status: "invalid" });
    // Without a session nobody may look codes up or approve them.
    expect(
      (await failure(describeDeviceCode({ ctx: at(system), input: { userCode: wrong.message } })))
        .code,
    ).toBe("UNAUTHORIZED");
  });

  it("rate-limits authorizations per address and lookups per person", async () => {
    const limited = { ...deps, rateLimiter: new RateLimiter() };
    const ctx = (ip: string): ServiceContext => ({ ...system, deps: limited, ip });
    for (let i = 0; i < 20; i++) await authorizeDevice({ ctx: ctx("10.9.9.9"), input: {} });
    const err = await failure(authorizeDevice({ ctx: ctx("10.9.9.9"), input: {} }));
    expect(err.code).toBe("RATE_LIMITED");
    await expect(authorizeDevice({ ctx: ctx("10.9.9.8"), input: {} })).resolves.toBeTruthy();

    const person = await signIn("gh-6", null);
    const p = { ...person.ctx, deps: limited };
    for (let i = 0; i < 30; i++)
      await failure(describeDeviceCode({ ctx: p, input: { userCode: "BBBB-BBBC" } }));
    expect(
      (await failure(describeDeviceCode({ ctx: p, input: { userCode: "BBBB-BBBC" } }))).code,
    ).toBe("RATE_LIMITED");
  });

  it("sweeps codes that died more than a day ago when new ones are made", async () => {
    const old = await authorizeDevice({ ctx: at(system, "10.7.0.1"), input: {} });
    clock += 2 * 86400_000;
    await authorizeDevice({ ctx: at(system, "10.7.0.1"), input: {} });
    const left = await deps.db
      .select()
      .from(deviceCodes)
      .where(eq(deviceCodes.userCode, old.userCode));
    expect(left).toHaveLength(0);
  });

  it("normalizes what people type", () => {
    expect(normalizeUserCode("bcdf ghjk")).toBe("BCDF-GHJK");
    expect(normalizeUserCode("BCDFGHJK")).toBe("BCDF-GHJK");
    expect(normalizeUserCode("ABCD-EFGH")).toBeNull(); // vowels are not in the alphabet
    expect(normalizeUserCode("BCDF-GHJ")).toBeNull();
  });

  it("users created through sign-in have no password", async () => {
    const [row] = await deps.db.select().from(users).where(eq(users.name, "gina"));
    expect(row?.passwordHash).toBeNull();
  });
});
