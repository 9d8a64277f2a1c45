/**
 * What the webhook management routes must refuse: no credential, revoked or forged tokens, CI
 * tokens, another user's hook (404, never a hint it exists), an org's hook for a member who is not
 * its admin, malformed bodies, unknown events, bad scopes, and — with PACKR_WEBHOOK_ALLOW_PRIVATE
 * and PACKR_WEBHOOK_ALLOW_HTTP off, the defaults — every SSRF target at save.
 */
import { tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

let reg: TestRegistry;
let alice: string; // admin of @acme
let bob: string; // maintainer in @acme
let carol: string; // not a member
let aliceCiRead: string;
let aliceCiPublish: string;
let userHook: string; // alice's
let orgHook: string; // @acme's

const BASE = "/api/v1/admin/webhooks";
const PUBLIC = "https://93.184.216.34/hooks/packr";

type Call = { method: string; path: string; body?: unknown };

function send(call: Call, token?: string) {
  return reg.app.request(call.path, {
    method: call.method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(call.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(call.body !== undefined
      ? { body: typeof call.body === "string" ? call.body : JSON.stringify(call.body) }
      : {}),
  });
}
const label = (c: Call) => `${c.method} ${c.path}`;
const hookCalls = (id: string): Call[] => [
  { method: "GET", path: `${BASE}/${id}` },
  { method: "PATCH", path: `${BASE}/${id}`, body: { url: "https://93.184.216.35/evil" } },
  { method: "DELETE", path: `${BASE}/${id}` },
];

beforeAll(async () => {
  // The defaults: https only, public addresses only.
  reg = await createTestRegistry();
  const deps = reg.runtime.deps;
  alice = (await tokenContext(deps, { user: "alice", role: "maintainer" })).token;
  bob = (await tokenContext(deps, { user: "bob", role: "maintainer" })).token;
  carol = (await tokenContext(deps, { user: "carol", role: "maintainer" })).token;
  aliceCiRead = (await tokenContext(deps, { user: "alice", role: "ci-readonly", kind: "ci" }))
    .token;
  aliceCiPublish = (await tokenContext(deps, { user: "alice", role: "ci-publish", kind: "ci" }))
    .token;
  const a = client(reg.app, alice);
  expect((await a.post("/api/v1/admin/orgs", { name: "acme" })).status).toBe(201);
  expect(
    (await a.post("/api/v1/admin/orgs/acme/members", { user: "bob", role: "maintainer" })).status,
  ).toBe(201);
  const u = await a.post(BASE, { url: PUBLIC, events: ["package.published"] });
  expect(u.status).toBe(201);
  userHook = ((await u.json()) as { webhook: { id: string } }).webhook.id;
  const o = await a.post(BASE, { url: PUBLIC, events: ["org.member.added"], orgSlug: "acme" });
  expect(o.status).toBe(201);
  orgHook = ((await o.json()) as { webhook: { id: string } }).webhook.id;
});
afterAll(async () => reg.close());

describe("who may call the webhook routes", () => {
  it("refuses every route without a credential, or with a revoked or forged token", async () => {
    const all: Call[] = [
      { method: "GET", path: BASE },
      { method: "POST", path: BASE, body: { url: PUBLIC, events: ["package.published"] } },
      ...hookCalls(userHook),
    ];
    const revoked = (await tokenContext(reg.runtime.deps, { user: "alice", role: "maintainer" }))
      .token;
    const { jti } = JSON.parse(Buffer.from(revoked.split(".")[1] ?? "", "base64url").toString());
    expect((await client(reg.app, revoked).delete(`/api/v1/admin/tokens/${jti}`)).status).toBe(204);
    for (const call of all) {
      await expectError(await send(call), 401, "UNAUTHORIZED").catch((e) => {
        throw new Error(`${label(call)}: ${e.message}`);
      });
      await expectError(await send(call, revoked), 401, "TOKEN_REVOKED");
      expect((await send(call, "a.b.c")).status, label(call)).toBe(401);
    }
    expect((await send({ method: "GET", path: `${BASE}/${userHook}` }, alice)).status).toBe(200);
  });

  it("refuses CI tokens (read-only and publish) every route, even their owner's hooks", async () => {
    for (const token of [aliceCiRead, aliceCiPublish]) {
      for (const call of [
        { method: "GET", path: BASE },
        { method: "POST", path: BASE, body: { url: PUBLIC, events: ["package.published"] } },
        ...hookCalls(userHook),
      ]) {
        const body = await expectError(await send(call, token), 403, "FORBIDDEN");
        expect(body.error, label(call)).toMatch(/managing webhooks needs a person/);
      }
    }
  });

  it("answers 404 for another user's hook, exactly as for one that does not exist", async () => {
    for (const token of [bob, carol]) {
      for (const call of hookCalls(userHook)) {
        const body = await expectError(await send(call, token), 404, "NOT_FOUND");
        expect(body.error).toMatch(/There is no webhook .* that you manage/);
      }
      expect(await (await send({ method: "GET", path: BASE }, token)).json()).toEqual({
        webhooks: [],
      });
    }
    const missing = await expectError(
      await send({ method: "GET", path: `${BASE}/whk_doesnotexist` }, alice),
      404,
      "NOT_FOUND",
    );
    const hidden = await expectError(
      await send({ method: "GET", path: `${BASE}/${userHook}` }, carol),
      404,
      "NOT_FOUND",
    );
    expect(hidden.error.replace(userHook, "X")).toBe(
      missing.error.replace("whk_doesnotexist", "X"),
    );
    // The hook survived every attempt unchanged.
    const still = (await (
      await send({ method: "GET", path: `${BASE}/${userHook}` }, alice)
    ).json()) as {
      webhook: { url: string };
    };
    expect(still.webhook.url).toBe(PUBLIC);
  });

  it("keeps an org's hooks from members who are not its admins (403 on the list, 404 by id) and non-members (404)", async () => {
    await expectError(
      await send({ method: "GET", path: `${BASE}?org=acme` }, bob),
      403,
      "FORBIDDEN",
    );
    await expectError(
      await send(
        {
          method: "POST",
          path: BASE,
          body: { url: PUBLIC, events: ["org.member.added"], orgSlug: "acme" },
        },
        bob,
      ),
      403,
      "FORBIDDEN",
    );
    for (const call of hookCalls(orgHook))
      await expectError(await send(call, bob), 404, "NOT_FOUND");
    await expectError(
      await send({ method: "GET", path: `${BASE}?org=acme` }, carol),
      404,
      "NOT_FOUND",
    );
    await expectError(
      await send(
        {
          method: "POST",
          path: BASE,
          body: { url: PUBLIC, events: ["org.member.added"], orgSlug: "acme" },
        },
        carol,
      ),
      404,
      "NOT_FOUND",
    );
    for (const call of hookCalls(orgHook))
      await expectError(await send(call, carol), 404, "NOT_FOUND");
    await expectError(
      await send({ method: "GET", path: `${BASE}?org=nowhere` }, alice),
      404,
      "NOT_FOUND",
    );
  });
});

describe("what a hook must be", () => {
  const create = (body: unknown) => send({ method: "POST", path: BASE, body }, alice);

  it("refuses malformed bodies", async () => {
    for (const body of [
      "{not json",
      "[]",
      {},
      { url: PUBLIC },
      { events: ["package.published"] },
      { url: 42, events: ["package.published"] },
      { url: PUBLIC, events: "package.published" },
      { url: PUBLIC, events: ["package.published"], secret: 1234567890123456 },
      { url: PUBLIC, events: ["package.published"], extra: true },
      { url: PUBLIC, events: ["package.published"], secret: "too-short" },
      { url: PUBLIC, events: ["package.published"], orgSlug: "Not A Slug!" },
    ]) {
      await expectError(await create(body), 400, "VALIDATION").catch((e) => {
        throw new Error(`${JSON.stringify(body)}: ${e.message}`);
      });
    }
    for (const body of [{}, { active: "yes" }, { events: [] }, { url: "" }, { nope: 1 }]) {
      await expectError(
        await send({ method: "PATCH", path: `${BASE}/${userHook}`, body }, alice),
        400,
        "VALIDATION",
      ).catch((e) => {
        throw new Error(`PATCH ${JSON.stringify(body)}: ${e.message}`);
      });
    }
  });

  it("refuses no events, unknown events and ping, naming the events there are", async () => {
    for (const events of [
      [],
      ["package.exploded"],
      ["ping"],
      ["package.published", "x".repeat(90)],
    ]) {
      const body = await expectError(await create({ url: PUBLIC, events }), 400, "VALIDATION");
      expect(body.error).toContain("org.member.role_changed");
    }
  });

  it("refuses bad scopes", async () => {
    for (const scope of ["@", "@acme/", "@acme/a/b", "@ac*", "has space", "x".repeat(300)]) {
      const body = await expectError(
        await create({ url: PUBLIC, events: ["package.published"], scope }),
        400,
        "VALIDATION",
      );
      expect(body.error, scope).toMatch(/not a valid webhook scope/);
    }
  });

  it("refuses every private, loopback, link-local or reserved target, however it is spelled", async () => {
    const cases: Array<[string, RegExp]> = [
      ["https://127.0.0.1/hook", /resolves to 127\.0\.0\.1/],
      ["https://[::1]/hook", /resolves to ::1/],
      ["https://10.0.0.1/hook", /resolves to 10\.0\.0\.1/],
      ["https://169.254.169.254/latest/meta-data/", /resolves to 169\.254\.169\.254/],
      ["https://0.0.0.0/hook", /resolves to 0\.0\.0\.0/],
      ["https://2130706433/hook", /resolves to 127\.0\.0\.1/],
      ["https://0177.0.0.1/hook", /resolves to 127\.0\.0\.1/],
      ["https://0x7f.1/hook", /resolves to 127\.0\.0\.1/],
      ["https://[::ffff:127.0.0.1]/hook", /private, loopback/],
      ["https://100.64.0.1/hook", /private, loopback/],
      ["https://192.168.1.1/hook", /private, loopback/],
      ["https://[fd00::1]/hook", /private, loopback/],
      ["https://localhost/hook", /"localhost" resolves to (127\.0\.0\.1|::1)/],
      [
        "http://93.184.216.34/hook",
        /must use https: \(http: targets are allowed only with PACKR_WEBHOOK_ALLOW_HTTP/,
      ],
      ["file:///etc/passwd", /must use https:/],
      ["https://user:pass@93.184.216.34/hook", /must not carry a user name or password/],
      ["not a url", /is not a URL/],
      [`https://93.184.216.34/${"x".repeat(2048)}`, /at most 2048/],
    ];
    for (const [url, why] of cases) {
      const body = await expectError(
        await create({ url, events: ["package.published"] }),
        400,
        "VALIDATION",
      ).catch((e) => {
        throw new Error(`${url}: ${e.message}`);
      });
      expect(body.error, url).toMatch(why);
    }
    // And when a URL is changed.
    for (const url of ["https://127.0.0.1/x", "https://2130706433/x", "http://93.184.216.34/x"]) {
      await expectError(
        await send({ method: "PATCH", path: `${BASE}/${userHook}`, body: { url } }, alice),
        400,
        "VALIDATION",
      );
    }
    // Nothing of it was saved.
    const list = (await (await send({ method: "GET", path: BASE }, alice)).json()) as {
      webhooks: Array<{ url: string }>;
    };
    expect(list.webhooks.map((w) => w.url)).toEqual([PUBLIC]);
  });
});
