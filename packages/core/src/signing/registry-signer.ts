import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";

export type RegistryKey = {
  expires: string | null;
  keyid: string;
  keytype: "ecdsa-sha2-nistp256";
  scheme: "ecdsa-sha2-nistp256";
  key: string;
};

export type Signature = { keyid: string; sig: string };

/**
 * Signs what npm verifies in `npm audit signatures`: the message `<name>@<version>:<integrity>`
 * with ECDSA P-256 over SHA-256, DER-encoded (pacote lib/registry.js; protocol §5.2). The public
 * key is served at `/-/npm/v1/keys`, identified by `SHA256:` + the unpadded base64 SHA-256 of its
 * SPKI DER encoding.
 */
export class RegistrySigner {
  private readonly privateKey: KeyObject;
  readonly key: RegistryKey;

  constructor(pkcs8Pem: string) {
    this.privateKey = createPrivateKey(pkcs8Pem);
    const details = this.privateKey.asymmetricKeyDetails;
    if (this.privateKey.asymmetricKeyType !== "ec" || details?.namedCurve !== "prime256v1") {
      throw new Error("PACKR_SIGNING_KEY must be an ECDSA P-256 private key (PKCS#8 PEM).");
    }
    const spki = createPublicKey(this.privateKey).export({ type: "spki", format: "der" });
    this.key = {
      expires: null,
      keyid: `SHA256:${createHash("sha256").update(spki).digest("base64").replace(/=+$/, "")}`,
      keytype: "ecdsa-sha2-nistp256",
      scheme: "ecdsa-sha2-nistp256",
      key: spki.toString("base64"),
    };
  }

  sign(name: string, version: string, integrity: string): Signature {
    const sig = sign("sha256", Buffer.from(`${name}@${version}:${integrity}`), this.privateKey);
    return { keyid: this.key.keyid, sig: sig.toString("base64") };
  }
}
