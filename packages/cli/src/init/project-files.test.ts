// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} references
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectNpmrc, projectYarnrc } from "./project-files.ts";

describe("projectYarnrc", () => {
  it("adds the scope beside existing scopes and lists, keeping comments; a second pass is a no-op", () => {
    const before = [
      "# company settings",
      "npmScopes:",
      "  other:",
      '    npmRegistryServer: "https://other.example"',
      'npmPreapprovedPackages: ["@other/*"]',
      "",
    ].join("\n");
    const once = projectYarnrc(before, "@myorg", "http://127.0.0.1:4873/");
    expect(once.startsWith("# company settings\n")).toBe(true);
    expect(parse(once)).toEqual({
      npmScopes: {
        other: { npmRegistryServer: "https://other.example" },
        myorg: {
          npmRegistryServer: "http://127.0.0.1:4873",
          npmAuthToken: "$" + "{PACKR_TOKEN:-}",
          npmAlwaysAuth: true,
        },
      },
      npmPreapprovedPackages: ["@other/*", "@myorg/*"],
      unsafeHttpWhitelist: ["127.0.0.1"],
    });
    expect(projectYarnrc(once, "@myorg", "http://127.0.0.1:4873/")).toBe(once);
  });

  it("an https registry needs no unsafeHttpWhitelist; a non-mapping file is refused", () => {
    expect(parse(projectYarnrc("", "@a", "https://npm.example.com/"))).not.toHaveProperty(
      "unsafeHttpWhitelist",
    );
    expect(() => projectYarnrc("- just\n- a list\n", "@a", "https://x.example/")).toThrow(
      /mapping/,
    );
  });
});

describe("projectNpmrc", () => {
  it("replaces a literal token with the ${PACKR_TOKEN} reference", () => {
    const out = projectNpmrc(
      "//npm.example.com/:_authToken=npm_literal\n",
      "@a",
      "https://npm.example.com/",
    );
    expect(out).toBe(
      "//npm.example.com/:_authToken=$" + "{PACKR_TOKEN}\n@a:registry=https://npm.example.com/\n",
    );
  });
});
