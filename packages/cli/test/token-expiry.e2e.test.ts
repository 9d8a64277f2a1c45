/**
 * `packr-cli token create --expires <duration>` against a registry process: a 15-minute CI token,
 * shown with that expiry by `token list` (table and --json), and the registry's refusals of a
 * lifetime outside PACKR_TOKEN_MIN_TTL..PACKR_TOKEN_MAX_TTL reaching the user as its sentence.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describeRun, loginToken, npmrc, stopRegistry } from "@packr/registry/e2e/clients";
import { type RegistryProcess, startRegistryProcess } from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, jsonError, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
let home: string;

beforeAll(async () => {
  box = await CliSandbox.create("token-expiry");
  registry = await startRegistryProcess();
  home = await box.home();
  const admin = await loginToken(registry.url, "admin", registry.adminPassword);
  await writeFile(path.join(home, ".npmrc"), npmrc(registry.url, admin));
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
});

describe("token create --expires <duration>", () => {
  it("--expires 15m makes a token that lives 15 minutes, and token list shows when it expires", async () => {
    const before = Date.now();
    const created = ok(
      await cli(
        ["token", "create", "job-42", "--role", "ci-publish", "--expires", "15m", "--json"],
        { home },
      ),
    ).json() as { id: string; expiresAt: string };
    const lives = Date.parse(created.expiresAt) - before;
    expect(lives).toBeGreaterThan(15 * 60_000 - 2000);
    expect(lives).toBeLessThan(15 * 60_000 + 10_000);

    const listed = ok(await cli(["token", "list", "--json"], { home })).json() as {
      tokens: Array<{ id: string; expiresAt: string }>;
    };
    expect(listed.tokens.find((t) => t.id === created.id)?.expiresAt).toBe(created.expiresAt);

    // The table shows the expiry to the minute (a date alone would hide a 15-minute lifetime).
    const table = ok(await cli(["token", "list"], { home }));
    const shown = `${created.expiresAt.slice(0, 10)} ${created.expiresAt.slice(11, 16)}Z`;
    expect(table.stdout, describeRun(table)).toMatch(
      new RegExp(`${created.id}\\s+job-42\\s+ci-publish\\s.*${shown}\\s+active`),
    );

    const human = ok(
      await cli(["token", "create", "job-43", "--role", "ci-readonly", "--expires", "1h"], {
        home,
      }),
    );
    expect(human.stdout).toMatch(/, expires \d{4}-\d\d-\d\dT/);
  });

  it("a bare number is still days; the registry's range refusals come through as its sentence", async () => {
    const days = ok(
      await cli(["token", "create", "d", "--role", "ci-readonly", "--expires", "7", "--json"], {
        home,
      }),
    ).json() as { expiresAt: string };
    expect(Math.round((Date.parse(days.expiresAt) - Date.now()) / 86_400_000)).toBe(7);

    const short = await cli(
      ["token", "create", "s", "--role", "ci-readonly", "--expires", "2m", "--json"],
      { home },
    );
    expect(short.code, describeRun(short)).not.toBe(0);
    expect(jsonError(short)).toMatchObject({
      status: 400,
      error: 'A token may live from 5 minutes to 90 days; expiresIn "2m" is too short.',
    });
    const long = await cli(["token", "create", "l", "--role", "ci-readonly", "--expires", "1y"], {
      home,
    });
    expect(long.stderr, describeRun(long)).toContain(
      'A token may live from 5 minutes to 90 days; expiresIn "365d" is too long.',
    );
    fails(
      await cli(["token", "create", "m", "--role", "ci-readonly", "--expires", "soon"], { home }),
      2,
      "--expires takes a lifetime such as 15m",
    );
  });
});
