/**
 * Logging in with the real npm: `npm ping`, `npm whoami` with a token from `POST /-/v1/login`, the
 * shape of that token, and `npm login --auth-type=legacy` through the registry's 409 path.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RegistryProcess, startRegistryProcess } from "../test/harness.ts";
import {
  Clients,
  clientEnv,
  describeRun,
  expectFailure,
  expectSuccess,
  jwtClaims,
  makeProject,
  npmrc,
  runWithPty,
  stopRegistry,
} from "./clients.ts";

// Client runs time out on their own (120 s) with their output; the test allows several of them.
vi.setConfig({ testTimeout: 300_000 });

let registry: RegistryProcess;
let clients: Clients;

beforeAll(async () => {
  clients = await Clients.create("auth");
  registry = await startRegistryProcess();
});

afterAll(async () => {
  await stopRegistry(registry);
  await clients?.cleanup();
});

describe("token login and npm ping / whoami", () => {
  let token: string;
  let loginBody: { token: string; username: string; expires: string };

  it("POST /-/v1/login returns a 30-day JWT carrying the documented claims", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await fetch(`${registry.url}/-/v1/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "admin", password: registry.adminPassword }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    loginBody = JSON.parse(text);
    token = loginBody.token;
    expect(token.split(".")).toHaveLength(3);

    const claims = jwtClaims(token);
    for (const claim of ["org_id", "user_id", "permissions", "scopes", "jti", "exp", "iat"]) {
      expect(claims, `claim ${claim} missing from ${JSON.stringify(claims)}`).toHaveProperty(claim);
    }
    expect(typeof claims.user_id).toBe("string");
    expect(typeof claims.jti).toBe("string");
    expect(claims.permissions).toEqual(expect.arrayContaining(["read", "publish"]));
    expect(Array.isArray(claims.scopes)).toBe(true);
    const iat = claims.iat as number;
    const exp = claims.exp as number;
    expect(Math.abs(iat - before)).toBeLessThan(60);
    expect(Math.abs(exp - iat - 30 * 24 * 3600)).toBeLessThan(60);
    expect(loginBody.username).toBe("admin");
    expect(Math.abs(Date.parse(loginBody.expires) / 1000 - exp)).toBeLessThan(2);
  });

  it("a wrong password is refused with 401", async () => {
    const res = await fetch(`${registry.url}/-/v1/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "admin", password: "not-the-password" }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toContain(
      "Incorrect username or password",
    );
  });

  it("npm ping answers PONG and npm whoami prints admin with that token in .npmrc", async () => {
    const dir = await makeProject(clients, "whoami", {
      manifest: { name: "whoami-probe", version: "0.0.0", private: true },
      npmrc: npmrc(registry.url, token),
    });
    const ping = expectSuccess(await clients.npm(["ping"], { cwd: dir }));
    expect(ping.output, describeRun(ping)).toContain("PONG");
    expect(ping.output, describeRun(ping)).toContain(`${registry.url}/`);

    const whoami = expectSuccess(await clients.npm(["whoami"], { cwd: dir }));
    expect(whoami.stdout.trim(), describeRun(whoami)).toBe("admin");
  });

  it("npm whoami with a token the registry never issued fails with E401", async () => {
    // (Without any token npm refuses client-side with ENEEDAUTH and never asks the registry.)
    const dir = await makeProject(clients, "bad-whoami", {
      manifest: { name: "whoami-bad", version: "0.0.0", private: true },
      npmrc: npmrc(registry.url, "not-a-packr-token"),
    });
    const r = await clients.npm(["whoami"], { cwd: dir });
    expectFailure(
      r,
      "E401",
      "your authentication token seems to be invalid",
      "npm notice Your token",
    );
    const direct = await fetch(`${registry.url}/-/whoami`, {
      headers: { authorization: "Bearer not-a-packr-token" },
    });
    expect(direct.status).toBe(401);
    expect(direct.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await direct.json()) as { error: string }).error).toContain(
      "not valid for this registry",
    );
  });
});

describe("npm login --auth-type=legacy", () => {
  it("an existing user is answered 409, then the GET + PUT /-rev/ with Basic auth logs in (HTTP)", async () => {
    // The exact sequence npm-profile's loginCouch sends (protocol §4.1), replayed with fetch.
    const userUrl = `${registry.url}/-/user/org.couchdb.user:admin`;
    const body = {
      _id: "org.couchdb.user:admin",
      name: "admin",
      password: registry.adminPassword,
      type: "user",
      roles: [],
      date: new Date().toISOString(),
    };
    const first = await fetch(userUrl, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const firstText = await first.text();
    expect(first.status, firstText).toBe(409);
    expect(JSON.parse(firstText).error).toContain("already exists");

    const doc = await fetch(`${userUrl}?write=true`);
    const docText = await doc.text();
    expect(doc.status, docText).toBe(200);
    const rev = (JSON.parse(docText) as { _rev: string })._rev;
    expect(rev).toBeTruthy();

    const basic = Buffer.from(`admin:${registry.adminPassword}`).toString("base64");
    const second = await fetch(`${userUrl}/-rev/${encodeURIComponent(rev)}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Basic ${basic}` },
      body: JSON.stringify({ ...body, _rev: rev }),
    });
    const secondText = await second.text();
    expect(second.status, secondText).toBe(201);
    const { token } = JSON.parse(secondText) as { token: string };
    const whoami = await fetch(`${registry.url}/-/whoami`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await whoami.json()).toEqual({ username: "admin" });
  });

  it("the real npm login (through a pty) stores a token in HOME/.npmrc, and npm whoami uses it", async () => {
    const sandbox = await clients.sandbox();
    const cwd = await clients.dir("login-cwd");
    const registryArg = `--registry=${registry.url}/`;
    const login = await runWithPty(["npm", "login", "--auth-type=legacy", registryArg], {
      cwd,
      env: clientEnv(sandbox.home, { npm_config_cache: sandbox.cache }),
      answers: [
        { prompt: /Username:/i, reply: "admin" },
        { prompt: /Password:/i, reply: registry.adminPassword },
      ],
    });
    expect(login.code, describeRun(login)).toBe(0);
    expect(login.output, describeRun(login)).toContain(`Logged in on ${registry.url}/`);

    const userNpmrc = await readFile(path.join(sandbox.home, ".npmrc"), "utf8");
    const host = new URL(registry.url).host;
    const match = new RegExp(`^//${host.replace(/\./g, "\\.")}/:_authToken=(.+)$`, "m").exec(
      userNpmrc,
    );
    expect(match, `no token for ${host} in ~/.npmrc:\n${userNpmrc}`).not.toBeNull();
    const stored = match?.[1]?.trim() ?? "";
    const claims = jwtClaims(stored);
    expect(claims.kind).toBe("login");
    expect((claims.exp as number) - (claims.iat as number)).toBe(30 * 24 * 3600);

    const whoami = await clients.npm(["whoami", registryArg], { cwd, sandbox });
    expectSuccess(whoami);
    expect(whoami.stdout.trim(), describeRun(whoami)).toBe("admin");
  });

  it("the real npm adduser of a new name is refused on a closed registry (the default), saying why", async () => {
    const sandbox = await clients.sandbox();
    const cwd = await clients.dir("adduser-closed");
    const run = await runWithPty(
      ["npm", "adduser", "--auth-type=legacy", `--registry=${registry.url}/`],
      {
        cwd,
        env: clientEnv(sandbox.home, { npm_config_cache: sandbox.cache }),
        answers: [
          { prompt: /Username:/i, reply: "newcomer" },
          { prompt: /Password:/i, reply: "newcomer-password-1" },
          { prompt: /Email.*:/i, reply: "newcomer@acme.test" },
        ],
      },
    );
    expectFailure(run, "E403", "creates accounts by invitation only (PACKR_SIGNUP=closed)");
    const userNpmrc = await readFile(path.join(sandbox.home, ".npmrc"), "utf8").catch(() => "");
    expect(userNpmrc).not.toContain("_authToken");
    expect((await fetch(`${registry.url}/-/user/org.couchdb.user:newcomer`)).status).toBe(404);
  });

  it("npm login with a wrong password fails and stores nothing", async () => {
    const sandbox = await clients.sandbox();
    const cwd = await clients.dir("login-bad");
    const login = await runWithPty(
      ["npm", "login", "--auth-type=legacy", `--registry=${registry.url}/`],
      {
        cwd,
        env: clientEnv(sandbox.home, { npm_config_cache: sandbox.cache }),
        answers: [
          { prompt: /Username:/i, reply: "admin" },
          { prompt: /Password:/i, reply: "wrong-password-9" },
        ],
      },
    );
    // npm words a 401 from WWW-Authenticate alone; the login routes challenge for Basic, so npm
    // tells a person who mistyped a password exactly that.
    expectFailure(login, "E401", "Incorrect or missing password");
    const userNpmrc = await readFile(path.join(sandbox.home, ".npmrc"), "utf8").catch(() => "");
    expect(userNpmrc).not.toContain("_authToken");

    // The registry's own answer to that last PUT (what npm does not show).
    const userUrl = `${registry.url}/-/user/org.couchdb.user:admin`;
    const doc = (await (await fetch(`${userUrl}?write=true`)).json()) as { _rev: string };
    const res = await fetch(`${userUrl}/-rev/${doc._rev}`, {
      method: "PUT",
      headers: {
        "content-type": "application/json",
        authorization: `Basic ${Buffer.from("admin:wrong-password-9").toString("base64")}`,
      },
      body: JSON.stringify({ name: "admin", password: "wrong-password-9", _rev: doc._rev }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe("Incorrect username or password.");
  });
});
