import path from "node:path";
import { type Command, Option } from "commander";
import semver from "semver";
import { type CliContext, CommandScope } from "../context.ts";
import { CliError, usageError } from "../errors.ts";
import { isRecord, type RegistryClient } from "../http/client.ts";
import { withProgress } from "../output/progress.ts";
import { escapedName, publishBody } from "../publish/body.ts";
import {
  type Manifest,
  patchManifest,
  publishConfigOf,
  readManifest,
} from "../publish/manifest.ts";
import { pack, runScript } from "../publish/pack.ts";
import { examples } from "./help.ts";

type PublishOptions = {
  tag?: string;
  access?: "public" | "restricted";
  dryRun?: boolean;
  ignoreScripts?: boolean;
};

export function registerPublish(program: Command, ctx: CliContext): void {
  program
    .command("publish [dir]")
    .description("Pack a package directory with npm and publish it (what npm publish does)")
    .option("--tag <tag>", "dist-tag to publish under (default: latest, or publishConfig.tag)")
    .addOption(
      new Option(
        "--access <access>",
        "public or restricted (scoped packages default to restricted)",
      ).choices(["public", "restricted"]),
    )
    .option("--dry-run", "pack and check everything, but do not upload")
    .option(
      "--ignore-scripts",
      "do not run prepublishOnly, prepack, prepare, postpack, publish, postpublish",
    )
    .addHelpText(
      "after",
      `
Registry: --registry, else PACKR_REGISTRY, else publishConfig.registry, else the .npmrc's
@scope:registry for the package's scope, else its registry. Lifecycle scripts run as under npm publish.
${examples([
  "packr-cli publish",
  "packr-cli publish ./packages/widget --tag next",
  "packr-cli publish --access public --dry-run --json",
])}`,
    )
    .action(async (dirArg: string | undefined, opts: PublishOptions, command: Command) => {
      const scope = new CommandScope(ctx, command);
      const { out } = scope;
      const dir = path.resolve(ctx.cwd, dirArg ?? ".");
      let manifest = await readManifest(dir);
      const log = ctx.stderr;

      if (manifest.private === true) {
        throw new CliError(
          "failure",
          "This package has been marked as private. Remove the 'private' field from the package.json to publish it.",
          { code: "EPRIVATE" },
        );
      }
      const ignoreScripts = opts.ignoreScripts === true;
      const scripts = isRecord(manifest.scripts) ? manifest.scripts : {};
      const npm = ctx.env.npm;
      const env = ctx.env.raw;
      if (!ignoreScripts && typeof scripts.prepublishOnly === "string") {
        await runScript({ npm, dir, env, event: "prepublishOnly", log });
      }
      const packed = await withProgress(out, `Packing ${manifest.name}@${manifest.version}…`, () =>
        pack({ npm, dir, env, ignoreScripts }),
      );
      // After the progress line is gone, so script output never lands on the spinner's line.
      if (packed.scriptOutput) log.write(packed.scriptOutput);
      // Read again, as npm does: the scripts may have changed package.json.
      manifest = await patchManifest(await readManifest(dir), packed.npmVersion);

      const version = semver.clean(manifest.version);
      if (!version) throw usageError(`Invalid version in package.json: "${manifest.version}".`);
      manifest.version = version;
      const config = publishConfigOf(manifest);
      const tag = opts.tag ?? config.tag ?? "latest";
      if (semver.validRange(tag)) {
        throw usageError(`Tag name must not be a valid SemVer range: ${tag}`);
      }
      if (encodeURIComponent(tag) !== tag) throw usageError(`Invalid tag name "${tag}".`);
      const explicitTag = opts.tag !== undefined || config.tag !== undefined;
      if (semver.prerelease(version) && !explicitTag) {
        throw usageError(
          "You must specify a tag using --tag when publishing a prerelease version.",
        );
      }
      const accessValue = opts.access ?? config.access;
      const access =
        accessValue === undefined ? null : accessValue === "private" ? "restricted" : accessValue;
      if (access !== null && access !== "public" && access !== "restricted") {
        throw usageError(`publishConfig.access must be public or restricted, got "${access}".`);
      }
      const npmScope = manifest.name.startsWith("@") ? manifest.name.split("/")[0] : undefined;
      if (!npmScope && access === "restricted") {
        throw usageError("Can't restrict access to unscoped packages.");
      }

      const settings = await scope.settings({
        ...(npmScope ? { scope: npmScope } : {}),
        ...(config.registry ? { packageRegistry: config.registry } : {}),
      });
      const client = scope.client(settings);
      if (!settings.token && !opts.dryRun) {
        throw new CliError(
          "auth",
          `This command requires you to be logged in to ${settings.registry}. Run packr-cli login --registry ${settings.registry}, or set PACKR_TOKEN.`,
          { code: "ENEEDAUTH" },
        );
      }
      if (settings.token) await refuseLikeNpm(client, manifest, explicitTag);

      const body = publishBody({
        registry: settings.registry,
        manifest,
        tarball: packed.tarball,
        tag,
        access,
      });
      const summary = {
        id: `${manifest.name}@${manifest.version}`,
        name: manifest.name,
        version: manifest.version,
        tag,
        access: access ?? "default",
        registry: settings.registry,
        dryRun: opts.dryRun === true,
        size: packed.result.size,
        unpackedSize: packed.result.unpackedSize,
        shasum: packed.result.shasum,
        integrity: packed.result.integrity,
        filename: packed.result.filename,
        files: packed.result.files.map((f) => f.path),
      };
      if (!opts.dryRun) {
        await withProgress(out, `Publishing ${summary.id} to ${settings.registry}…`, () =>
          client.request("PUT", escapedName(manifest.name), {
            body,
            headers: { "npm-command": "publish" },
            timeoutMs: 15 * 60_000,
          }),
        );
        if (!ignoreScripts) {
          for (const event of ["publish", "postpublish"]) {
            if (typeof scripts[event] === "string") await runScript({ npm, dir, env, event, log });
          }
        }
      }
      out.result(summary, () => [
        `${out.c.dim("package:")}  ${summary.id}`,
        `${out.c.dim("files:")}    ${summary.files.length} (${kb(summary.size)} packed, ${kb(summary.unpackedSize)} unpacked)`,
        `${out.c.dim("integrity:")} ${summary.integrity}`,
        `${opts.dryRun ? "Would publish" : "Published"} to ${settings.registry} with tag ${tag} and ${summary.access} access${opts.dryRun ? " (dry run)" : ""}`,
        `${opts.dryRun ? out.c.yellow("~") : out.c.green("+")} ${summary.id}`,
      ]);
    });
}

/**
 * npm 11's client-side refusals (publish.js #registryVersions), so packr-cli answers what npm
 * answers: a version that exists, or an implicit `latest` below the highest release. A registry
 * that cannot be read here is no reason to stop; the PUT decides.
 */
async function refuseLikeNpm(client: RegistryClient, manifest: Manifest, explicitTag: boolean) {
  let versions: string[] = [];
  try {
    const a = await client.request("GET", escapedName(manifest.name), { timeoutMs: 15_000 });
    const doc = isRecord(a.json) && isRecord(a.json.versions) ? a.json.versions : {};
    versions = Object.entries(doc)
      .filter(([v, meta]) => {
        const parsed = semver.parse(v);
        return parsed && parsed.prerelease.length === 0 && !(isRecord(meta) && meta.deprecated);
      })
      .map(([v]) => v)
      .sort(semver.rcompare);
  } catch {
    return;
  }
  if (versions.includes(manifest.version)) {
    throw new CliError(
      "failure",
      `You cannot publish over the previously published versions: ${manifest.version}.`,
      { code: "VERSION_EXISTS" },
    );
  }
  const highest = versions[0];
  if (highest && semver.gte(highest, manifest.version) && !explicitTag) {
    throw usageError(
      `Cannot implicitly apply the "latest" tag because previously published version ${highest} is higher than the new version ${manifest.version}. You must specify a tag using --tag.`,
    );
  }
}

const kb = (n: number): string => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} kB`);
