/**
 * whoami, the registry/token precedence (flags > PACKR_REGISTRY/PACKR_TOKEN > .npmrc), logout,
 * --json on success and failure, and the exit code of each kind of failure.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loginToken, stopRegistry } from "@packr/registry/e2e/clients";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, deadRegistry, fails, jsonError, ok, readText } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
let alice: string;
let bob: string;
let admin: string;
let host: string;

beforeAll(async () => {
  box = await CliSandbox.create("session");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-cli-reg-"));
  [alice, bob] = (await seedTokens(dataDir, [
    { user: "alice", role: "maintainer", kind: "personal" },
    { user: "bob", role: "ci-readonly" },
  ])) as [string, string];
  registry = await startRegistryProcess({ dataDir });
  admin = await loginToken(registry.url, "admin", registry.adminPassword);
  host = new URL(registry.url).host;
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
});

describe("whoami", () => {
  it("prints the user of the token in ~/.npmrc, and --json carries it", async () => {
    const home = await box.home();
    await writeFile(
      path.join(home, ".npmrc"),
      `registry=${registry.url}/\n//${host}/:_authToken=${alice}\n`,
    );
    expect(ok(await cli(["whoami"], { home })).stdout.trim()).toBe("alice");
    const json = ok(await cli(["whoami", "--json"], { home })).json();
    expect(json).toEqual({ username: "alice", registry: `${registry.url}/`, tokenSource: "npmrc" });
  });

  it("takes --token over PACKR_TOKEN over .npmrc, and --registry over PACKR_REGISTRY over .npmrc", async () => {
    const home = await box.home();
    // .npmrc points at a port nobody listens on; the env and the flag must win over it.
    const dead = await deadRegistry();
    const deadHost = new URL(dead).host;
    await writeFile(
      path.join(home, ".npmrc"),
      `registry=${dead}/\n//${deadHost}/:_authToken=${alice}\n//${host}/:_authToken=${alice}\n`,
    );
    fails(await cli(["whoami"], { home }), 5, `Could not reach the registry at ${dead}/`);

    const viaEnvRegistry = await cli(["whoami"], { home, env: { PACKR_REGISTRY: registry.url } });
    expect(ok(viaEnvRegistry).stdout.trim()).toBe("alice");
    const viaFlagRegistry = await cli(["whoami", "--registry", registry.url], {
      home,
      env: { PACKR_REGISTRY: dead },
    });
    expect(ok(viaFlagRegistry).stdout.trim()).toBe("alice");

    const viaEnvToken = await cli(["whoami", "--registry", registry.url], {
      home,
      env: { PACKR_TOKEN: bob },
    });
    expect(ok(viaEnvToken).stdout.trim()).toBe("bob");
    const viaFlagToken = await cli(["whoami", "--registry", registry.url, "--token", admin], {
      home,
      env: { PACKR_TOKEN: bob },
    });
    expect(ok(viaFlagToken).stdout.trim()).toBe("admin");
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR}, as config files hold it
  it("reads the project .npmrc before ~/.npmrc, expanding ${VAR} the way npm does", async () => {
    const home = await box.home();
    await writeFile(path.join(home, ".npmrc"), `registry=${await deadRegistry()}/\n`);
    const project = await box.dir("project", {
      "package.json": '{"name":"app","version":"1.0.0"}\n',
      ".npmrc": `@acme:registry=${registry.url}/\n//${host}/:_authToken=\${MY_TOKEN}\n`,
    });
    const nested = path.join(project, "src");
    await mkdir(nested);
    const r = await cli(["whoami", "--json"], { home, cwd: nested, env: { MY_TOKEN: bob } });
    expect(ok(r).json()).toMatchObject({ username: "bob", registry: `${registry.url}/` });
  });
});

describe("failures: message and exit code", () => {
  it("no token at all: auth (3), saying how to log in", async () => {
    const home = await box.home();
    const r = await cli(["whoami", "--registry", registry.url], { home });
    fails(r, 3, `Not logged in to ${registry.url}/`, "packr-cli login");
    const j = jsonError(await cli(["whoami", "--registry", registry.url, "--json"], { home }));
    expect(j).toEqual({
      error: expect.stringContaining("Not logged in"),
      code: "NOT_LOGGED_IN",
      status: null,
      exitCode: 3,
    });
  });

  it("a token the registry refuses: auth (3) with the registry's error sentence", async () => {
    const home = await box.home();
    const r = await cli(["whoami", "--registry", registry.url, "--token", "not-a-jwt"], { home });
    fails(r, 3, "Your token is not valid for this registry", "(token from --token)");
    const j = jsonError(
      await cli(["whoami", "--registry", registry.url, "--token", "x", "--json"], { home }),
    );
    expect(j.status).toBe(401);
    expect(j.exitCode).toBe(3);
    expect(j.code).toBe("UNAUTHORIZED");
  });

  it("an unreachable registry: network (5)", async () => {
    const home = await box.home();
    const r = await cli(
      ["whoami", "--registry", await deadRegistry(), "--token", alice, "--json"],
      {
        home,
      },
    );
    expect(r.code).toBe(5);
    expect(jsonError(r)).toMatchObject({ code: "NETWORK", exitCode: 5 });
    expect(jsonError(r).error).toContain("ECONNREFUSED");
  });

  it("usage mistakes: usage (2), with --json a JSON error too", async () => {
    const home = await box.home();
    fails(await cli(["whoami", "--bogus"], { home }), 2, "unknown option '--bogus'");
    fails(await cli(["frobnicate"], { home }), 2, "unknown command 'frobnicate'");
    fails(await cli(["whoami", "--registry", "ftp://x"], { home }), 2, "must be an http(s) URL");
    fails(
      await cli(["token", "create", "ci"], { home }),
      2,
      "required option '--role <role>' not specified",
    );
    fails(
      await cli(["token", "create", "ci", "--role", "god"], { home }),
      2,
      "Allowed choices are ci-readonly, ci-publish, maintainer, admin",
    );
    fails(
      await cli(["token", "create", "ci", "--role", "ci-publish", "--expires", "soon"], { home }),
      2,
      "--expires takes a lifetime such as 15m, 2h, 30d, 12w or 1y",
    );
    fails(await cli(["init"], { home }), 2, "required option '--scope <scope>' not specified");
    fails(
      await cli(["init", "--scope", "@Not Valid"], { home }),
      2,
      "--scope must be an npm scope",
    );
    fails(
      await cli(["login", "--provider", "myspace"], { home }),
      2,
      "Allowed choices are github, google",
    );
    const j = jsonError(await cli(["whoami", "--bogus", "--json"], { home }));
    expect(j).toMatchObject({ code: "USAGE", exitCode: 2 });
    expect(j.error).toContain("unknown option '--bogus'");
  });

  it("--help of every command shows examples and exits 0", async () => {
    const home = await box.home();
    for (const command of [
      [],
      ["login"],
      ["logout"],
      ["whoami"],
      ["token"],
      ["token", "create"],
      ["token", "list"],
      ["token", "revoke"],
      ["init"],
      ["publish"],
    ]) {
      const r = ok(await cli([...command, "--help"], { home }));
      expect(r.stdout, command.join(" ")).toContain("Examples:\n  $ packr-cli");
      expect(r.stdout).not.toContain("\x1b["); // no colour off a terminal
    }
  });
});

describe("logout", () => {
  it("revokes the token, removes only its line from ~/.npmrc, and the token is refused after", async () => {
    const [token] = (await seedTokensLive()) as [string];
    const home = await box.home();
    const before = `; my settings\ncolor=false\n//${host}/:_authToken=${token}\n//other.example/:_authToken=keep-me\n`;
    await writeFile(path.join(home, ".npmrc"), before);
    const r = ok(await cli(["logout", "--registry", registry.url, "--json"], { home }));
    expect(r.json()).toEqual({
      registry: `${registry.url}/`,
      revoked: true,
      removedFrom: path.join(home, ".npmrc"),
    });
    expect(await readText(path.join(home, ".npmrc"))).toBe(
      "; my settings\ncolor=false\n//other.example/:_authToken=keep-me\n",
    );
    fails(
      await cli(["whoami", "--registry", registry.url, "--token", token], { home }),
      3,
      "revoked",
    );
    // Logged out already: nothing to revoke with.
    fails(await cli(["logout", "--registry", registry.url], { home }), 3, "Not logged in");
  });
});

/** A fresh login token for admin (the only user with a password seeded by the harness). */
async function seedTokensLive(): Promise<string[]> {
  return [await loginToken(registry.url, "admin", registry.adminPassword)];
}
