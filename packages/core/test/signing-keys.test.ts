import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistrySigner } from "../src/signing/registry-signer.ts";
import {
  listSigningKeys,
  registerSigningKey,
  retireSigningKey,
} from "../src/signing/signing-keys.ts";
import { createTestDeps, type TestDeps, testDrivers, tokenContext } from "../src/testing/index.ts";

const newSigner = () =>
  new RegistrySigner(
    generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString(),
  );

describe.each(testDrivers())("signing keys, on %s", (driver) => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps(driver);
  });
  afterAll(async () => deps.close());

  it("serves every registered key once, and a retired key with its expiry", async () => {
    const rotated = newSigner();
    await registerSigningKey(deps.db, rotated.key);
    await registerSigningKey(deps.db, rotated.key); // a restart with the same key
    await registerSigningKey(deps.db, deps.signer.key);
    const keys = await listSigningKeys(deps.db);
    expect(keys.map((k) => k.keyid).sort()).toEqual(
      [deps.signer.key.keyid, rotated.key.keyid].sort(),
    );
    expect(keys.find((k) => k.keyid === rotated.key.keyid)).toEqual(rotated.key);

    const at = new Date("2026-12-01T00:00:00.000Z");
    const admin = await tokenContext(deps, { user: "root", role: "admin", isAdmin: true });
    const maintainer = await tokenContext(deps, { user: "m", role: "maintainer" });
    await expect(
      retireSigningKey({ ctx: maintainer, input: { keyid: rotated.key.keyid, at } }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      retireSigningKey({ ctx: admin, input: { keyid: deps.signer.key.keyid } }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    await retireSigningKey({ ctx: admin, input: { keyid: rotated.key.keyid, at } });
    const after = await listSigningKeys(deps.db);
    expect(after.find((k) => k.keyid === rotated.key.keyid)?.expires).toBe(at.toISOString());
    expect(after.find((k) => k.keyid === deps.signer.key.keyid)?.expires).toBeNull();
    await expect(
      retireSigningKey({ ctx: admin, input: { keyid: "SHA256:nope", at } }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
