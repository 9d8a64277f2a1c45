import PackageJson from "@npmcli/package-json";
import { CliError } from "../errors.ts";

export type Manifest = Record<string, unknown> & { name: string; version: string };

/**
 * The manifest npm 11 publishes for a directory: `PackageJson.fix` then `prepare` (readme,
 * gitHead, bin and types filled in, data normalized), as `lib/commands/publish.js` #getManifest.
 */
export async function readManifest(dir: string): Promise<Manifest> {
  let content: Record<string, unknown>;
  try {
    const pkg = await PackageJson.fix(dir, { changes: [] });
    content = (await pkg.prepare()).content;
  } catch (err) {
    throw new CliError("usage", `Cannot read ${dir}/package.json: ${(err as Error).message}`, {
      code: "NO_PACKAGE_JSON",
      cause: err,
    });
  }
  if (typeof content.name !== "string" || content.name === "") {
    throw new CliError("usage", `${dir}/package.json has no "name".`, { code: "NO_NAME" });
  }
  if (typeof content.version !== "string" || content.version === "") {
    throw new CliError("usage", `${dir}/package.json has no "version".`, { code: "NO_VERSION" });
  }
  return content as Manifest;
}

/** libnpmpublish `patchManifest`: who built it, npm's name fix-up. */
export async function patchManifest(
  manifest: Manifest,
  npmVersion: string | undefined,
): Promise<Manifest> {
  const input: Record<string, unknown> = { ...manifest, _nodeVersion: process.versions.node };
  if (npmVersion) input._npmVersion = npmVersion;
  const fixed = await new PackageJson().fromContent(input).normalize({ steps: ["fixName"] });
  return fixed.content as Manifest;
}

export type PublishConfig = { tag?: string; access?: string; registry?: string };

export function publishConfigOf(manifest: Manifest): PublishConfig {
  const pc = manifest.publishConfig;
  if (typeof pc !== "object" || pc === null) return {};
  const get = (k: string) => {
    const v = (pc as Record<string, unknown>)[k];
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const out: PublishConfig = {};
  const tag = get("tag");
  const access = get("access");
  const registry = get("registry");
  if (tag) out.tag = tag;
  if (access) out.access = access;
  if (registry) out.registry = registry;
  return out;
}
