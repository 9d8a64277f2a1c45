/**
 * What the webhook delivery routes refuse: no credential, a revoked or forged token, a CI token,
 * another user's hook (404, as for a hook that does not exist), an org hook for a member who is
 * not its admin, a malformed cursor or limit, an unknown delivery, and hostile path input.
 */
import { newId, schema } from "@packr/core";
import { tokenContext } from "@packr/core/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

let reg: TestRegistry;
let alice: string;
let bob: string;
let aliceCi: string;
let aliceHook: string;
let orgHook: string;
const HOOKS = "/api/v1/admin/webhooks";

const calls = (id: string) => [
  { method: "POST", path: `${HOOKS}/${id}/test` },
  { method: "GET", path: `${HOOKS}/${id}/deliveries` },
  { method: "GET", path: `${HOOKS}/${id}/deliveries/dlv_nope` },
  { method: "POST", path: `${HOOKS}/${id}/deliveries/msg_nope/redeliver` },
];
const send = (call: { method: string; path: string }, token?: string) =>
  reg.app.request(call.path, {
    method: call.method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

beforeAll(async () => {
  reg = await createTestRegistry({
    PACKR_WEBHOOK_ALLOW_HTTP: "true",
    PACKR_WEBHOOK_ALLOW_PRIVATE: "true",
  });
  const deps = reg.runtime.deps;
  alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
  bob = (await tokenContext(deps, { user: "bob", role: "maintainer" })).token;
  aliceCi = (await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" })).token;
  const a = client(reg.app, alice);
  expect((await a.post("/api/v1/admin/orgs", { name: "acme" })).status).toBe(201);
  expect(
    (await a.post("/api/v1/admin/orgs/acme/members", { user: "bob", role: "maintainer" })).status,
  ).toBe(201);
  const idOf = async (name: string) =>
    (
      await deps.db
        .select({ id: schema.users.id })
        .from(schema.users)
        .where(eq(schema.users.name, name))
    )[0]?.id ?? "";
  const [org] = await deps.db
    .select({ id: schema.orgs.id })
    .from(schema.orgs)
    .where(eq(schema.orgs.name, "acme"));
  aliceHook = newId("whk");
  orgHook = newId("whk");
  await deps.db.insert(schema.webhooks).values([
    {
      id: aliceHook,
      userId: await idOf("alice"),
      url: "http://127.0.0.1:9/hook",
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      events: ["package.published"],
    },
    {
      id: orgHook,
      orgId: org?.id ?? "",
      url: "http://127.0.0.1:9/org",
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      events: ["org.member.added"],
    },
  ]);
});
afterAll(async () => reg.close());

describe("who may call the webhook delivery routes", () => {
  it("refuses every route without a credential, or with a revoked or forged token", async () => {
    const revoked = await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" });
    const { jti } = JSON.parse(
      Buffer.from(revoked.token.split(".")[1] ?? "", "base64url").toString(),
    );
    expect(
      (await client(reg.app, revoked.token).delete(`/api/v1/admin/tokens/${jti}`)).status,
    ).toBe(204);
    for (const call of calls(aliceHook)) {
      await expectError(await send(call), 401, "UNAUTHORIZED");
      await expectError(await send(call, revoked.token), 401, "TOKEN_REVOKED");
      expect((await send(call, "a.b.c")).status).toBe(401);
    }
  });

  it("refuses CI tokens, even the owner's (403)", async () => {
    for (const call of calls(aliceHook)) {
      const body = await expectError(await send(call, aliceCi), 403, "FORBIDDEN");
      expect(body.error).toMatch(/ci-publish token cannot manage webhooks/);
    }
  });

  it("answers 404 for another user's hook and for an org hook its non-admin member asks about", async () => {
    for (const id of [aliceHook, orgHook, "whk_doesnotexist", "x".repeat(150)]) {
      for (const call of calls(id)) {
        await expectError(await send(call, bob), 404, "NOT_FOUND");
      }
    }
    // Nothing was queued for anyone by the refused calls.
    const rows = await reg.runtime.deps.db.select().from(schema.webhookDeliveries);
    expect(rows).toHaveLength(0);
  });

  it("lets the org's admin in, and refuses unknown deliveries and malformed paging", async () => {
    const a = client(reg.app, alice);
    expect((await a.get(`${HOOKS}/${orgHook}/deliveries`)).status).toBe(200);
    await expectError(await a.get(`${HOOKS}/${aliceHook}/deliveries/dlv_nope`), 404, "NOT_FOUND");
    await expectError(
      await a.post(`${HOOKS}/${aliceHook}/deliveries/msg_nope/redeliver`, undefined),
      404,
      "NOT_FOUND",
    );
    for (const q of [
      "cursor=not-a-cursor!",
      "cursor=WzFd",
      "cursor=%00%01",
      "limit=0",
      "limit=101",
      "limit=abc",
    ]) {
      await expectError(await a.get(`${HOOKS}/${aliceHook}/deliveries?${q}`), 400, "VALIDATION");
    }
  });

  it("does not redeliver a delivery of another hook through this one", async () => {
    const a = client(reg.app, alice);
    const ping = await a.post(`${HOOKS}/${orgHook}/test`, undefined);
    expect(ping.status).toBe(202);
    const { deliveryId } = (await ping.json()) as { deliveryId: string };
    await reg.runJobs(); // port 9 refuses: the attempt fails
    await expectError(
      await a.post(`${HOOKS}/${aliceHook}/deliveries/${deliveryId}/redeliver`, undefined),
      404,
      "NOT_FOUND",
    );
  });
});
