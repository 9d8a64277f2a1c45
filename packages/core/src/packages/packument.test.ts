import { describe, expect, it } from "vitest";
import { abbreviateVersion, normalizeVersionManifest } from "./manifest.ts";
import { parsePackageName } from "./names.ts";
import { buildPackuments, tarballUrl } from "./packument.ts";

const integrity = "sha512-abc";

describe("normalizeVersionManifest", () => {
  it("strips client-local fields, splits out the readme and sets the publisher", () => {
    const { manifest, readme } = normalizeVersionManifest({
      name: "@acme/widget",
      version: "1.0.0",
      raw: {
        name: "@acme/widget",
        version: "1.0.0",
        readme: "# hi",
        _resolved: "/tmp/x.tgz",
        _from: "file:x.tgz",
        _integrity: "sha512-x",
        _npmVersion: "11.19.1",
        bundledDependencies: ["a"],
        dist: { tarball: "http://elsewhere/x.tgz", integrity: "sha512-client", fileCount: 3 },
      },
      integrity,
      shasum: "abc",
      publisher: { name: "alice", email: "a@example.test" },
    });
    expect(readme).toBe("# hi");
    expect(manifest).not.toHaveProperty("_resolved");
    expect(manifest).not.toHaveProperty("_from");
    expect(manifest).not.toHaveProperty("_integrity");
    expect(manifest).not.toHaveProperty("readme");
    expect(manifest._npmVersion).toBe("11.19.1");
    expect(manifest._npmUser).toEqual({ name: "alice", email: "a@example.test" });
    expect(manifest.bundleDependencies).toEqual(["a"]);
    expect(manifest.dist).toEqual({ integrity, shasum: "abc", fileCount: 3 });
  });

  it("takes yarn's top-level readme when the version has none", () => {
    const { readme } = normalizeVersionManifest({
      name: "x",
      version: "1.0.0",
      raw: { name: "x", version: "1.0.0" },
      integrity,
      shasum: "abc",
      publisher: { name: "a" },
      topLevelReadme: "# from yarn",
    });
    expect(readme).toBe("# from yarn");
  });
});

describe("abbreviateVersion", () => {
  it("keeps install fields (with libc) and flags install scripts", () => {
    const out = abbreviateVersion({
      name: "x",
      version: "1.0.0",
      description: "dropped",
      scripts: { postinstall: "node build.js", test: "vitest" },
      libc: ["glibc"],
      dependencies: { a: "^1" },
      dist: { tarball: "t", integrity, shasum: "s" },
    });
    expect(out).toEqual({
      name: "x",
      version: "1.0.0",
      libc: ["glibc"],
      dependencies: { a: "^1" },
      dist: { tarball: "t", integrity, shasum: "s" },
      hasInstallScript: true,
    });
  });
});

describe("buildPackuments", () => {
  const name = parsePackageName("@acme/widget");
  const v = (
    version: string,
    at: string,
    extra: Partial<{ unpublishedAt: Date; deprecated: string }> = {},
  ) => ({
    version,
    manifest: {
      name: name.name,
      version,
      description: `v${version}`,
      dist: { integrity, shasum: "s" },
    },
    readme: `readme ${version}`,
    publishedAt: new Date(at),
    deprecated: extra.deprecated ?? null,
    unpublishedAt: extra.unpublishedAt ?? null,
  });
  const input = {
    name,
    createdAt: new Date("2026-01-01T00:00:00Z"),
    modifiedAt: new Date("2026-01-03T00:00:00Z"),
    rev: 3,
    revHash: "f00",
    versions: [
      v("1.10.0", "2026-01-03T00:00:00Z"),
      v("1.2.0", "2026-01-02T00:00:00Z", { deprecated: "old" }),
      v("1.1.0", "2026-01-01T12:00:00Z", { unpublishedAt: new Date() }),
    ],
    distTags: { latest: "1.10.0", beta: "1.1.0" },
    maintainers: [{ name: "alice", email: "a@example.test" }],
    baseUrl: "https://packr.example",
  };

  it("builds the full document npm and yarn read", () => {
    const { full } = buildPackuments(input);
    expect(full._id).toBe("@acme/widget");
    expect(full._rev).toBe("3-f00");
    expect(Object.keys(full.versions as object)).toEqual(["1.2.0", "1.10.0"]);
    // A tag pointing at an unpublished version is dropped rather than left dangling.
    expect(full["dist-tags"]).toEqual({ latest: "1.10.0" });
    expect(full.time).toMatchObject({
      created: "2026-01-01T00:00:00.000Z",
      modified: "2026-01-03T00:00:00.000Z",
      "1.1.0": "2026-01-01T12:00:00.000Z",
      "1.10.0": "2026-01-03T00:00:00.000Z",
    });
    expect(full.readme).toBe("readme 1.10.0");
    expect(full.description).toBe("v1.10.0");
    expect(full.maintainers).toEqual([{ name: "alice", email: "a@example.test" }]);
    const v12 = (full.versions as Record<string, Record<string, unknown>>)["1.2.0"];
    expect(v12?.deprecated).toBe("old");
    expect(v12?.dist).toEqual({
      integrity,
      shasum: "s",
      tarball: "https://packr.example/@acme/widget/-/widget-1.2.0.tgz",
    });
  });

  it("builds the abbreviated document with time", () => {
    const { abbreviated } = buildPackuments(input);
    expect(Object.keys(abbreviated).sort()).toEqual([
      "dist-tags",
      "modified",
      "name",
      "time",
      "versions",
    ]);
    expect((abbreviated.versions as Record<string, unknown>)["1.10.0"]).not.toHaveProperty(
      "description",
    );
  });

  it("marks a package whose versions are all unpublished", () => {
    const { full } = buildPackuments({
      ...input,
      versions: [v("1.0.0", "2026-01-01T00:00:00Z", { unpublishedAt: new Date() })],
      distTags: {},
    });
    expect((full.time as Record<string, unknown>).unpublished).toMatchObject({
      versions: ["1.0.0"],
    });
  });

  it("uses npm's conventional tarball path", () => {
    expect(tarballUrl("http://r", parsePackageName("@a/b"), "1.0.0")).toBe(
      "http://r/@a/b/-/b-1.0.0.tgz",
    );
    expect(tarballUrl("http://r", parsePackageName("b"), "1.0.0-rc.1")).toBe(
      "http://r/b/-/b-1.0.0-rc.1.tgz",
    );
  });
});
