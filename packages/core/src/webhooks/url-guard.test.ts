import { describe, expect, it } from "vitest";
import { checkWebhookUrl, isPrivateAddress } from "./url-guard.ts";

const strict = { allowHttp: false, allowPrivate: false };
const resolveTo =
  (...addresses: string[]) =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

describe("checkWebhookUrl", () => {
  it.each([
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://10.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://0.0.0.0/",
    "https://2130706433/", // decimal 127.0.0.1
    "https://0177.0.0.1/", // octal 127.0.0.1
    "https://0x7f.1/", // hex and short form
    "https://100.64.0.1/", // CGNAT
    "https://[fd00::1]/", // unique-local
    "https://[::ffff:127.0.0.1]/", // IPv4-mapped loopback
    "https://224.0.0.1/", // multicast
    "https://192.168.1.10/",
  ])("refuses %s", async (url) => {
    await expect(checkWebhookUrl(strict, url)).rejects.toMatchObject({ code: "VALIDATION" });
  });

  it("refuses a name that resolves to loopback, and names the address", async () => {
    await expect(
      checkWebhookUrl(
        strict,
        "https://hooks.example.com/x",
        resolveTo("93.184.216.34", "127.0.0.1"),
      ),
    ).rejects.toThrow(/127\.0\.0\.1/);
  });

  it("refuses http: unless allowed, and credentials always", async () => {
    await expect(
      checkWebhookUrl(strict, "http://hooks.example.com/", resolveTo("93.184.216.34")),
    ).rejects.toThrow(/PACKR_WEBHOOK_ALLOW_HTTP/);
    await expect(checkWebhookUrl(strict, "ftp://x/")).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(
      checkWebhookUrl(strict, "https://u:p@hooks.example.com/", resolveTo("93.184.216.34")),
    ).rejects.toThrow(/user name or password/);
  });

  it("accepts a public host and returns the addresses it checked", async () => {
    const t = await checkWebhookUrl(
      strict,
      "https://hooks.example.com/x",
      resolveTo("93.184.216.34"),
    );
    expect(t.addresses).toEqual([{ address: "93.184.216.34", family: 4 }]);
    expect(t.url.pathname).toBe("/x");
  });

  it("lets loopback through only with allowPrivate", async () => {
    const t = await checkWebhookUrl({ allowHttp: true, allowPrivate: true }, "http://127.0.0.1:9/");
    expect(t.addresses[0]?.address).toBe("127.0.0.1");
  });

  it("classifies addresses", () => {
    expect(isPrivateAddress("8.8.8.8")).toBe(false);
    expect(isPrivateAddress("2606:4700::1111")).toBe(false);
    expect(isPrivateAddress("172.16.5.4")).toBe(true);
    expect(isPrivateAddress("fe80::1")).toBe(true);
    expect(isPrivateAddress("not an ip")).toBe(true);
  });
});
