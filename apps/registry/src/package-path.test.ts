import { describe, expect, it } from "vitest";
import { parsePackageApiPath, parsePackagePath, rawPathname } from "./package-path.ts";

describe("parsePackagePath", () => {
  it.each([
    ["/left-pad", { kind: "packument", name: "left-pad" }],
    ["/@acme%2fwidget", { kind: "packument", name: "@acme/widget" }],
    ["/@acme%2Fwidget", { kind: "packument", name: "@acme/widget" }],
    ["/@acme/widget", { kind: "packument", name: "@acme/widget" }],
    ["/@acme/widget/1.0.0", { kind: "version", name: "@acme/widget", spec: "1.0.0" }],
    ["/@acme%2fwidget/latest", { kind: "version", name: "@acme/widget", spec: "latest" }],
    [
      "/left-pad/-/left-pad-1.3.0.tgz",
      { kind: "tarball", name: "left-pad", filename: "left-pad-1.3.0.tgz" },
    ],
    [
      "/@acme/widget/-/widget-1.0.0.tgz",
      { kind: "tarball", name: "@acme/widget", filename: "widget-1.0.0.tgz" },
    ],
    [
      "/@acme%2fwidget/-/widget-1.0.0.tgz",
      { kind: "tarball", name: "@acme/widget", filename: "widget-1.0.0.tgz" },
    ],
    ["/left-pad/-rev/3-abc", { kind: "packument-rev", name: "left-pad", rev: "3-abc" }],
    ["/@acme%2fwidget/-rev/3-abc", { kind: "packument-rev", name: "@acme/widget", rev: "3-abc" }],
    [
      "/@acme/widget/-/widget-1.0.0.tgz/-rev/4-def",
      { kind: "tarball-rev", name: "@acme/widget", filename: "widget-1.0.0.tgz", rev: "4-def" },
    ],
    [
      "/left-pad/-/left-pad-1.3.0.tgz/-rev/4-def",
      { kind: "tarball-rev", name: "left-pad", filename: "left-pad-1.3.0.tgz", rev: "4-def" },
    ],
    ["/left-pad/-rev", { kind: "version", name: "left-pad", spec: "-rev" }],
    ["/%2e%2e", { kind: "packument", name: ".." }],
    ["/@acme%2f..", { kind: "packument", name: "@acme/.." }],
  ])("%s", (path, expected) => {
    expect(parsePackagePath(path)).toEqual(expected);
  });

  it("rejects undecodable and empty paths", () => {
    expect(parsePackagePath("/%E0%A4%A")).toBeNull();
    expect(parsePackagePath("/")).toBeNull();
    expect(parsePackagePath("/@acme")).toBeNull();
  });
});

describe("parsePackageApiPath", () => {
  it.each([
    ["/-/package/left-pad/dist-tags", { name: "left-pad", rest: ["dist-tags"] }],
    ["/-/package/@acme%2fwidget/dist-tags", { name: "@acme/widget", rest: ["dist-tags"] }],
    [
      "/-/package/@acme%2Fwidget/dist-tags/beta",
      { name: "@acme/widget", rest: ["dist-tags", "beta"] },
    ],
    [
      "/-/package/@acme/widget/dist-tags/next%2Done",
      { name: "@acme/widget", rest: ["dist-tags", "next-one"] },
    ],
  ])("%s", (path, expected) => {
    expect(parsePackageApiPath(path)).toEqual(expected);
  });

  it("rejects other paths", () => {
    expect(parsePackageApiPath("/left-pad")).toBeNull();
    expect(parsePackageApiPath("/-/package/@acme")).toBeNull();
    expect(parsePackageApiPath("/-/package/%E0%A4%A/dist-tags")).toBeNull();
  });
});

describe("rawPathname", () => {
  it.each([
    "http://localhost/left-pad",
    "http://localhost/@acme%2fwidget?write=true",
    "http://127.0.0.1:4873/@acme/widget/-/widget-1.0.0.tgz",
    "http://localhost/",
    "http://localhost",
    "http://localhost/a?b?c",
    "http://[::1]:8080/x%20y/-rev/3-abc",
    "http://localhost/%2e%2e%2fetc%2fpasswd",
    "http://localhost/bad%01name",
  ])("slices %s as new URL().pathname would", (url) => {
    const normalized = new Request(url).url;
    expect(rawPathname(normalized)).toBe(new URL(normalized).pathname);
  });
});
