import { createHash } from "node:crypto";
import type { Manifest } from "./manifest.ts";

/**
 * The document `npm publish` PUTs (libnpmpublish `buildMetadata`, protocol §3.1): the manifest as
 * the only version, one dist-tag, the tarball as a base64 attachment named `<name>-<version>.tgz`,
 * `access` null unless given.
 */
export function publishBody(opts: {
  registry: string;
  manifest: Manifest;
  tarball: Buffer;
  tag: string;
  access: "public" | "restricted" | null;
}): Record<string, unknown> {
  const { manifest, tarball } = opts;
  const tarballName = `${manifest.name}-${manifest.version}.tgz`;
  const version: Record<string, unknown> = {
    ...manifest,
    _id: `${manifest.name}@${manifest.version}`,
    dist: {
      ...(typeof manifest.dist === "object" && manifest.dist !== null ? manifest.dist : {}),
      integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}`,
      shasum: createHash("sha1").update(tarball).digest("hex"),
      // npm writes http:// here whatever the registry's scheme; the registry rewrites it anyway.
      tarball: new URL(`${manifest.name}/-/${tarballName}`, opts.registry).href.replace(
        /^https:\/\//,
        "http://",
      ),
    },
  };
  return {
    _id: manifest.name,
    name: manifest.name,
    description: manifest.description,
    "dist-tags": { [opts.tag]: manifest.version },
    versions: { [manifest.version]: version },
    access: opts.access,
    _attachments: {
      [tarballName]: {
        content_type: "application/octet-stream",
        data: tarball.toString("base64"),
        length: tarball.length,
      },
    },
  };
}

/** `@scope/name` → `@scope%2fname`, npm-package-arg's `escapedName`. */
export const escapedName = (name: string): string => name.replace("/", "%2f");
