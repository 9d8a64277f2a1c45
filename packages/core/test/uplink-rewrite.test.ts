import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parsePackageName } from "../src/packages/names.ts";
import { RegistrySigner } from "../src/signing/registry-signer.ts";
import { rewriteOutcome, rewriteUplinkDocument } from "../src/uplink/rewrite-document.ts";

const signer = new RegistrySigner(
  generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString(),
);
const integrity = (s: string) => `sha512-${createHash("sha512").update(s).digest("base64")}`;

describe("rewriteUplinkDocument", () => {
  it("serialises as JSON.stringify would, and indexes each version's manifest by byte offsets", () => {
    const raw = {
      _id: "emoji",
      name: "emoji",
      "dist-tags": { latest: "1.1.0", next: "2.0.0-rc.1" },
      versions: {
        "1.0.0": {
          name: "emoji",
          version: "1.0.0",
          description: "ünïcödé 🎉 \u2028",
          dist: {
            tarball: "https://up.example/émoji/-/émoji-1.0.0.tgz",
            integrity: integrity("a"),
            signatures: [{ keyid: "theirs", sig: "x" }],
            attestations: { url: "https://up.example/att" },
          },
        },
        "1.1.0": { name: "emoji", version: "1.1.0", dist: { tarball: "https://up/x.tgz" } },
        broken: "not a manifest",
        "2.0.0-rc.1": { name: "emoji", version: "2.0.0-rc.1", dist: { shasum: "ab" } },
      },
      readme: "🎉".repeat(10),
      time: { modified: "2024-01-02T03:04:05.000Z" },
    };
    const out = rewriteUplinkDocument({
      name: parsePackageName("emoji".replace("é", "e")),
      raw: Buffer.from(JSON.stringify({ ...raw, name: "emoji" })),
      baseUrl: "http://packr.test",
      signer,
    });
    const plain = Buffer.from(out.plain);
    const parsed = JSON.parse(plain.toString("utf8"));
    // Byte for byte what JSON.stringify gives for the same object, key order kept.
    expect(plain.equals(Buffer.from(JSON.stringify(parsed)))).toBe(true);
    expect(Object.keys(parsed)).toEqual(["_id", "name", "dist-tags", "versions", "readme", "time"]);
    expect(Object.keys(parsed.versions)).toEqual(["1.0.0", "1.1.0", "2.0.0-rc.1"]);
    expect([...out.versions.keys()]).toEqual(["1.0.0", "1.1.0", "2.0.0-rc.1"]);
    for (const [version, at] of out.versions) {
      const slice = JSON.parse(plain.subarray(at.start, at.end).toString("utf8"));
      expect(slice).toEqual(parsed.versions[version]);
    }
    const v1 = parsed.versions["1.0.0"];
    expect(v1.dist.tarball).toBe("http://packr.test/emoji/-/emoji-1.0.0.tgz");
    expect(v1.dist.attestations).toBeUndefined();
    expect(v1.dist.signatures[0].keyid).toBe(signer.key.keyid);
    expect(out.distTags).toEqual({ latest: "1.1.0", next: "2.0.0-rc.1" });
    expect(out.modifiedAt?.toISOString()).toBe("2024-01-02T03:04:05.000Z");
  });

  it("answers a document that is not the packument asked for as a failure value (what a worker returns)", () => {
    const name = parsePackageName("wanted");
    const other = rewriteOutcome(
      {
        name,
        raw: Buffer.from(JSON.stringify({ name: "other", versions: {} })),
        baseUrl: "http://p",
      },
      signer,
    );
    expect(other).toEqual({
      failure: "the uplink sent something that is not the packument of wanted",
    });
    const junk = rewriteOutcome({ name, raw: Buffer.from("{nope"), baseUrl: "http://p" }, signer);
    expect(junk).toEqual({ failure: "the uplink sent a document that is not JSON" });
  });
});
