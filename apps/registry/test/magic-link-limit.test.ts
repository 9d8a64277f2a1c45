import { tokenContext } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

/** POST /api/v1/admin/magic-links: the dashboard counts each sign-in mail here before sending it. */
describe("sign-in mail limits", () => {
  let reg: TestRegistry;
  let internal: Record<string, string>;
  const ask = (body: unknown, headers: Record<string, string> = internal) =>
    client(reg.app).post("/api/v1/admin/magic-links", body, headers);

  beforeAll(async () => {
    reg = await createTestRegistry();
    internal = { authorization: `Bearer ${reg.runtime.secrets.internalApi}` };
  });
  afterAll(async () => reg.close());

  it("allows 3 links per email address in 15 minutes, then refuses with when to retry", async () => {
    for (let i = 0; i < 3; i++) {
      // Case and spacing do not make a new address.
      const email = i === 1 ? "Flood@Example.test" : "flood@example.test";
      expect((await ask({ email, ip: `198.51.100.${i}` })).status).toBe(204);
    }
    const res = await ask({ email: "flood@example.test", ip: "198.51.100.9" });
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(15 * 60);
    const err = await expectError(res, 429, "RATE_LIMITED");
    expect(err.error).toMatch(/Too many sign-in links were asked for this email address/);
    expect(err.error).toMatch(/Wait 15 minutes/);
    // Another address is not affected.
    expect((await ask({ email: "other@example.test", ip: "198.51.100.9" })).status).toBe(204);
  });

  it("allows 20 links per client address in an hour, whatever the target addresses", async () => {
    const ip = "203.0.113.7";
    for (let i = 0; i < 20; i++) {
      expect((await ask({ email: `spray-${i}@example.test`, ip })).status).toBe(204);
    }
    const err = await expectError(
      await ask({ email: "spray-new@example.test", ip }),
      429,
      "RATE_LIMITED",
    );
    expect(err.error).toMatch(/from your network address/);
    // A refused request counted nothing against the target address.
    expect((await ask({ email: "spray-new@example.test", ip: "203.0.113.8" })).status).toBe(204);
  });

  it("answers only the dashboard server (internal secret)", async () => {
    await expectError(await ask({ email: "a@example.test" }, {}), 401, "UNAUTHORIZED");
    await expectError(
      await ask({ email: "a@example.test" }, { authorization: "Bearer not-the-secret" }),
      401,
      "UNAUTHORIZED",
    );
    const { token } = await tokenContext(reg.runtime.deps, { user: "mallory", role: "admin" });
    const res = await ask({ email: "a@example.test" }, { authorization: `Bearer ${token}` });
    expect([401, 403]).toContain(res.status);
    expect(res.status).not.toBe(204);
  });

  it("refuses malformed bodies with 400", async () => {
    for (const body of [
      {},
      { email: "not-an-email" },
      { email: "a@example.test", ip: "x".repeat(65) },
      "{",
    ]) {
      const res = await ask(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });

  it("is described in /openapi.json", async () => {
    const doc = (await (await reg.app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const op = doc.paths["/api/v1/admin/magic-links"]?.post;
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual(["204", "400", "401", "429"]);
  });
});
