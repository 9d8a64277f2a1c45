/**
 * Secrets never reach a log line. npm logout puts the token in the path (`DELETE
 * /-/user/token/<token>`), `npm token revoke` may put one in `/-/npm/v1/tokens/token/<ref>`, and
 * any field could carry a token or a signed session by accident; the logger passes every line
 * through `scrubSecrets` as a last line of defence.
 */
const TOKEN_PATH = /^(\/-\/user\/token\/|\/-\/npm\/v1\/tokens\/token\/)[^/]+/;

/** A JWT (Packr's tokens, OIDC id tokens): three base64url parts, the first a JSON header. */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;
/** A signed session (`ses_<id>.<mac>`, the cookie and x-packr-session value): the MAC goes. */
const SIGNED_SESSION = /(ses_[A-Za-z0-9]+)\.[A-Za-z0-9_-]{16,}/g;

export const REDACTED = "[redacted]";

/** A request path as logged: the token segment of logout and token-revoke paths is replaced. */
export function redactPath(path: string): string {
  return path.replace(TOKEN_PATH, `$1${REDACTED}`);
}

/** A log line with anything shaped like a token or a signed session replaced. */
export function scrubSecrets(line: string): string {
  return line.replace(JWT, REDACTED).replace(SIGNED_SESSION, `$1.${REDACTED}`);
}
