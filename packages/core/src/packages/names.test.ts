import { describe, expect, it } from "vitest";
import { PackrError } from "../errors.ts";
import { parsePackageName } from "./names.ts";

describe("parsePackageName", () => {
  it("reads the names npm still serves for old packages, but publishes only new-style names", () => {
    for (const old of ["JSONStream", "punycode", "Base64"]) {
      expect(parsePackageName(old).name).toBe(old);
      expect(() => parsePackageName(old, "new")).toThrow(PackrError);
    }
    for (const hostile of ["..", "@acme/..", "a\u0001b", "x".repeat(215), "a/b", " x"]) {
      expect(() => parsePackageName(hostile)).toThrow(PackrError);
    }
  });

  it("splits scoped and unscoped names", () => {
    expect(parsePackageName("@acme/widget")).toEqual({
      name: "@acme/widget",
      scope: "acme",
      basename: "widget",
    });
    expect(parsePackageName("left-pad")).toEqual({
      name: "left-pad",
      scope: null,
      basename: "left-pad",
    });
  });

  it.each([
    ["..", /path|period/],
    ["../x", /slash|period|URL/],
    ["@acme/..", /path|period/],
    ["@acme/../x", /slash|scoped|URL/],
    ["a\u0001b", /control characters/],
    ["x".repeat(215), /longer than 214/],
    ["", /empty/],
    ["UPPER", /capital/],
    ["@/x", /scoped|URL|name/],
    ["node_modules", /blocklisted|not a valid/],
    [" spaced", /space|whitespace|URL/],
  ])("refuses %j with a sentence that says why", (name, why) => {
    let error: unknown;
    try {
      parsePackageName(name, "new");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PackrError);
    expect((error as PackrError).code).toBe("INVALID_PACKAGE_NAME");
    expect((error as PackrError).message).toMatch(why);
  });
});
