import { describe, expect, it } from "vitest";
import { parseExpiry, parseScope } from "../commands/token.ts";
import { splitTrailingJson } from "./pack.ts";

describe("splitTrailingJson", () => {
  it("finds npm pack's JSON after lifecycle-script output that itself looks like JSON", () => {
    const out =
      '\n> x@1.0.0 prepack\n> echo [1]\n\n[1]\n[\n  {\n    "filename": "x-1.0.0.tgz"\n  }\n]\n';
    const { json, before } = splitTrailingJson(out);
    expect(json).toEqual([{ filename: "x-1.0.0.tgz" }]);
    expect(before).toContain("prepack");
    expect(splitTrailingJson("no json here").json).toBeUndefined();
  });
});

describe("flag parsers", () => {
  it("--expires takes a duration; weeks, years and a bare number become days", () => {
    expect(parseExpiry("15m")).toBe("15m");
    expect(parseExpiry("3h")).toBe("3h");
    expect(parseExpiry("30d")).toBe("30d");
    expect(parseExpiry("30")).toBe("30d");
    expect(parseExpiry("2w")).toBe("14d");
    expect(parseExpiry("1y")).toBe("365d");
    for (const bad of ["0", "-1d", "soon", "1.5d", "15 minutes"])
      expect(() => parseExpiry(bad)).toThrow(/--expires/);
  });

  it("--scope accepts @x and x, refuses what npm would not", () => {
    expect(parseScope("myorg")).toBe("@myorg");
    expect(parseScope("@my-org.io")).toBe("@my-org.io");
    for (const bad of ["@My", "@a b", "@", "@a/b"])
      expect(() => parseScope(bad)).toThrow(/npm scope/);
  });
});
