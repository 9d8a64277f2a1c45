import { describe, expect, it } from "vitest";
import { CliError } from "../errors.ts";
import {
  parseOrg,
  parseOrgOrTeam,
  parseOrgRole,
  parsePackage,
  parsePermission,
  parseTeam,
  parseUser,
} from "./names.ts";

/** The usage error (exit 2) a parser throws, for its sentence. */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    return (err as CliError).message;
  }
  throw new Error("expected a usage error");
}

describe("org, team and access arguments", () => {
  it("takes an org with or without its @", () => {
    expect(parseOrg("acme")).toBe("acme");
    expect(parseOrg("@acme")).toBe("acme");
    expect(parseOrg("my-org.js")).toBe("my-org.js");
    expect(usage(() => parseOrg("acme:frontend"))).toContain("names a team");
    expect(usage(() => parseOrg(""))).toContain("must be an org such as @acme");
    for (const bad of ["@", "a/b", "../x", "-x", "a b", "%2e%2e", "x".repeat(215)]) {
      expect(
        usage(() => parseOrg(bad)),
        bad,
      ).toContain("must be an org");
    }
  });

  it("takes a team as org:team and says what is missing", () => {
    expect(parseTeam("acme:frontend")).toEqual({ org: "acme", team: "frontend" });
    expect(parseTeam("@acme:web-app")).toEqual({ org: "acme", team: "web-app" });
    expect(usage(() => parseTeam("acme"))).toBe(
      '<org:team> names a team as org:team, such as acme:frontend; got "acme" with no ":team".',
    );
    expect(usage(() => parseTeam("acme:"))).toContain('"" is not a team name');
    expect(usage(() => parseTeam("acme:a/b"))).toContain('"a/b" is not a team name');
    expect(usage(() => parseTeam(":frontend"))).toContain("must be an org");
    expect(parseOrgOrTeam("acme", "x")).toEqual({ org: "acme" });
    expect(parseOrgOrTeam("acme:ops", "x")).toEqual({ org: "acme", team: "ops" });
  });

  it("maps npm's role names onto Packr's and refuses others", () => {
    expect(parseOrgRole("reader")).toBe("reader");
    expect(parseOrgRole("Maintainer")).toBe("maintainer");
    expect(parseOrgRole("developer")).toBe("maintainer");
    expect(parseOrgRole("owner")).toBe("admin");
    expect(usage(() => parseOrgRole("god", "--role"))).toContain(
      "--role must be reader, maintainer or admin",
    );
  });

  it("checks users, permissions and package names", () => {
    expect(parseUser("bob")).toBe("bob");
    expect(parseUser("@bob")).toBe("bob");
    expect(usage(() => parseUser("bob/../x"))).toContain("user name");
    expect(parsePermission("read-write")).toBe("read-write");
    expect(usage(() => parsePermission("write"))).toContain("read-only or read-write");
    expect(parsePackage("@acme/ui")).toBe("@acme/ui");
    expect(parsePackage("left-pad")).toBe("left-pad");
    for (const bad of ["@acme", "@acme/", "a/b/c", "@acme/ui x", ""]) {
      expect(
        usage(() => parsePackage(bad)),
        bad,
      ).toContain("package name");
    }
  });
});
