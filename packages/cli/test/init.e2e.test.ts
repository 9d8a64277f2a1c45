/**
 * init: the project .npmrc (registry only) and .yarnrc.yml for yarn projects, plus the user-config
 * credential line npm and pnpm need (pnpm refuses `${VAR}` credentials from a project .npmrc). The
 * documented setup, exactly as init writes and prints it, installs a restricted scoped package
 * with npm, pnpm and yarn 4, the token coming only from PACKR_TOKEN; run twice init changes
 * nothing, and it leaves the rest of the files alone.
 */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  Clients,
  describeRun,
  expectFailure,
  expectSuccess,
  loginToken,
  npmrc,
  PNPM_CJS,
  type RunResult,
  run,
  type Sandbox,
  stopRegistry,
  YARN_JS,
} from "@packr/registry/e2e/clients";
import { type RegistryProcess, startRegistryProcess } from "@packr/registry/test/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CliSandbox, cli, cliEnv, ok } from "./cli-harness.ts";

let registry: RegistryProcess;
let box: CliSandbox;
let clients: Clients;
let token: string;
let host: string;

beforeAll(async () => {
  box = await CliSandbox.create("init");
  clients = await Clients.create("cli-init");
  registry = await startRegistryProcess();
  token = await loginToken(registry.url, "admin", registry.adminPassword);
  host = new URL(registry.url).host;
  // Something to install: @myorg/lib, published by packr-cli.
  const home = await box.home();
  await writeFile(path.join(home, ".npmrc"), npmrc(registry.url, token));
  const lib = await box.dir("lib", {
    "package.json": '{"name":"@myorg/lib","version":"1.0.0","main":"index.js","license":"MIT"}\n',
    "index.js": "module.exports = 'myorg lib';\n",
  });
  ok(await cli(["publish"], { home, cwd: lib }));
});

afterAll(async () => {
  await stopRegistry(registry);
  await box?.cleanup();
  await clients?.cleanup();
});

describe("init", () => {
  it("npm project: writes the scope registry only, keeps other lines, tells about ~/.npmrc; twice changes nothing", async () => {
    const home = await box.home();
    const project = await box.dir("npm-app", {
      "package.json": `${JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: { "@myorg/lib": "^1.0.0" } })}\n`,
      ".npmrc": "# team settings\nsave-exact=true\n",
    });
    const first = ok(
      await cli(["init", "--scope", "@myorg", "--registry", registry.url, "--json"], {
        home,
        cwd: project,
      }),
    );
    const j = first.json() as InitJson & { registry: string };
    expect(j.packageManager).toBe("npm");
    expect(j.registry).toBe(`${registry.url}/`);
    expect(j.files).toEqual([{ path: path.join(project, ".npmrc"), status: "updated" }]);
    const text = await readFile(path.join(project, ".npmrc"), "utf8");
    expect(text).toBe(`# team settings\nsave-exact=true\n@myorg:registry=${registry.url}/\n`);
    expect(j.userConfig).toEqual({
      path: path.join(home, ".npmrc"),
      line: `//${host}/:_authToken=\${PACKR_TOKEN}`,
      hasToken: false,
    });
    expect(j.githubActions).toContain("npm ci");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR}, as config files hold it
    expect(j.githubActions).toContain("PACKR_TOKEN: ${{ secrets.PACKR_TOKEN }}");
    expect(j.githubActions).toContain("npm publish");
    const workflow = parseYaml(j.githubActions) as { jobs: Record<string, unknown> };
    expect(Object.keys(workflow.jobs)).toEqual(["install", "publish"]);

    const second = ok(
      await cli(["init", "--scope", "myorg", "--registry", registry.url], { home, cwd: project }),
    );
    expect(second.stdout).toContain(`unchanged ${path.join(project, ".npmrc")}`);
    expect(await readFile(path.join(project, ".npmrc"), "utf8")).toBe(text);

    // Stock npm installs the scope through it, with the workflow's ~/.npmrc step and PACKR_TOKEN.
    const sb = await clients.sandbox();
    await runAuthStep(j.githubActions, sb);
    expectSuccess(
      await run("npm", ["install"], { cwd: project, env: { ...userEnv(sb), PACKR_TOKEN: token } }),
    );
    const out = await clients.nodeEval("console.log(require('@myorg/lib'))", { cwd: project });
    expect(out.stdout.trim(), describeRun(out)).toBe("myorg lib");
  });

  it("an old project .npmrc credential line is taken out; a token from login in ~/.npmrc is reported", async () => {
    const home = await box.home();
    await writeFile(path.join(home, ".npmrc"), npmrc(registry.url, token));
    const project = await box.dir("old-app", {
      "package.json": '{"name":"old","version":"1.0.0"}\n',
      ".npmrc": `@myorg:registry=${registry.url}/\n//${host}/:_authToken=\${PACKR_TOKEN}\n`,
    });
    const r = ok(
      await cli(["init", "--scope", "@myorg", "--registry", registry.url, "--json"], {
        home,
        cwd: project,
      }),
    );
    const j = r.json() as InitJson;
    expect(j.files).toEqual([{ path: path.join(project, ".npmrc"), status: "updated" }]);
    expect(j.userConfig.hasToken).toBe(true);
    expect(await readFile(path.join(project, ".npmrc"), "utf8")).toBe(
      `@myorg:registry=${registry.url}/\n`,
    );
    const human = ok(
      await cli(["init", "--scope", "@myorg", "--registry", registry.url], { home, cwd: project }),
    );
    expect(human.stdout).toContain(
      `npm and pnpm send the token for it from ${path.join(home, ".npmrc")}.`,
    );
  });

  it("takes the registry from PACKR_REGISTRY, and from the human output prints the workflow", async () => {
    const home = await box.home();
    const project = await box.dir("env-app", {
      "package.json": '{"name":"a","version":"1.0.0"}\n',
    });
    const r = ok(
      await cli(["init", "--scope", "@myorg"], {
        home,
        cwd: project,
        env: { PACKR_REGISTRY: registry.url },
      }),
    );
    expect(r.stdout).toContain(`created   ${path.join(project, ".npmrc")}`);
    expect(r.stdout).toContain("# .github/workflows/packages.yml");
    expect(await readFile(path.join(project, ".npmrc"), "utf8")).toBe(
      `@myorg:registry=${registry.url}/\n`,
    );
    // The human output says where the credential goes, and the line itself.
    expect(r.stdout).toContain("npm and pnpm read its token from your user config");
    expect(r.stdout).toContain(`  //${host}/:_authToken=\${PACKR_TOKEN}\n`);
  });

  it("yarn project: npmScopes in .yarnrc.yml, comments kept, yarn 4 installs; twice changes nothing", async () => {
    const home = await box.home();
    const project = await box.dir("yarn-app", {
      "package.json": `${JSON.stringify({ name: "yapp", version: "1.0.0", private: true, packageManager: "yarn@4.18.1", dependencies: { "@myorg/lib": "^1.0.0" } })}\n`,
      ".yarnrc.yml":
        "# our yarn settings\nnodeLinker: node-modules\nenableTelemetry: false\nenableGlobalCache: false\n",
    });
    const first = ok(
      await cli(["init", "--scope", "@myorg", "--registry", registry.url, "--json"], {
        home,
        cwd: project,
      }),
    );
    const j = first.json() as InitJson;
    expect(j.packageManager).toBe("yarn");
    expect(j.files.map((f) => [path.basename(f.path), f.status])).toEqual([
      [".npmrc", "created"],
      [".yarnrc.yml", "updated"],
    ]);
    expect(j.githubActions).toContain("yarn install --immutable");
    // yarn reads the token from .yarnrc.yml: its workflow has no ~/.npmrc step.
    expect(j.githubActions).not.toContain(".npmrc");
    const yarnrc = await readFile(path.join(project, ".yarnrc.yml"), "utf8");
    expect(yarnrc.startsWith("# our yarn settings\nnodeLinker: node-modules\n")).toBe(true);
    expect(parseYaml(yarnrc)).toEqual({
      nodeLinker: "node-modules",
      enableTelemetry: false,
      enableGlobalCache: false,
      npmScopes: {
        myorg: {
          npmRegistryServer: registry.url,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR}, as config files hold it
          npmAuthToken: "${PACKR_TOKEN:-}",
          npmAlwaysAuth: true,
        },
      },
      npmPreapprovedPackages: ["@myorg/*"],
      unsafeHttpWhitelist: ["127.0.0.1"],
    });
    const npmrcText = await readFile(path.join(project, ".npmrc"), "utf8");

    const second = ok(
      await cli(["init", "--scope", "@myorg", "--registry", registry.url, "--json"], {
        home,
        cwd: project,
      }),
    );
    expect((second.json() as { files: { status: string }[] }).files.map((f) => f.status)).toEqual([
      "unchanged",
      "unchanged",
    ]);
    expect(await readFile(path.join(project, ".yarnrc.yml"), "utf8")).toBe(yarnrc);
    expect(await readFile(path.join(project, ".npmrc"), "utf8")).toBe(npmrcText);

    // yarn 4 installs the scope from Packr with the token from PACKR_TOKEN.
    const sb = await clients.sandbox();
    const install = await run(process.execPath, [YARN_JS, "install", "--no-immutable"], {
      cwd: project,
      env: {
        ...cliEnv(sb.home),
        PACKR_TOKEN: token,
        YARN_CACHE_FOLDER: path.join(sb.cache, "yarn-cache"),
        YARN_GLOBAL_FOLDER: path.join(sb.cache, "yarn-global"),
        YARN_ENABLE_TELEMETRY: "0",
        COREPACK_ENABLE_STRICT: "0",
      },
    });
    expectSuccess(install);
    const out = await clients.nodeEval("console.log(require('@myorg/lib'))", { cwd: project });
    expect(out.stdout.trim(), describeRun(out)).toBe("myorg lib");
  });
});

/** The pnpm the suite runs, as a project's packageManager (another version would be fetched). */
const PNPM_PIN = `pnpm@${(JSON.parse(readFileSync(path.join(path.dirname(PNPM_CJS), "..", "package.json"), "utf8")) as { version: string }).version}`;

describe("the documented setup, followed as a user would", () => {
  const dependsOnLib = (packageManager?: string) =>
    `${JSON.stringify({ name: "app", version: "1.0.0", private: true, ...(packageManager ? { packageManager } : {}), dependencies: { "@myorg/lib": "^1.0.0" } })}\n`;

  it("a restricted scoped package installs with npm, pnpm and yarn 4; the token comes only from PACKR_TOKEN", async () => {
    // @myorg/lib is restricted: nobody reads it without a token.
    const anonymous = await fetch(`${registry.url}/@myorg%2flib`);
    expect([401, 404]).toContain(anonymous.status);

    for (const pm of ["npm", "pnpm", "yarn"] as const) {
      const home = await box.home();
      const project = await box.dir(`${pm}-documented`, {
        "package.json": dependsOnLib(
          pm === "pnpm" ? PNPM_PIN : pm === "yarn" ? "yarn@4.18.1" : undefined,
        ),
        ...(pm === "yarn"
          ? { ".yarnrc.yml": "nodeLinker: node-modules\nenableTelemetry: false\n" }
          : {}),
      });
      const j = ok(
        await cli(["init", "--scope", "@myorg", "--registry", registry.url, "--json"], {
          home,
          cwd: project,
        }),
      ).json() as InitJson;
      expect(j.packageManager).toBe(pm);
      // Nothing secret in the committed files: the token is only ever in the environment.
      for (const f of j.files) expect(await readFile(f.path, "utf8")).not.toContain(token);

      // Without PACKR_TOKEN the install is refused…
      const sbNone = await clients.sandbox();
      if (pm !== "yarn") await runAuthStep(j.githubActions, sbNone);
      expectFailure(
        await install(pm, project, sbNone, undefined),
        pm === "yarn" ? "Invalid authentication (as an anonymous user)" : "401",
      );
      // …and with it, the scope installs.
      const sb = await clients.sandbox();
      if (pm !== "yarn") {
        await runAuthStep(j.githubActions, sb);
        expect(await readFile(path.join(sb.home, ".npmrc"), "utf8")).toBe(`${j.userConfig.line}\n`);
      }
      expectSuccess(await install(pm, project, sb, token));
      const out = await clients.nodeEval("console.log(require('@myorg/lib'))", { cwd: project });
      expect(out.stdout.trim(), `${pm}: ${describeRun(out)}`).toBe("myorg lib");
    }
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR}, as config files hold it
  it("why the credential is not in the project .npmrc: pnpm ignores ${PACKR_TOKEN} there", async () => {
    const project = await box.dir("pnpm-project-credential", {
      "package.json": dependsOnLib(PNPM_PIN),
      ".npmrc": `@myorg:registry=${registry.url}/\n//${host}/:_authToken=\${PACKR_TOKEN}\n`,
    });
    const r = await install("pnpm", project, await clients.sandbox(), token);
    expectFailure(r, "Ignored project-level auth setting", "401");
  });
});

type InitJson = {
  files: { path: string; status: string }[];
  packageManager: string;
  githubActions: string;
  userConfig: { path: string; line: string; hasToken: boolean };
};

/** A client's environment in a sandbox HOME: nothing from the outer run, no PACKR_TOKEN. */
const userEnv = (sb: Sandbox): NodeJS.ProcessEnv => cliEnv(sb.home, { npm_config_cache: sb.cache });

/** Run the workflow's step that puts the credential line into ~/.npmrc, in the sandbox HOME. */
async function runAuthStep(workflow: string, sb: Sandbox): Promise<void> {
  const parsed = parseYaml(workflow) as { jobs: { install: { steps: { run?: string }[] } } };
  const step = parsed.jobs.install.steps.find((s) => s.run?.includes(".npmrc"));
  expect(step?.run, workflow).toBeDefined();
  expectSuccess(await run("bash", ["-c", step?.run ?? ""], { cwd: sb.home, env: userEnv(sb) }));
}

/** Install a project with one client; PACKR_TOKEN set only when `packrToken` is given. */
function install(
  pm: "npm" | "pnpm" | "yarn",
  project: string,
  sb: Sandbox,
  packrToken: string | undefined,
): Promise<RunResult> {
  const env = { ...userEnv(sb), ...(packrToken ? { PACKR_TOKEN: packrToken } : {}) };
  if (pm === "npm") return run("npm", ["install"], { cwd: project, env });
  if (pm === "pnpm") {
    return run(
      process.execPath,
      [
        PNPM_CJS,
        "install",
        "--store-dir",
        path.join(sb.cache, "pnpm-store"),
        "--cache-dir",
        path.join(sb.cache, "pnpm-cache"),
      ],
      { cwd: project, env },
    );
  }
  return run(process.execPath, [YARN_JS, "install", "--no-immutable"], {
    cwd: project,
    env: {
      ...env,
      YARN_CACHE_FOLDER: path.join(sb.cache, "yarn-cache"),
      YARN_GLOBAL_FOLDER: path.join(sb.cache, "yarn-global"),
      YARN_ENABLE_TELEMETRY: "0",
      COREPACK_ENABLE_STRICT: "0",
    },
  });
}
