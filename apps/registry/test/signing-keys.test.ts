/**
 * Key rotation for `npm audit signatures`: the admin API lists every key and retires old ones;
 * `/-/npm/v1/keys` then serves the retired key with its `expires`. What it must refuse: no
 * credential, a non-admin, the key in use, unknown keys, malformed bodies.
 */
import { generateKeyPairSync } from "node:crypto";
import { RegistrySigner, registerSigningKey } from "@packr/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

type Keys = { current: string; keys: { keyid: string; expires: string | null }[] };

describe("signing keys admin API", () => {
  let reg: TestRegistry;
  let admin: string;
  let old: RegistrySigner;

  beforeAll(async () => {
    reg = await createTestRegistry();
    admin = await reg.login("admin", ADMIN_PASSWORD);
    // The key a previous configuration signed with, as a restart with a new PACKR_SIGNING_KEY leaves it.
    old = new RegistrySigner(
      generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString(),
    );
    await registerSigningKey(reg.runtime.deps.db, old.key);
  });
  afterAll(async () => reg.close());

  it("lists every key with the one in use, and retires an old one (served with expires)", async () => {
    const listed = (await (
      await client(reg.app, admin).get("/api/v1/admin/signing-keys")
    ).json()) as Keys;
    expect(listed.current).toBe(reg.runtime.deps.signer.key.keyid);
    expect(listed.keys.map((k) => k.keyid).sort()).toEqual([listed.current, old.key.keyid].sort());

    const at = "2026-11-30T12:00:00.000Z";
    const res = await client(reg.app, admin).post(
      `/api/v1/admin/signing-keys/${encodeURIComponent(old.key.keyid)}/retire`,
      { at },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { expires: string }).expires).toBe(at);
    const served = (await (await client(reg.app).get("/-/npm/v1/keys")).json()) as Keys;
    expect(served.keys.find((k) => k.keyid === old.key.keyid)?.expires).toBe(at);
    expect(served.keys.find((k) => k.keyid === listed.current)?.expires).toBeNull();
  });

  it("refuses strangers, non-admins, the key in use, unknown keys and malformed bodies", async () => {
    const path = `/api/v1/admin/signing-keys/${encodeURIComponent(old.key.keyid)}/retire`;
    await expectError(await client(reg.app).get("/api/v1/admin/signing-keys"), 401, "UNAUTHORIZED");
    await expectError(await client(reg.app).post(path, {}), 401, "UNAUTHORIZED");
    const created = (await (
      await client(reg.app, admin).post("/api/v1/admin/tokens", {
        name: "maint",
        role: "maintainer",
        kind: "personal",
      })
    ).json()) as { token: string };
    await expectError(
      await client(reg.app, created.token).get("/api/v1/admin/signing-keys"),
      403,
      "FORBIDDEN",
    );
    await expectError(await client(reg.app, created.token).post(path, {}), 403, "FORBIDDEN");
    const current = encodeURIComponent(reg.runtime.deps.signer.key.keyid);
    await expectError(
      await client(reg.app, admin).post(`/api/v1/admin/signing-keys/${current}/retire`, {}),
      409,
      "CONFLICT",
    );
    await expectError(
      await client(reg.app, admin).post("/api/v1/admin/signing-keys/SHA256:nope/retire", {}),
      404,
      "NOT_FOUND",
    );
    for (const body of [{ at: "yesterday" }, { at: 5 }, { extra: true }, "not json"]) {
      await expectError(await client(reg.app, admin).post(path, body), 400, "VALIDATION");
    }
  });
});
