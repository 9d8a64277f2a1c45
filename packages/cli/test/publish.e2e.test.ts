/**
 * publish: the same document as `npm publish` of the same directory, then installed by npm; tags,
 * access, dry runs and npm's client-side refusals; and packr-cli itself published by packr-cli and
 * installed from the registry with npm, working with nothing else installed.
 */
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  Clients,
  describeRun,
  escapeName,
  expectSuccess,
  getJson,
  loginToken,
  npmrc,
  run,
  stopRegistry,
} from "@packr/registry/e2e/clients";
import {
  type RegistryProcess,
  seedTokens,
  startRegistryProcess,
} from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, cli, fails, jsonError, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
let clients: Clients;
let token: string;
let home: string;
let readonlyToken: string;
let otherScopeToken: string;

beforeAll(async () => {
  box = await CliSandbox.create("publish");
  clients = await Clients.create("cli-publish");
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "packr-cli-reg-"));
  [readonlyToken, otherScopeToken] = (await seedTokens(dataDir, [
    { user: "carol", role: "ci-readonly" },
    { user: "carol", role: "ci-publish", scopes: ["@other"] },
  ])) as [string, string];
  registry = await startRegistryProcess({ dataDir });
  token = await loginToken(registry.url, "admin", registry.adminPassword);
  home = await box.home();
  await writeFile(path.join(home, ".npmrc"), npmrc(registry.url, token));
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
  await clients?.cleanup();
});

/** A package directory: an index.js exporting `value`, a README, a bin, an ignored file. */
async function packageDir(manifest: Record<string, unknown>, value = "v"): Promise<string> {
  return box.dir(String(manifest.name).replace(/[@/]/g, "_"), {
    "package.json": `${JSON.stringify({ main: "index.js", license: "MIT", description: "test package", repository: "github:acme/widget", bin: { widget: "bin.js" }, ...manifest }, null, 2)}\n`,
    "index.js": `module.exports = ${JSON.stringify(value)};\n`,
    "bin.js": "#!/usr/bin/env node\nconsole.log(require('./index.js'));\n",
    "README.md": `# ${manifest.name}\n\nA package for tests.\n`,
    ".npmignore": "secret.txt\n",
    "secret.txt": "never published\n",
  });
}

async function packument(name: string): Promise<Record<string, unknown>> {
  const a = await getJson(registry.url, `/${escapeName(name)}`, token);
  expect(a.status, a.text).toBe(200);
  return a.json as Record<string, unknown>;
}

describe("publish", () => {
  it("stores what npm publish stores for the same directory, and npm installs it", async () => {
    const viaCli = await packageDir({ name: "@acme/twin-cli", version: "1.0.0" }, "from packr-cli");
    const viaNpm = await packageDir({ name: "@acme/twin-npm", version: "1.0.0" }, "from packr-cli");
    const r = ok(await cli(["publish"], { home, cwd: viaCli }));
    expect(r.stdout).toContain("+ @acme/twin-cli@1.0.0");
    expect(r.stdout).toContain(`Published to ${registry.url}/ with tag latest and default access`);
    expectSuccess(
      await clients.npm(
        [
          "publish",
          "--registry",
          `${registry.url}/`,
          `--//${new URL(registry.url).host}/:_authToken=${token}`,
        ],
        { cwd: viaNpm },
      ),
    );

    const a = (await packument("@acme/twin-cli")).versions as Record<
      string,
      Record<string, unknown>
    >;
    const b = (await packument("@acme/twin-npm")).versions as Record<
      string,
      Record<string, unknown>
    >;
    const va = a["1.0.0"] ?? {};
    const vb = b["1.0.0"] ?? {};
    // Everything but what carries the name (and the bytes, whose package.json holds the name).
    const strip = (v: Record<string, unknown>) => {
      const { name: _n, _id, dist, readme, _npmUser, ...rest } = v;
      return { ...rest, readme: String(readme).replace(/twin-(cli|npm)/g, "twin") };
    };
    expect(strip(va)).toEqual(strip(vb));
    expect(Object.keys(va).sort()).toEqual(Object.keys(vb).sort());
    expect(va.bin).toEqual({ widget: "bin.js" });
    expect(va.repository).toEqual({ type: "git", url: "git+https://github.com/acme/widget.git" });
    expect(Object.keys(va.dist as object).sort()).toEqual(Object.keys(vb.dist as object).sort());

    // Installed by npm from the registry: the code runs, the ignored file is absent.
    const consumer = await box.dir("consumer", {
      "package.json": '{"name":"consumer","version":"1.0.0","private":true}\n',
      ".npmrc": npmrc(registry.url, token),
    });
    expectSuccess(await clients.npm(["install", "@acme/twin-cli"], { cwd: consumer }));
    const out = await clients.nodeEval("console.log(require('@acme/twin-cli'))", { cwd: consumer });
    expect(out.stdout.trim(), describeRun(out)).toBe("from packr-cli");
    const installed = await readdir(path.join(consumer, "node_modules", "@acme", "twin-cli"));
    expect(installed.sort()).toEqual(["README.md", "bin.js", "index.js", "package.json"]);
  });

  it("--tag, --access public and --json; anonymous readers see a public package", async () => {
    const dir = await packageDir({ name: "@acme/tagged", version: "2.0.0-beta.1" });
    const r = ok(
      await cli(["publish", dir, "--tag", "next", "--access", "public", "--json"], { home }),
    );
    expect(r.json()).toMatchObject({
      id: "@acme/tagged@2.0.0-beta.1",
      tag: "next",
      access: "public",
      dryRun: false,
      registry: `${registry.url}/`,
      integrity: expect.stringMatching(/^sha512-/),
      files: ["README.md", "bin.js", "index.js", "package.json"],
    });
    const doc = await packument("@acme/tagged");
    expect((doc["dist-tags"] as Record<string, string>).next).toBe("2.0.0-beta.1");
    expect((await getJson(registry.url, `/${escapeName("@acme/tagged")}`)).status).toBe(200);
    // The default (restricted) stays invisible to anonymous readers.
    ok(
      await cli(["publish", await packageDir({ name: "@acme/private-ish", version: "1.0.0" })], {
        home,
      }),
    );
    expect((await getJson(registry.url, `/${escapeName("@acme/private-ish")}`)).status).toBe(401);
  });

  it("--dry-run packs and reports but uploads nothing, and needs no token", async () => {
    const dir = await packageDir({ name: "@acme/dry", version: "1.0.0" });
    const r = ok(
      await cli(["publish", "--dry-run", "--json", "--registry", registry.url], {
        home: await box.home(),
        cwd: dir,
      }),
    );
    expect(r.json()).toMatchObject({ id: "@acme/dry@1.0.0", dryRun: true });
    expect((await getJson(registry.url, `/${escapeName("@acme/dry")}`, token)).status).toBe(404);
  });

  it("runs the lifecycle scripts npm publish runs, output on stderr so --json stays parseable", async () => {
    const dir = await packageDir({
      name: "@acme/scripted",
      version: "1.0.0",
      scripts: {
        prepublishOnly: "node -e \"require('fs').appendFileSync('order.log','prepublishOnly\\n')\"",
        prepack:
          "node -e \"require('fs').appendFileSync('order.log','prepack\\n');require('fs').writeFileSync('built.js','1')\"",
        postpack: "node -e \"require('fs').appendFileSync('order.log','postpack\\n')\"",
        publish: "node -e \"require('fs').appendFileSync('order.log','publish\\n')\"",
        postpublish:
          "node -e \"require('fs').appendFileSync('order.log','postpublish\\n');console.log('POSTPUBLISH-SAYS-HI')\"",
      },
    });
    const r = ok(await cli(["publish", "--json"], { home, cwd: dir }));
    expect((r.json() as { files: string[] }).files).toContain("built.js");
    expect(r.stderr).toContain("POSTPUBLISH-SAYS-HI");
    expect(await readFile(path.join(dir, "order.log"), "utf8")).toBe(
      "prepublishOnly\nprepack\npostpack\npublish\npostpublish\n",
    );
  });

  it("refuses what npm refuses, with npm's sentences and exit codes", async () => {
    const dir = await packageDir({ name: "@acme/refused", version: "1.1.0" });
    ok(await cli(["publish"], { home, cwd: dir }));
    fails(
      await cli(["publish"], { home, cwd: dir }),
      1,
      "You cannot publish over the previously published versions: 1.1.0.",
    );
    const lower = await packageDir({ name: "@acme/refused", version: "1.0.5" });
    fails(
      await cli(["publish"], { home, cwd: lower }),
      2,
      'Cannot implicitly apply the "latest" tag because previously published version 1.1.0 is higher',
    );
    ok(await cli(["publish", "--tag", "old"], { home, cwd: lower }));
    const pre = await packageDir({ name: "@acme/refused", version: "2.0.0-rc.1" });
    fails(
      await cli(["publish"], { home, cwd: pre }),
      2,
      "You must specify a tag using --tag when publishing a prerelease version.",
    );
    fails(
      await cli(["publish", "--tag", "^1.0.0"], { home, cwd: pre }),
      2,
      "Tag name must not be a valid SemVer range",
    );
    const unscoped = await packageDir({ name: "plain-pkg", version: "1.0.0" });
    fails(
      await cli(["publish", "--access", "restricted"], { home, cwd: unscoped }),
      2,
      "Can't restrict access to unscoped packages.",
    );
    const priv = await packageDir({ name: "@acme/secret", version: "1.0.0", private: true });
    fails(
      await cli(["publish"], { home, cwd: priv }),
      1,
      "This package has been marked as private",
    );
    const empty = await box.dir("empty");
    fails(await cli(["publish"], { home, cwd: empty }), 2, "Cannot read");
    // No token: auth, and nothing was packed or sent.
    const fresh = await packageDir({ name: "@acme/nologin", version: "1.0.0" });
    const j = jsonError(
      await cli(["publish", "--json", "--registry", registry.url], {
        home: await box.home(),
        cwd: fresh,
      }),
    );
    expect(j).toMatchObject({ code: "ENEEDAUTH", exitCode: 3 });
  });

  it("the registry's refusals are printed as the registry words them, with their exit codes", async () => {
    const dir = await packageDir({ name: "@acme/refused-by-registry", version: "1.0.0" });
    const readonly = jsonError(
      await cli(["publish", "--json", "--token", readonlyToken], { home, cwd: dir }),
    );
    expect(readonly).toMatchObject({ status: 403, exitCode: 3 });
    const scoped = jsonError(
      await cli(["publish", "--json", "--token", otherScopeToken], { home, cwd: dir }),
    );
    expect(scoped).toMatchObject({ status: 403, code: "SCOPE_FORBIDDEN", exitCode: 3 });
    expect(scoped.error).toContain("@other");
    // Human output: the same sentence after "error".
    const human = await cli(["publish", "--token", otherScopeToken], { home, cwd: dir });
    fails(human, 3, scoped.error);
    const garbage = jsonError(
      await cli(["publish", "--json", "--token", "garbage"], { home, cwd: dir }),
    );
    expect(garbage).toMatchObject({ status: 401, code: "UNAUTHORIZED", exitCode: 3 });
  });
});

describe("packr-cli from the registry", () => {
  it("publishes itself with packr-cli, installs with npm from the registry alone, and runs", async () => {
    const pkgDir = fileURLToPath(new URL("..", import.meta.url));
    const { version } = JSON.parse(
      await (await import("node:fs/promises")).readFile(path.join(pkgDir, "package.json"), "utf8"),
    ) as { version: string };
    const r = ok(await cli(["publish", pkgDir, "--json"], { home, timeoutMs: 180_000 }));
    expect(r.json()).toMatchObject({
      name: "packr-cli",
      version,
      files: expect.arrayContaining(["dist/cli.js", "README.md", "package.json"]),
    });

    // A CI job: only an .npmrc pointing at Packr; npm fetches nothing from anywhere else.
    const job = await box.home("ci-job");
    const prefix = path.join(job, "global");
    await mkdir(prefix);
    await writeFile(path.join(job, ".npmrc"), npmrc(registry.url, token));
    const install = await clients.npm(
      ["install", "-g", "--prefix", prefix, "--userconfig", path.join(job, ".npmrc"), "packr-cli"],
      {
        cwd: job,
      },
    );
    expectSuccess(install);
    const bin = path.join(prefix, "bin", "packr-cli");
    const v = await run(bin, ["--version"], {
      cwd: job,
      env: { PATH: process.env.PATH ?? "", HOME: job },
    });
    expect(v.stdout.trim(), describeRun(v)).toBe(version);
    const who = await run(bin, ["whoami", "--registry", registry.url, "--token", token], {
      cwd: job,
      env: { PATH: process.env.PATH ?? "", HOME: job },
    });
    expect(who.stdout.trim(), describeRun(who)).toBe("admin");
  });
});
