import { describe, expect, it } from "vitest";
import { parsePackagePath } from "./package-path.ts";

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
