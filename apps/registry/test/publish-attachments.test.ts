import { createHash } from "node:crypto";
import { makeTarballSync, publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

type Attachment = { content_type?: string; data: string; length?: number };
type Body = Record<string, unknown> & { _attachments: Record<string, Attachment> };

/** npm's publish body with its attachments replaced (keys and bytes as another tool would send). */
function withAttachments(
  name: string,
  version: string,
  bytes: Buffer,
  attachments: Body["_attachments"],
) {
  const body = publishBody(name, version, { bytes }) as Body;
  body._attachments = attachments;
  return body;
}

const tgz = (bytes: Buffer): Attachment => ({
  content_type: "application/octet-stream",
  data: bytes.toString("base64"),
  length: bytes.byteLength,
});

/**
 * The key of the tarball attachment carries no meaning (Verdaccio's e2e suite, and tools built on
 * it, key it `<name-without-scope>-<version>.tgz`): one tarball whose bytes match the version's
 * dist.integrity/shasum is the package, whatever it is called; zero or several are refused.
 */
describe("publish: the tarball attachment", () => {
  let reg: TestRegistry;
  let token: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    token = await reg.login("admin", ADMIN_PASSWORD);
  });
  afterAll(async () => reg.close());

  it.each([
    ["@acme/keyed-bare", "keyed-bare-1.0.0.tgz"],
    ["keyed-odd", "package.tgz"],
    ["@acme/keyed-anything", "whatever it is called"],
  ])(
    "accepts %s with its one tarball keyed %j, served under the registry's own name",
    async (name, key) => {
      const bytes = makeTarballSync({ name, version: "1.0.0" });
      const body = withAttachments(name, "1.0.0", bytes, { [key]: tgz(bytes) });
      const escaped = name.replace("/", "%2f");
      const res = await client(reg.app, token).put(`/${escaped}`, body);
      expect(res.status, await res.clone().text()).toBe(201);

      const doc = (await (await client(reg.app, token).get(`/${escaped}`)).json()) as {
        versions: Record<string, { dist: { tarball: string; integrity: string } }>;
      };
      const dist = doc.versions["1.0.0"]?.dist;
      const file = `${name.replace(/^@[^/]+\//, "")}-1.0.0.tgz`;
      expect(dist?.tarball).toBe(`http://registry.test/${name}/-/${file}`);
      expect(dist?.integrity).toBe(`sha512-${createHash("sha512").update(bytes).digest("base64")}`);
      const download = await client(reg.app, token).get(`/${name}/-/${file}`);
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    },
  );

  it("accepts a provenance bundle beside the tarball (npm publish --provenance)", async () => {
    const bytes = makeTarballSync({ name: "with-provenance", version: "1.0.0" });
    const bundle = JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.2",
    });
    const body = withAttachments("with-provenance", "1.0.0", bytes, {
      "with-provenance-1.0.0.tgz": tgz(bytes),
      "with-provenance-1.0.0.sigstore": {
        content_type: "application/vnd.dev.sigstore.bundle+json;version=0.2",
        data: bundle,
        length: bundle.length,
      },
    });
    expect((await client(reg.app, token).put("/with-provenance", body)).status).toBe(201);
    const download = await client(reg.app).get("/with-provenance/-/with-provenance-1.0.0.tgz");
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("refuses a publish with no tarball attachment, naming the version", async () => {
    const bytes = Buffer.from("never sent");
    const none: Body["_attachments"][] = [
      {},
      // A provenance bundle alone is not a tarball.
      {
        "none-1.0.0.sigstore": {
          content_type: "application/vnd.dev.sigstore.bundle+json",
          data: "e30=",
        },
      },
    ];
    for (const attachments of none) {
      const res = await client(reg.app, token).put(
        "/none",
        withAttachments("none", "1.0.0", bytes, attachments),
      );
      const err = await expectError(res, 400, "VALIDATION");
      expect(err.error).toBe(
        "A publish must carry the tarball of none@1.0.0 in _attachments; this one has none.",
      );
    }
    await expectError(await client(reg.app, token).get("/none"), 404, "NOT_FOUND");
  });

  it("refuses two tarball attachments, naming them, and publishes nothing", async () => {
    const bytes = Buffer.from("which one?");
    const body = withAttachments("@acme/twice", "1.0.0", bytes, {
      "@acme/twice-1.0.0.tgz": tgz(bytes),
      "twice-1.0.0.tgz": tgz(bytes),
    });
    const err = await expectError(
      await client(reg.app, token).put("/@acme%2ftwice", body),
      400,
      "VALIDATION",
    );
    expect(err.error).toBe(
      'A publish carries exactly one tarball attachment; this one has 2 ("@acme/twice-1.0.0.tgz", "twice-1.0.0.tgz").',
    );
    await expectError(await client(reg.app, token).get("/@acme%2ftwice"), 404, "NOT_FOUND");
  });

  it("refuses an odd-named attachment whose bytes do not match dist.integrity or dist.shasum", async () => {
    const declared = Buffer.from("the bytes the manifest describes");
    const sent = Buffer.from("other bytes under any name");
    const body = withAttachments("mismatch", "1.0.0", declared, { "mismatch.tgz": tgz(sent) });
    const err = await expectError(
      await client(reg.app, token).put("/mismatch", body),
      400,
      "INTEGRITY_MISMATCH",
    );
    expect(err.error).toMatch(/does not match its dist\.integrity/);

    // Only a shasum declared (old clients): still checked.
    const shaOnly = withAttachments("mismatch", "1.0.0", declared, { "x.tgz": tgz(sent) });
    const dist = (shaOnly.versions as Record<string, { dist: Record<string, string> }>)["1.0.0"]
      ?.dist;
    delete dist?.integrity;
    const err2 = await expectError(
      await client(reg.app, token).put("/mismatch", shaOnly),
      400,
      "INTEGRITY_MISMATCH",
    );
    expect(err2.error).toMatch(/does not match its dist\.shasum/);
    await expectError(await client(reg.app, token).get("/mismatch"), 404, "NOT_FOUND");
  });

  it("still asks for a token before looking at the attachment", async () => {
    const bytes = Buffer.from("anonymous");
    const body = withAttachments("anon-odd", "1.0.0", bytes, { "anything.tgz": tgz(bytes) });
    await expectError(await client(reg.app).put("/anon-odd", body), 401, "UNAUTHORIZED");
  });
});
