import { describe, expect, it } from "vitest";
import { classifyPackagePut, classifyPackageRevPut } from "./put-kind.ts";

describe("classifyPackagePut (protocol §6)", () => {
  it.each([
    ["publish", { name: "x", versions: { "1.0.0": {} }, _attachments: { "x-1.0.0.tgz": {} } }],
    // An empty _attachments is still a publish, which then says the tarball is missing.
    ["publish", { versions: { "1.0.0": { deprecated: "x" } }, _attachments: {} }],
    ["deprecate", { _id: "x", versions: { "1.0.0": { deprecated: "old" }, "2.0.0": {} } }],
    ["deprecate", { versions: { "1.0.0": { deprecated: "" } } }],
    ["star", { _id: "x", _rev: "1-a", users: { alice: true } }],
    ["star", { users: {} }],
    // Neither: publish's validation explains what a publish needs.
    ["publish", { name: "x", versions: {} }],
    ["publish", { _id: "x", users: {}, versions: {} }],
    ["publish", "text"],
    ["publish", null],
  ])("%s ← %j", (kind, body) => {
    expect(classifyPackagePut(body)).toBe(kind);
  });
});

describe("classifyPackageRevPut (protocol §6)", () => {
  it.each([
    ["unpublish", { _id: "x", versions: {}, maintainers: [{ name: "a" }] }],
    ["owners", { _id: "x", _rev: "1-a", maintainers: [] }],
    ["unknown", { _id: "x", maintainers: "alice" }],
    ["unknown", { versions: [] }],
    ["unknown", []],
    ["unknown", null],
  ])("%s ← %j", (kind, body) => {
    expect(classifyPackageRevPut(body)).toBe(kind);
  });
});
