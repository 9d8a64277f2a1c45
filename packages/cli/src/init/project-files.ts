import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isMap, isSeq, parseDocument, YAMLSeq } from "yaml";
import { nerfDart, removeLine, upsertLine } from "../config/npmrc.ts";

export type PackageManager = "npm" | "pnpm" | "yarn";

/** Which package manager a project uses: its `packageManager` field, else its lockfile. */
export async function detectPackageManager(dir: string): Promise<PackageManager> {
  try {
    const pkg = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as {
      packageManager?: unknown;
    };
    if (typeof pkg.packageManager === "string") {
      const name = pkg.packageManager.split("@")[0];
      if (name === "yarn" || name === "pnpm" || name === "npm") return name;
    }
  } catch {}
  if (existsSync(path.join(dir, "yarn.lock")) || existsSync(path.join(dir, ".yarnrc.yml"))) {
    return "yarn";
  }
  if (existsSync(path.join(dir, "pnpm-lock.yaml"))) return "pnpm";
  return "npm";
}

/**
 * The token reference npm and pnpm expand from the environment, in the USER config only: pnpm
 * (10.34.5+, 11.5.3+, 12) refuses `${VAR}` in credentials read from a project .npmrc, since a
 * committed file could send the secret to a registry an attacker names ("Ignored project-level
 * auth setting … environment variables are not expanded"). npm 11 expands it in either file.
 */
export const TOKEN_REFERENCE = "$" + "{PACKR_TOKEN}";
/** yarn expands `${VAR:-}` to "" when unset. */
const YARN_TOKEN_REFERENCE = "$" + "{PACKR_TOKEN:-}";

/** The credential line for `~/.npmrc` (user config) that npm, pnpm 10/11/12 all honour. */
export function userAuthLine(registry: string): string {
  return `${nerfDart(registry)}:_authToken=${TOKEN_REFERENCE}`;
}

/**
 * The project .npmrc: only the scope's registry, which every client reads from a committed file.
 * A `_authToken` line for this registry is taken out (an older `packr-cli init` wrote one): with
 * `${PACKR_TOKEN}` pnpm ignores it, and a literal token must not be committed. Other lines stay.
 */
export function projectNpmrc(text: string, scope: string, registry: string): string {
  return upsertLine(
    removeLine(text, `${nerfDart(registry)}:_authToken`),
    `${scope}:registry`,
    registry,
  );
}

/** The shell step a CI job runs before installing, so npm and pnpm send PACKR_TOKEN. */
export function userAuthStep(registry: string): string {
  return `echo '${userAuthLine(registry)}' >> ~/.npmrc`;
}

/**
 * The `.yarnrc.yml` entries yarn 4 needs for the scope (protocol §1.3, README): its registry and
 * token under `npmScopes`, `npmAlwaysAuth`, the scope exempt from the release-age gate (fresh
 * first-party versions), and plain http allowed for an http registry. Comments and every other
 * setting are kept; lists only gain what is missing.
 */
export function projectYarnrc(text: string, scope: string, registry: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new Error(`.yarnrc.yml is not valid YAML: ${doc.errors[0]?.message}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new Error(".yarnrc.yml must be a mapping of settings");
  }
  const url = new URL(registry);
  const server = registry.replace(/\/$/, "");
  const name = scope.slice(1);
  doc.setIn(["npmScopes", name, "npmRegistryServer"], server);
  // yarn expands ${VAR:-} to "" when unset, so yarn commands that never reach the registry still
  // work without the variable.
  doc.setIn(["npmScopes", name, "npmAuthToken"], YARN_TOKEN_REFERENCE);
  doc.setIn(["npmScopes", name, "npmAlwaysAuth"], true);
  addToList(doc, "npmPreapprovedPackages", `${scope}/*`);
  if (url.protocol === "http:") addToList(doc, "unsafeHttpWhitelist", url.hostname);
  return doc.toString({ lineWidth: 0 });
}

function addToList(doc: ReturnType<typeof parseDocument>, key: string, value: string): void {
  const current = doc.get(key);
  if (isSeq(current)) {
    if (
      !current.items.some((item) => String((item as { value?: unknown }).value ?? item) === value)
    ) {
      current.add(doc.createNode(value));
    }
    return;
  }
  const seq = new YAMLSeq();
  seq.flow = true;
  seq.add(doc.createNode(value));
  doc.set(key, seq);
}

/**
 * A GitHub Actions workflow with an install job and a publish job for a project on Packr. npm and
 * pnpm jobs first put the `${PACKR_TOKEN}` credential line into the runner's ~/.npmrc (the user
 * config, where pnpm expands it); yarn reads it from .yarnrc.yml.
 */
export function actionsSnippet(pm: PackageManager, scope: string, registry: string): string {
  const install =
    pm === "yarn"
      ? "yarn install --immutable"
      : pm === "pnpm"
        ? "pnpm install --frozen-lockfile"
        : "npm ci";
  const publish =
    pm === "yarn"
      ? "yarn npm publish"
      : pm === "pnpm"
        ? "pnpm publish --no-git-checks"
        : "npm publish";
  const setup =
    pm === "npm"
      ? ""
      : pm === "pnpm"
        ? "      - uses: pnpm/action-setup@v4\n"
        : "      - run: corepack enable\n";
  const auth = pm === "yarn" ? "" : `      - run: ${userAuthStep(registry)}\n`;
  const job = (name: string, secret: string, extra: string) => `  ${name}:
    runs-on: ubuntu-latest
${extra}    steps:
      - uses: actions/checkout@v4
${setup}      - uses: actions/setup-node@v4
        with:
          node-version: 20
${auth}      - run: ${install}
        env:
          PACKR_TOKEN: \${{ secrets.${secret} }}
`;
  return `# .github/workflows/packages.yml
# Secrets: PACKR_TOKEN      = packr-cli token create ci-install --role ci-readonly --json | jq -r .token
#          PACKR_PUBLISH_TOKEN = packr-cli token create ci-publish --role ci-publish --scope ${scope} --json | jq -r .token
name: packages
on:
  push:
    branches: [main]
    tags: ["v*"]
jobs:
${job("install", "PACKR_TOKEN", "")}
${job("publish", "PACKR_PUBLISH_TOKEN", "    needs: install\n    if: startsWith(github.ref, 'refs/tags/v')\n")}      - run: ${publish}
        env:
          PACKR_TOKEN: \${{ secrets.PACKR_PUBLISH_TOKEN }}
`;
}
