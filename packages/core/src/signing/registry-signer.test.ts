import { createHash, generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RegistrySigner } from "./registry-signer.ts";

const pem = () =>
  generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();

describe("RegistrySigner", () => {
  it("signs name@version:integrity the way pacote verifies it", () => {
    const signer = new RegistrySigner(pem());
    const { keyid, sig } = signer.sign("@acme/widget", "1.0.0", "sha512-abc");
    expect(keyid).toBe(signer.key.keyid);
    // pacote builds a PEM from the served base64 key and verifies with createVerify('SHA256').
    const publicPem = `-----BEGIN PUBLIC KEY-----\n${signer.key.key}\n-----END PUBLIC KEY-----`;
    expect(
      verify(
        "sha256",
        Buffer.from("@acme/widget@1.0.0:sha512-abc"),
        publicPem,
        Buffer.from(sig, "base64"),
      ),
    ).toBe(true);
    expect(
      verify(
        "sha256",
        Buffer.from("@acme/widget@1.0.1:sha512-abc"),
        publicPem,
        Buffer.from(sig, "base64"),
      ),
    ).toBe(false);
  });

  it("names the key by the SHA-256 of its SPKI, unpadded", () => {
    const signer = new RegistrySigner(pem());
    const digest = createHash("sha256")
      .update(Buffer.from(signer.key.key, "base64"))
      .digest("base64");
    expect(signer.key.keyid).toBe(`SHA256:${digest.replace(/=+$/, "")}`);
    expect(signer.key).toMatchObject({
      keytype: "ecdsa-sha2-nistp256",
      scheme: "ecdsa-sha2-nistp256",
      expires: null,
    });
  });

  it("refuses keys of another kind", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    expect(() => new RegistrySigner(rsa)).toThrow(/P-256/);
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    expect(() => new RegistrySigner(p384)).toThrow(/P-256/);
  });
});
