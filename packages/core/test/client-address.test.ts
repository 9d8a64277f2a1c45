import { describe, expect, it } from "vitest";
import { clientAddress, proxyTrust } from "../src/auth/client-address.ts";
import { loadConfig } from "../src/config/config.ts";

describe("clientAddress", () => {
  const none = proxyTrust([]);
  const lb = proxyTrust(["10.0.0.0/8", "192.0.2.1", "fd00::/8"]);

  it("ignores X-Forwarded-For when no proxy is trusted (the default)", () => {
    expect(clientAddress("203.0.113.5", "1.2.3.4", none)).toBe("203.0.113.5");
    expect(clientAddress("::ffff:203.0.113.5", "1.2.3.4", none)).toBe("203.0.113.5");
    expect(clientAddress(undefined, "1.2.3.4", none)).toBeUndefined();
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    expect(clientAddress("203.0.113.5", "10.0.0.7", lb)).toBe("203.0.113.5");
  });

  it("takes the rightmost untrusted hop behind trusted proxies, never a spoofed leftmost one", () => {
    expect(clientAddress("10.0.0.2", "198.51.100.9", lb)).toBe("198.51.100.9");
    expect(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.9", lb)).toBe("198.51.100.9");
    expect(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.9, 10.1.2.3, 192.0.2.1", lb)).toBe(
      "198.51.100.9",
    );
    expect(clientAddress("fd00::1", "2001:db8::7, fd00::2", lb)).toBe("2001:db8::7");
    expect(clientAddress("10.0.0.2", "198.51.100.9:4711", lb)).toBe("198.51.100.9");
  });

  it("stops at an unparsable hop, and answers the leftmost when every hop is a proxy", () => {
    expect(clientAddress("10.0.0.2", "198.51.100.9, junk, 10.0.0.3", lb)).toBe("10.0.0.3");
    expect(clientAddress("10.0.0.2", "10.0.0.9, 10.0.0.3", lb)).toBe("10.0.0.9");
    expect(clientAddress("10.0.0.2", "", lb)).toBe("10.0.0.2");
  });
});

describe("PACKR_TRUSTED_PROXIES", () => {
  it("is empty by default, takes addresses and CIDR blocks, and refuses anything else", () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(
      loadConfig({ PACKR_TRUSTED_PROXIES: "10.0.0.1, 10.1.0.0/16 fd00::/8" }).trustedProxies,
    ).toEqual(["10.0.0.1", "10.1.0.0/16", "fd00::/8"]);
    for (const bad of ["10.0.0.0/33", "proxy.example", "10.0.0.1/8/2", "*"]) {
      expect(() => loadConfig({ PACKR_TRUSTED_PROXIES: bad })).toThrow(/PACKR_TRUSTED_PROXIES/);
    }
  });

  it("keeps PACKR_TRUST_PROXY=true as a deprecated alias that trusts loopback only", () => {
    const config = loadConfig({ PACKR_TRUST_PROXY: "true" });
    expect(config.trustProxyDeprecated).toBe(true);
    const trust = proxyTrust(config.trustedProxies);
    expect(trust("127.0.0.1")).toBe(true);
    expect(trust("::ffff:127.0.0.1")).toBe(true);
    expect(trust("::1")).toBe(true);
    expect(trust("10.0.0.1")).toBe(false);
  });
});
