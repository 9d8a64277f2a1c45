import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import type { WebhookConfig } from "../config/config.ts";
import { PackrError } from "../errors.ts";

/** What a webhook may be sent to: the parsed URL and the addresses its host resolved to, all checked. */
export type CheckedTarget = {
  url: URL;
  /** Every address the host resolved to, each allowed; a delivery connects to one of these. */
  addresses: Array<{ address: string; family: 4 | 6 }>;
};

/**
 * ipaddr.js range names that are never the public internet: loopback, RFC 1918, link-local (and
 * with it the 169.254.169.254 metadata address), CGNAT, unique-local, multicast, the unspecified
 * `0.0.0.0`/`::`, and the reserved and documentation blocks. Only `unicast` is public.
 */
const PUBLIC_RANGES = new Set(["unicast"]);

/** Is this address somewhere a hook may not point (unless PACKR_WEBHOOK_ALLOW_PRIVATE)? */
export function isPrivateAddress(address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return true;
  }
  // `::ffff:127.0.0.1` is 127.0.0.1: judge the IPv4 address it carries.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return !PUBLIC_RANGES.has(parsed.range());
}

/** The URL's host as a resolver takes it: IPv6 literals lose their brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

/**
 * Check a webhook target at save and again before every delivery (DNS may change between the two):
 * `https:` (or `http:` with PACKR_WEBHOOK_ALLOW_HTTP), no credentials in the URL, and every address
 * its host resolves to public (unless PACKR_WEBHOOK_ALLOW_PRIVATE). The WHATWG parser has already
 * turned decimal, octal and hex IPv4 spellings (`2130706433`, `0177.0.0.1`) into dotted form, so
 * they are judged as the address they are. Throws VALIDATION with a sentence naming the problem.
 */
export async function checkWebhookUrl(
  config: Pick<WebhookConfig, "allowHttp" | "allowPrivate">,
  raw: string,
  resolve: (host: string) => Promise<Array<{ address: string; family: number }>> = (host) =>
    lookup(host, { all: true, verbatim: true }),
): Promise<CheckedTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PackrError("VALIDATION", `The webhook URL "${raw}" is not a URL.`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && config.allowHttp)) {
    throw new PackrError(
      "VALIDATION",
      url.protocol === "http:"
        ? "The webhook URL must use https: (http: targets are allowed only with PACKR_WEBHOOK_ALLOW_HTTP=true)."
        : `The webhook URL must use https:, not ${url.protocol}`,
    );
  }
  if (url.username || url.password) {
    throw new PackrError(
      "VALIDATION",
      "The webhook URL must not carry a user name or password: the signature authenticates Packr.",
    );
  }
  const host = hostOf(url);
  let found: Array<{ address: string; family: number }>;
  if (ipaddr.isValid(host)) {
    found = [{ address: host, family: host.includes(":") ? 6 : 4 }];
  } else {
    try {
      found = await resolve(host);
    } catch (err) {
      throw new PackrError("VALIDATION", `The webhook host "${host}" does not resolve.`, {
        cause: err,
      });
    }
    if (found.length === 0) {
      throw new PackrError("VALIDATION", `The webhook host "${host}" does not resolve.`);
    }
  }
  if (!config.allowPrivate) {
    const refused = found.find((a) => isPrivateAddress(a.address));
    if (refused) {
      throw new PackrError(
        "VALIDATION",
        `The webhook host "${host}" resolves to ${refused.address}, a private, loopback, link-local or reserved address: hooks may only target public addresses.`,
      );
    }
  }
  return {
    url,
    addresses: found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })),
  };
}
