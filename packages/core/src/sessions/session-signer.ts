import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signs and checks `packr_session` values: `<sessionId>.<base64url HMAC-SHA256(sessionId)>` with
 * SESSION_SECRET. The signature lets a forged or mangled cookie be refused without a query; the
 * session row (expiry, revocation) is checked after it.
 */
export class SessionSigner {
  constructor(private readonly secret: string) {}

  sign(sessionId: string): string {
    return `${sessionId}.${this.mac(sessionId)}`;
  }

  /** The session id of a well-signed value, else null. */
  open(value: string): string | null {
    if (value.length > 512) return null;
    const dot = value.lastIndexOf(".");
    if (dot <= 0) return null;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), "utf8");
    const expected = Buffer.from(this.mac(id), "utf8");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return id;
  }

  private mac(id: string): string {
    return createHmac("sha256", this.secret).update(id).digest("base64url");
  }
}
