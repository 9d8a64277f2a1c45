// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} references
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectNpmrc, projectYarnrc, userAuthLine, userAuthStep } from "./project-files.ts";

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
  it("writes only the scope's registry and takes this registry's credential line out", () => {
    const out = projectNpmrc(
      "save-exact=true\n//npm.example.com/:_authToken=${PACKR_TOKEN}\n//other.example/:_authToken=x\n",
      "@a",
      "https://npm.example.com/",
    );
    expect(out).toBe(
      "save-exact=true\n//other.example/:_authToken=x\n@a:registry=https://npm.example.com/\n",
    );
    expect(projectNpmrc(out, "@a", "https://npm.example.com/")).toBe(out);
  });
});

describe("userAuthLine / userAuthStep", () => {
  it("is the nerf-dart key with the ${PACKR_TOKEN} reference, and a step that appends it", () => {
    expect(userAuthLine("https://npm.example.com/packr/")).toBe(
      "//npm.example.com/packr/:_authToken=${PACKR_TOKEN}",
    );
    expect(userAuthStep("http://127.0.0.1:4873/")).toBe(
      "echo '//127.0.0.1:4873/:_authToken=${PACKR_TOKEN}' >> ~/.npmrc",
    );
  });
});
