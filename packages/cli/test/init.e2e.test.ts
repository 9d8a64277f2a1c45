/**
 * init: the project .npmrc (and .yarnrc.yml for yarn projects) that stock npm and yarn 4 then
 * install the scope through, with the token from PACKR_TOKEN; run twice it changes nothing, and
 * it leaves the rest of the files alone.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  Clients,
  describeRun,
  expectSuccess,
  loginToken,
  npmrc,
  run,
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
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR}, as config files hold it
  it("npm project: writes the scope registry and a ${PACKR_TOKEN} line, keeps other lines; twice changes nothing", async () => {
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
    const j = first.json() as {
      files: { path: string; status: string }[];
      packageManager: string;
      githubActions: string;
      registry: string;
    };
    expect(j.packageManager).toBe("npm");
    expect(j.registry).toBe(`${registry.url}/`);
    expect(j.files).toEqual([{ path: path.join(project, ".npmrc"), status: "updated" }]);
    const text = await readFile(path.join(project, ".npmrc"), "utf8");
    expect(text).toBe(
      `# team settings\nsave-exact=true\n@myorg:registry=${registry.url}/\n//${host}/:_authToken=\${PACKR_TOKEN}\n`,
    );
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

    // Stock npm installs the scope through it, the token coming from PACKR_TOKEN.
    const sb = await clients.sandbox();
    const install = await run("npm", ["install"], {
      cwd: project,
      env: { ...cliEnv(sb.home, { npm_config_cache: sb.cache }), PACKR_TOKEN: token },
    });
    expectSuccess(install);
    const out = await clients.nodeEval("console.log(require('@myorg/lib'))", { cwd: project });
    expect(out.stdout.trim(), describeRun(out)).toBe("myorg lib");
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
      `@myorg:registry=${registry.url}/\n//${host}/:_authToken=\${PACKR_TOKEN}\n`,
    );
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
    const j = first.json() as {
      files: { path: string; status: string }[];
      packageManager: string;
      githubActions: string;
    };
    expect(j.packageManager).toBe("yarn");
    expect(j.files.map((f) => [path.basename(f.path), f.status])).toEqual([
      [".npmrc", "created"],
      [".yarnrc.yml", "updated"],
    ]);
    expect(j.githubActions).toContain("yarn install --immutable");
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
