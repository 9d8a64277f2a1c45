import { isRecord } from "../packages/manifest.ts";
import type { PackageName } from "../packages/names.ts";
import { tarballUrl } from "../packages/packument.ts";
import type { RegistrySigner } from "../signing/registry-signer.ts";
import type { UpstreamDist } from "./uplink.ts";
import { UplinkFailure } from "./uplink-http.ts";

export type RewrittenDocument = {
  text: string;
  dists: Map<string, UpstreamDist>;
  modifiedAt: Date | null;
};

/**
 * An uplink packument as Packr serves it. Every `dist.tarball` points at Packr (so clients never
 * need the uplink, and lockfiles name Packr), `dist.signatures` are Packr's own over the uplink's
 * `name@version:integrity` (npm audit signatures checks them against Packr's `/-/npm/v1/keys`;
 * every byte Packr serves for that version is verified against that integrity first), and
 * `dist.attestations` are dropped: their URLs and publish-attestation keys belong to the uplink,
 * so npm would fail to verify them through Packr. Everything else passes through unchanged.
 * A document that is not a packument of the name asked for is an uplink failure, never cached.
 */
export function rewriteUplinkDocument(input: {
  name: PackageName;
  raw: Buffer;
  baseUrl: string;
  signer: RegistrySigner;
}): RewrittenDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(input.raw.toString("utf8"));
  } catch {
    throw new UplinkFailure("the uplink sent a document that is not JSON");
  }
  if (!isRecord(doc) || doc.name !== input.name.name || !isRecord(doc.versions)) {
    throw new UplinkFailure(
      `the uplink sent something that is not the packument of ${input.name.name}`,
    );
  }
  const dists = new Map<string, UpstreamDist>();
  for (const [version, manifest] of Object.entries(doc.versions)) {
    if (!isRecord(manifest) || !isRecord(manifest.dist)) {
      delete doc.versions[version];
      continue;
    }
    const dist = manifest.dist;
    const integrity = typeof dist.integrity === "string" ? dist.integrity : null;
    const shasum = typeof dist.shasum === "string" ? dist.shasum : null;
    if (typeof dist.tarball === "string" && /^https?:\/\//.test(dist.tarball)) {
      dists.set(version, { url: dist.tarball, integrity, shasum });
    }
    const { attestations: _a, signatures: _s, ...rest } = dist;
    const signed = integrity
      ? { signatures: [input.signer.sign(input.name.name, version, integrity)] }
      : {};
    manifest.dist = { ...rest, ...signed, tarball: tarballUrl(input.baseUrl, input.name, version) };
  }
  delete doc._attachments;
  const time = isRecord(doc.time) ? doc.time : undefined;
  const modified =
    typeof doc.modified === "string"
      ? doc.modified
      : typeof time?.modified === "string"
        ? time.modified
        : null;
  const modifiedAt = modified ? new Date(modified) : null;
  return {
    text: JSON.stringify(doc),
    dists,
    modifiedAt: modifiedAt && !Number.isNaN(modifiedAt.getTime()) ? modifiedAt : null,
  };
}
