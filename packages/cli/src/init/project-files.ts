import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isMap, isSeq, parseDocument, YAMLSeq } from "yaml";
import { nerfDart, upsertLine } from "../config/npmrc.ts";

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

/** npm expands `${VAR}` in .npmrc values; the literal is what goes into the file. */
export const TOKEN_REFERENCE = "$" + "{PACKR_TOKEN}";
/** yarn expands `${VAR:-}` to "" when unset. */
const YARN_TOKEN_REFERENCE = "$" + "{PACKR_TOKEN:-}";

/**
 * The project .npmrc with the scope's registry and a token read from PACKR_TOKEN (never a literal
 * token: the file is committed). Other lines are left as they are.
 */
export function projectNpmrc(text: string, scope: string, registry: string): string {
  let next = upsertLine(text, `${scope}:registry`, registry);
  next = upsertLine(next, `${nerfDart(registry)}:_authToken`, TOKEN_REFERENCE);
  return next;
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

/** A GitHub Actions workflow with an install job and a publish job for a project on Packr. */
export function actionsSnippet(pm: PackageManager, scope: string): string {
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
  const job = (name: string, secret: string, extra: string) => `  ${name}:
    runs-on: ubuntu-latest
${extra}    steps:
      - uses: actions/checkout@v4
${setup}      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: ${install}
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
