/**
 * npm's spellings of the token subcommands (`token ls`, `token rm`/`delete`/`remove`), usage
 * errors under --json as one clean sentence with commander's guesses apart, and a 401 that says
 * how to get a working token (packr-cli login).
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { loginToken, stopRegistry } from "@packr/registry/e2e/clients";
import { type RegistryProcess, startRegistryProcess } from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, jsonError, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
let admin: string;
let host: string;

beforeAll(async () => {
  box = await CliSandbox.create("aliases");
  registry = await startRegistryProcess();
  admin = await loginToken(registry.url, "admin", registry.adminPassword);
  host = new URL(registry.url).host;
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
});

/** A HOME whose ~/.npmrc points at the registry with the admin's token. */
async function adminHome(): Promise<string> {
  const home = await box.home();
  await writeFile(
    path.join(home, ".npmrc"),
    `registry=${registry.url}/\n//${host}/:_authToken=${admin}\n`,
  );
  return home;
}

type Listed = { tokens: { id: string; name: string; revokedAt: string | null }[] };

describe("token subcommands under npm's names", () => {
  it("token ls lists what token list lists", async () => {
    const home = await adminHome();
    const created = ok(
      await cli(["token", "create", "for-ls", "--role", "ci-readonly", "--json"], { home }),
    ).json() as { id: string };
    const ls = ok(await cli(["token", "ls", "--json"], { home })).json() as Listed;
    const list = ok(await cli(["token", "list", "--json"], { home })).json() as Listed;
    expect(ls.tokens.map((t) => t.id)).toEqual(list.tokens.map((t) => t.id));
    expect(ls.tokens.some((t) => t.id === created.id)).toBe(true);
    expect(ok(await cli(["token", "ls"], { home })).stdout).toMatch(/^ID\s+NAME\s+ROLE/);
  });

  it("token rm, delete and remove revoke like token revoke; an unknown id is not-found (4)", async () => {
    const home = await adminHome();
    for (const verb of ["rm", "delete", "remove"]) {
      const created = ok(
        await cli(["token", "create", `by-${verb}`, "--role", "ci-readonly", "--json"], { home }),
      ).json() as { id: string; token: string };
      expect(ok(await cli(["token", verb, created.id, "--json"], { home })).json()).toEqual({
        id: created.id,
        revoked: true,
      });
      const after = ok(await cli(["token", "ls", "--json"], { home })).json() as Listed;
      expect(after.tokens.find((t) => t.id === created.id)?.revokedAt).toEqual(expect.any(String));
      // The revoked token no longer works, and the message says how to get a new one.
      fails(
        await cli(["whoami", "--registry", registry.url, "--token", created.token], { home }),
        3,
        `Run packr-cli login --registry ${registry.url}/`,
      );
    }
    expect(
      jsonError(await cli(["token", "rm", "tok_doesnotexist", "--json"], { home })),
    ).toMatchObject({
      status: 404,
      exitCode: 4,
    });
  });

  it("token rm without an id is a usage error (2)", async () => {
    const home = await adminHome();
    const j = jsonError(await cli(["token", "rm", "--json"], { home }));
    expect(j).toEqual({
      error: "missing required argument 'id'.",
      code: "USAGE",
      status: null,
      exitCode: 2,
    });
  });
});

describe("usage errors under --json", () => {
  it("an unknown subcommand: one sentence, no newline, the guesses in `suggestions`", async () => {
    const home = await box.home();
    const r = await cli(["token", "lst", "--json"], { home });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    // Exactly one line on stderr, and it is the JSON error.
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    const j = jsonError(r);
    expect(j).toEqual({
      error: "unknown command 'lst'.",
      code: "USAGE",
      status: null,
      exitCode: 2,
      suggestions: ["list", "ls"],
    });
    expect(j.error).not.toContain("\n");
    expect(j.error).not.toContain("Did you mean");
  });

  it("an unknown option: the option it guessed; with nothing to guess, no `suggestions`", async () => {
    const home = await box.home();
    expect(jsonError(await cli(["token", "list", "--alll", "--json"], { home }))).toEqual({
      error: "unknown option '--alll'.",
      code: "USAGE",
      status: null,
      exitCode: 2,
      suggestions: ["--all"],
    });
    const none = jsonError(await cli(["zzzzzz", "--json"], { home }));
    expect(none).toEqual({
      error: "unknown command 'zzzzzz'.",
      code: "USAGE",
      status: null,
      exitCode: 2,
    });
  });

  it("without --json the human text still carries commander's guess", async () => {
    const home = await box.home();
    fails(await cli(["token", "lst"], { home }), 2, "unknown command 'lst'", "Did you mean");
  });
});

describe("401: how to get a token that works", () => {
  it("a refused token from ~/.npmrc names the file and says to run packr-cli login", async () => {
    const home = await box.home();
    await writeFile(
      path.join(home, ".npmrc"),
      `registry=${registry.url}/\n//${host}/:_authToken=not-a-token\n`,
    );
    const r = await cli(["token", "ls"], { home });
    fails(r, 3, path.join(home, ".npmrc"), `Run packr-cli login --registry ${registry.url}/`);
    const j = jsonError(await cli(["token", "ls", "--json"], { home }));
    expect(j).toMatchObject({ code: "UNAUTHORIZED", status: 401, exitCode: 3 });
    expect(j.error).toContain(`Run packr-cli login --registry ${registry.url}/`);
    expect(j.error).not.toContain("\n");
  });

  it("a refused token from PACKR_TOKEN says so, and to log in", async () => {
    const home = await box.home();
    const r = await cli(["whoami", "--registry", registry.url, "--json"], {
      home,
      env: { PACKR_TOKEN: "expired-or-wrong" },
    });
    const j = jsonError(r);
    expect(j.status).toBe(401);
    expect(j.error).toContain("PACKR_TOKEN");
    expect(j.error).toContain("packr-cli login");
  });
});
