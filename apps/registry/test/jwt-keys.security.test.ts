import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ensureAdminUser, jwtKeyId, loadConfig, TOKEN_AUDIENCE } from "@packr/core";
import { decodeJwt, decodeProtectedHeader, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type RegistryApp } from "../src/app.ts";
import { createRuntime, type Runtime } from "../src/runtime.ts";
import { ADMIN_PASSWORD } from "./harness.ts";
import { client, expectError } from "./http.ts";

const OLD_SECRET = "the-secret-before-rotation-0123456789";
const NEW_SECRET = "the-secret-after-rotation-9876543210";

/**
 * A registry over one embedded database kept in a data dir, so it can be stopped and started
 * again with other secrets: what an operator does when rotating JWT_SECRET.
 */
async function boot(dataDir: string, env: Record<string, string>) {
  const config = loadConfig({
    PACKR_DATA_DIR: dataDir,
    PACKR_PUBLIC_URL: "http://registry.test",
    PACKR_LOG_LEVEL: "silent",
    PACKR_UPLINK_URL: "",
    PACKR_RUN_JOBS: "false",
    DATABASE_URL: "",
    ...env,
  });
  const runtime = await createRuntime(config);
  await ensureAdminUser(
    { deps: runtime.deps, actor: { type: "system", reason: "test" }, requestId: "test" },
    ADMIN_PASSWORD,
  );
  return { runtime, app: createApp(runtime) };
}

const login = async (app: RegistryApp) => {
  const res = await app.request("/-/v1/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "admin", password: ADMIN_PASSWORD }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
};

const whoami = (app: RegistryApp, token: string) => client(app, token).get("/-/whoami");

/** Re-sign a real token's claims with other header/claims (the jti has a row, so only the signature decides). */
const resign = (
  token: string,
  opts: {
    secret?: string;
    kid?: string | null;
    aud?: string | null;
    alg?: "HS256" | "HS512";
  },
) => {
  const { aud: _aud, ...claims } = decodeJwt(token) as JWTPayload;
  const payload: JWTPayload =
    opts.aud === null ? claims : { ...claims, aud: opts.aud ?? TOKEN_AUDIENCE };
  const header: { alg: string; kid?: string } = { alg: opts.alg ?? "HS256" };
  if (opts.kid !== null) header.kid = opts.kid ?? jwtKeyId(opts.secret ?? NEW_SECRET);
  return new SignJWT(payload)
    .setProtectedHeader(header)
    .sign(new TextEncoder().encode(opts.secret ?? NEW_SECRET));
};

describe("JWT keys: kid, audience and rotation of JWT_SECRET", () => {
  let dataDir: string;
  let before: { runtime: Runtime; app: RegistryApp } | undefined;
  let after: { runtime: Runtime; app: RegistryApp };
  let oldToken: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-jwt-"));
    before = await boot(dataDir, { JWT_SECRET: OLD_SECRET });
    oldToken = await login(before.app);
    await before.runtime.close();
    before = undefined;
    // The restart an operator does to rotate: a new current secret, the old one retired.
    after = await boot(dataDir, { JWT_SECRET: NEW_SECRET, JWT_PREVIOUS_SECRETS: OLD_SECRET });
  });
  afterAll(async () => {
    await before?.runtime.close();
    await after?.runtime.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("signs with a kid that names the key without revealing it, and a fixed audience", async () => {
    const header = decodeProtectedHeader(oldToken);
    expect(header).toMatchObject({ alg: "HS256", typ: "JWT", kid: jwtKeyId(OLD_SECRET) });
    expect(header.kid).not.toContain(OLD_SECRET.slice(0, 8));
    expect(decodeJwt(oldToken)).toMatchObject({ aud: TOKEN_AUDIENCE, iss: "packr" });
    const fresh = await login(after.app);
    expect(decodeProtectedHeader(fresh).kid).toBe(jwtKeyId(NEW_SECRET));
    expect((await whoami(after.app, fresh)).status).toBe(200);
  });

  it("still accepts a token signed with a previous secret after the rotation", async () => {
    const res = await whoami(after.app, oldToken);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { username: string }).username).toBe("admin");
  });

  it("refuses a token signed with an unknown secret, with or without a matching kid", async () => {
    const unknown = "a-secret-this-registry-never-had-000";
    for (const bad of [
      await resign(oldToken, { secret: unknown }),
      await resign(oldToken, { secret: unknown, kid: jwtKeyId(NEW_SECRET) }),
      await resign(oldToken, { secret: unknown, kid: null, aud: null }),
    ]) {
      await expectError(await whoami(after.app, bad), 401, "UNAUTHORIZED");
    }
  });

  it("refuses a token for another audience even with the right secret and kid", async () => {
    await expectError(
      await whoami(after.app, await resign(oldToken, { aud: "other" })),
      401,
      "UNAUTHORIZED",
    );
    // With a kid the audience is required, not optional.
    await expectError(
      await whoami(after.app, await resign(oldToken, { aud: null })),
      401,
      "UNAUTHORIZED",
    );
    // A kid-less token naming an audience is not a legacy Packr token either.
    await expectError(
      await whoami(after.app, await resign(oldToken, { kid: null, aud: "other" })),
      401,
      "UNAUTHORIZED",
    );
    // The control: the same claims with the right audience pass.
    expect((await whoami(after.app, await resign(oldToken, {}))).status).toBe(200);
  });

  it("accepts a token from before kid/aud existed, signed with a configured secret", async () => {
    for (const secret of [NEW_SECRET, OLD_SECRET]) {
      const legacy = await resign(oldToken, { secret, kid: null, aud: null });
      expect((await whoami(after.app, legacy)).status).toBe(200);
    }
  });

  it("refuses alg none, other HMACs and asymmetric algorithms (key confusion)", async () => {
    const [, body] = oldToken.split(".");
    const kid = jwtKeyId(NEW_SECRET);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const none = [
      `${b64({ alg: "none" })}.${body}.`,
      `${b64({ alg: "none", kid })}.${body}.`,
      `${b64({ alg: "none", kid, typ: "JWT" })}.${body}.AAAA`,
    ];
    for (const bad of none) await expectError(await whoami(after.app, bad), 401, "UNAUTHORIZED");
    await expectError(
      await whoami(after.app, await resign(oldToken, { alg: "HS512" })),
      401,
      "UNAUTHORIZED",
    );
    // RS256 signed with a private key whose public half an attacker could present as "the key".
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rs = await new SignJWT({ ...decodeJwt(oldToken) })
      .setProtectedHeader({ alg: "RS256", kid })
      .sign(privateKey);
    await expectError(await whoami(after.app, rs), 401, "UNAUTHORIZED");
  });
  it("refuses the old secret's tokens once it is no longer listed as previous", async () => {
    const fresh = await login(after.app);
    await after.runtime.close();
    // The next restart, after the old tokens' lifetime: the retired secret is dropped.
    after = await boot(dataDir, { JWT_SECRET: NEW_SECRET });
    await expectError(await whoami(after.app, oldToken), 401, "UNAUTHORIZED");
    await expectError(
      await whoami(after.app, await resign(oldToken, { secret: OLD_SECRET, kid: null, aud: null })),
      401,
      "UNAUTHORIZED",
    );
    expect((await whoami(after.app, fresh)).status).toBe(200);
  });
});
