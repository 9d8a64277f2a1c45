import { createHash, randomUUID } from "node:crypto";
import { isRecord } from "../packages/manifest.ts";
import type { PackageName } from "../packages/names.ts";
import { tarballUrl } from "../packages/packument.ts";
import type { RegistrySigner } from "../signing/registry-signer.ts";
import type { UpstreamDist } from "./uplink.ts";
import { UplinkFailure } from "./uplink-http.ts";

export type RewrittenDocument = {
  /** The document as served, UTF-8. */
  plain: Uint8Array;
  dists: Map<string, UpstreamDist>;
  modifiedAt: Date | null;
  /** Where each version's manifest lies in `plain` (byte offsets), for `GET /<name>/<version>`. */
  versions: VersionIndex;
  distTags: Record<string, string>;
  /** Names the served bytes: the uplink's document, the base URL and the signing key. */
  digest: string;
};

export type VersionIndex = Map<string, { start: number; end: number }>;

/** What a document rewrite needs; plain data, so it can be handed to a worker thread. */
export type RewriteRequest = { name: PackageName; raw: Uint8Array; baseUrl: string };

/** A rewrite's result, or why the uplink's document was refused (errors do not cross threads). */
export type RewriteOutcome = RewrittenDocument | { failure: string };

/**
 * Runs `rewriteUplinkDocument` elsewhere (the registry hands it to a worker thread), so that a
 * document of tens of MB is parsed and re-serialised without holding up the request thread.
 */
export type DocumentRewriter = (request: RewriteRequest) => Promise<RewriteOutcome>;

/** `rewriteUplinkDocument` with its refusal as a value: what a worker thread answers. */
export function rewriteOutcome(request: RewriteRequest, signer: RegistrySigner): RewriteOutcome {
  try {
    return rewriteUplinkDocument({ ...request, signer });
  } catch (err) {
    if (err instanceof UplinkFailure) return { failure: err.message };
    throw err;
  }
}

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
  raw: Uint8Array;
  baseUrl: string;
  signer: RegistrySigner;
}): RewrittenDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(
      Buffer.from(input.raw.buffer, input.raw.byteOffset, input.raw.byteLength).toString("utf8"),
    );
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
  const { plain, versions } = serialise(doc, doc.versions);
  const distTags: Record<string, string> = {};
  if (isRecord(doc["dist-tags"])) {
    for (const [tag, v] of Object.entries(doc["dist-tags"])) {
      if (typeof v === "string") distTags[tag] = v;
    }
  }
  const digest = createHash("sha256")
    .update(input.raw)
    .update(`\0${input.baseUrl}\0${input.signer.key.keyid}`)
    .digest("base64url")
    .slice(0, 22);
  return {
    plain,
    dists,
    modifiedAt: modifiedAt && !Number.isNaN(modifiedAt.getTime()) ? modifiedAt : null,
    versions,
    distTags,
    digest,
  };
}

/**
 * `JSON.stringify(doc)`, byte for byte, noting where each version's manifest lands: the versions
 * object is serialised entry by entry and spliced in where a placeholder no uplink can guess
 * stood, so the index costs no second serialisation.
 */
function serialise(
  doc: Record<string, unknown>,
  all: Record<string, unknown>,
): { plain: Buffer; versions: VersionIndex } {
  const placeholder = `packr-versions-${randomUUID()}`;
  const outer = JSON.stringify({ ...doc, versions: placeholder });
  const at = outer.indexOf(JSON.stringify(placeholder));
  const head = Buffer.from(outer.slice(0, at));
  const tail = Buffer.from(outer.slice(at + placeholder.length + 2));
  const parts: Buffer[] = [head, Buffer.from("{")];
  const versions: VersionIndex = new Map();
  let offset = head.byteLength + 1;
  let first = true;
  for (const [version, manifest] of Object.entries(all)) {
    if (manifest === undefined) continue;
    const key = Buffer.from(`${first ? "" : ","}${JSON.stringify(version)}:`);
    const value = Buffer.from(JSON.stringify(manifest));
    parts.push(key, value);
    offset += key.byteLength;
    versions.set(version, { start: offset, end: offset + value.byteLength });
    offset += value.byteLength;
    first = false;
  }
  parts.push(Buffer.from("}"), tail);
  return { plain: Buffer.concat(parts), versions };
}
