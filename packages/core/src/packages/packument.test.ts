import { describe, expect, it } from "vitest";
import {
  abbreviateVersion,
  normalizeVersionManifest,
  serializeEntry,
  withTarball,
} from "./manifest.ts";
import { parsePackageName } from "./names.ts";
import { assemblePackument, type PackumentInput, tarballUrl } from "./packument.ts";

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

describe("serializeEntry / withTarball", () => {
  it("puts dist last so the tarball URL is appended without parsing", () => {
    const json = serializeEntry({
      dist: { integrity, tarball: "dropped" },
      name: "x",
      version: "1.0.0",
    });
    expect(json.endsWith("}}")).toBe(true);
    expect(JSON.parse(withTarball(json, 'http://r/x/-/x-1.0.0.tgz?"q"'))).toEqual({
      name: "x",
      version: "1.0.0",
      dist: { integrity, tarball: 'http://r/x/-/x-1.0.0.tgz?"q"' },
    });
  });
});

describe("assemblePackument", () => {
  const name = parsePackageName("@acme/widget");
  const entry = (
    version: string,
    at: string,
    extra: Partial<{ unpublishedAt: Date; deprecated: string }> = {},
  ) => {
    const manifest = {
      name: name.name,
      version,
      description: `v${version}`,
      ...(extra.deprecated ? { deprecated: extra.deprecated } : {}),
      dist: { integrity, shasum: "s" },
    };
    return {
      version,
      publishedAt: new Date(at),
      unpublishedAt: extra.unpublishedAt ?? null,
      manifest,
    };
  };
  const versions = [
    entry("1.1.0", "2026-01-01T12:00:00Z", { unpublishedAt: new Date() }),
    entry("1.2.0", "2026-01-02T00:00:00Z", { deprecated: "old" }),
    entry("1.10.0", "2026-01-03T00:00:00Z"),
  ];
  const input = (kind: "full" | "abbreviated"): PackumentInput => ({
    kind,
    name,
    createdAt: new Date("2026-01-01T00:00:00Z"),
    modifiedAt: new Date("2026-01-03T00:00:00Z"),
    rev: "3-f00",
    entries: versions.map((v) => ({
      ...v,
      json: serializeEntry(kind === "full" ? v.manifest : abbreviateVersion(v.manifest)),
    })),
    distTags: { latest: "1.10.0", beta: "1.1.0" },
    maintainers: [{ name: "alice", email: "a@example.test" }],
    latest: { manifest: { description: "v1.10.0", license: "MIT" }, readme: "readme 1.10.0" },
    baseUrl: "https://packr.example",
  });

  it("builds the full document npm and yarn read", () => {
    const full = JSON.parse(assemblePackument(input("full")));
    expect(full._id).toBe("@acme/widget");
    expect(full._rev).toBe("3-f00");
    expect(Object.keys(full.versions)).toEqual(["1.2.0", "1.10.0"]);
    // A tag pointing at an unpublished version is dropped rather than left dangling.
    expect(full["dist-tags"]).toEqual({ latest: "1.10.0" });
    expect(full.time).toEqual({
      created: "2026-01-01T00:00:00.000Z",
      modified: "2026-01-03T00:00:00.000Z",
      "1.1.0": "2026-01-01T12:00:00.000Z",
      "1.2.0": "2026-01-02T00:00:00.000Z",
      "1.10.0": "2026-01-03T00:00:00.000Z",
    });
    expect(full).toMatchObject({
      readme: "readme 1.10.0",
      readmeFilename: "README.md",
      description: "v1.10.0",
      license: "MIT",
    });
    expect(full.maintainers).toEqual([{ name: "alice", email: "a@example.test" }]);
    expect(full.versions["1.2.0"].deprecated).toBe("old");
    expect(full.versions["1.2.0"].dist).toEqual({
      integrity,
      shasum: "s",
      tarball: "https://packr.example/@acme/widget/-/widget-1.2.0.tgz",
    });
  });

  it("builds the abbreviated document with time", () => {
    const abbreviated = JSON.parse(assemblePackument(input("abbreviated")));
    expect(Object.keys(abbreviated)).toEqual(["name", "modified", "dist-tags", "versions", "time"]);
    expect(abbreviated.versions["1.10.0"]).toEqual({
      name: "@acme/widget",
      version: "1.10.0",
      dist: {
        integrity,
        shasum: "s",
        tarball: "https://packr.example/@acme/widget/-/widget-1.10.0.tgz",
      },
    });
    expect(abbreviated.versions["1.2.0"].deprecated).toBe("old");
  });

  it("marks a package whose versions are all unpublished", () => {
    const doc = JSON.parse(
      assemblePackument({
        ...input("full"),
        entries: input("full").entries.slice(0, 1),
        distTags: {},
        latest: null,
      }),
    );
    expect(doc.versions).toEqual({});
    expect(doc.time.unpublished).toMatchObject({ versions: ["1.1.0"] });
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
