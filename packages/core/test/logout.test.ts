import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, tokens } from "../src/db/schema/index.ts";
import { createTestDeps, type TestDeps, testDrivers, tokenContext } from "../src/testing/index.ts";
import { logout } from "../src/users/logout.ts";
import { anonymous, failure } from "./helpers.ts";

describe.each(testDrivers())("logout on %s", (driver) => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps(driver);
  });
  afterAll(async () => deps.close());

  const revokedAt = async (jti: string) =>
    (await deps.db.select().from(tokens).where(eq(tokens.id, jti)))[0]?.revokedAt ?? null;

  it("revokes the caller's own token at once, and again is still a success", async () => {
    const alice = await tokenContext(deps, { user: "alice", role: "maintainer" });
    const jti = alice.actor.type === "token" ? alice.actor.tokenId : "";
    expect(await logout({ ctx: alice, input: { token: alice.token } })).toEqual({
      ok: true,
      revoked: true,
    });
    expect(await revokedAt(jti)).toBeInstanceOf(Date);
    expect((await failure(deps.tokens.verify(alice.token))).code).toBe("TOKEN_REVOKED");
    // npm logout twice: the second request arrives with the revoked token, as an anonymous caller.
    const actor = await deps.tokens.authenticate(alice.token);
    expect(await logout({ ctx: { ...alice, actor }, input: { token: alice.token } })).toEqual({
      ok: true,
      revoked: false,
    });
    const audit = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "token.revoked"));
    expect(audit).toHaveLength(1);
    expect(audit[0]?.data).toMatchObject({ via: "logout", self: true });
  });

  it("revokes whatever live token it is given, whoever sends it: holding a token is the power to revoke it", async () => {
    // npm logout sends the token in the URL and, usually, as Authorization; a missing or
    // different header (or a leaked token reported by someone else) must not leave it live.
    const bob1 = await tokenContext(deps, { user: "bob", role: "maintainer" });
    const bob2 = await tokenContext(deps, { user: "bob", role: "ci-readonly", kind: "ci" });
    const bob3 = await tokenContext(deps, { user: "bob", role: "maintainer" });
    const carol = await tokenContext(deps, { user: "carol", role: "maintainer" });

    expect(await logout({ ctx: carol, input: { token: bob2.token } })).toEqual({
      ok: true,
      revoked: true,
    });
    expect((await failure(deps.tokens.verify(bob2.token))).code).toBe("TOKEN_REVOKED");
    expect((await logout({ ctx: anonymous(deps), input: { token: bob1.token } })).revoked).toBe(
      true,
    );
    expect((await failure(deps.tokens.verify(bob1.token))).code).toBe("TOKEN_REVOKED");
    expect((await logout({ ctx: bob3, input: { token: bob3.token } })).revoked).toBe(true);
    // The sender's own token is untouched.
    await deps.tokens.verify(carol.token);
    // The audit names the revoked token's owner as the actor, and who sent it when that differs.
    const bob2Id = bob2.actor.type === "token" ? bob2.actor.tokenId : "";
    const [event] = await deps.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.targetId, bob2Id));
    expect(event?.data).toMatchObject({ via: "logout", self: false, sentBy: "carol" });
  });

  it("answers well-formed tokens it does not know with success, and garbage with 400", async () => {
    const dave = await tokenContext(deps, { user: "dave", role: "maintainer" });
    const [h, p] = dave.token.split(".");
    const forged = `${h}.${p}.${"A".repeat(43)}`;
    expect(await logout({ ctx: dave, input: { token: forged } })).toEqual({
      ok: true,
      revoked: false,
    });
    expect(await logout({ ctx: anonymous(deps), input: { token: "aaa.bbb.ccc" } })).toMatchObject({
      revoked: false,
    });
    await deps.tokens.verify(dave.token);
    for (const token of ["not-a-token", "a.b", "a.b.c.d", "x".repeat(9000), "a.b.c d"]) {
      expect((await failure(logout({ ctx: dave, input: { token } }))).code).toBe("VALIDATION");
    }
  });
});
