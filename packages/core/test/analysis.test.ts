import { describe, expect, it } from "vitest";
import {
  capabilitiesForQuery,
  capabilitySources,
  extractCapabilities,
} from "../src/analysis/capabilities.ts";
import { qualityScore } from "../src/analysis/quality-score.ts";
import { readTarball } from "../src/analysis/read-tarball.ts";
import { computeSignals } from "../src/analysis/signals.ts";
import { stem } from "../src/analysis/text-terms.ts";
import { extractTypedDocs } from "../src/docs/extract-dts.ts";
import { makeTarball } from "../src/testing/index.ts";

const README = `# auth-kit\n\nJWT authentication for HTTP servers.\n\n## Usage\n\n${"Explains things. ".repeat(80)}\n\n## Sessions and tokens\n`;
const DTS = `/** Options for signing. */
export interface SignOptions {
  /** Seconds until the token expires. */
  expiresIn?: number;
  private secretThing: string;
}
/**
 * Sign a payload into a JWT.
 * @param payload what the token carries
 * @returns the compact token
 */
export declare function sign(payload: object, options?: SignOptions): string;
export declare class Verifier {
  constructor(secret: string);
  /** Verify a token; throws when it is invalid. */
  verify(token: string): object;
  private check;
}
export type Algorithm = "HS256" | "ES256";
export declare const VERSION: string;
declare function internalHelper(): void;
`;

const fullManifest = {
  name: "auth-kit",
  version: "1.2.0",
  description: "JWT authentication middleware for HTTP servers",
  keywords: ["auth", "jwt", "login"],
  types: "./index.d.ts",
  scripts: { test: "vitest run" },
  dependencies: { jose: "^6.0.0", semver: "^7.0.0" },
  peerDependencies: { hono: "^4.0.0" },
  devDependencies: { vitest: "^4.0.0" },
  engines: { node: ">=20" },
  license: "MIT",
};

async function fullPackage() {
  const tgz = await makeTarball(fullManifest, {
    "index.js": "export const sign = () => 'x';\n".repeat(20),
    "index.d.ts": DTS,
    "README.md": README,
    "test/sign.test.js": "test('signs', () => {});\n",
    ".github/workflows/ci.yml": "on: push\n",
    "lib/deep/util.js": "x".repeat(5000),
  });
  return { tgz, contents: await readTarball(tgz) };
}

describe("reading a real tarball", () => {
  it("lists every file with its size and keeps the texts analysis reads", async () => {
    const { contents } = await fullPackage();
    const byPath = Object.fromEntries(contents.files.map((f) => [f.path, f.size]));
    expect(Object.keys(byPath).sort()).toEqual([
      ".github/workflows/ci.yml",
      "README.md",
      "index.d.ts",
      "index.js",
      "lib/deep/util.js",
      "package.json",
      "test/sign.test.js",
    ]);
    expect(byPath["lib/deep/util.js"]).toBe(5000);
    expect(byPath["index.d.ts"]).toBe(Buffer.byteLength(DTS));
    expect(contents.texts.get("index.d.ts")).toBe(DTS);
    expect(contents.texts.get("README.md")).toBe(README);
    expect(contents.texts.has("index.js")).toBe(false);
    expect(contents.truncated).toBe(false);
  });

  it("refuses bytes that are not a tarball", async () => {
    await expect(readTarball(Buffer.from("not a tarball at all"))).resolves.toMatchObject({
      files: [],
    });
  });
});

describe("signals and the quality score", () => {
  const now = new Date("2026-06-01T00:00:00Z");

  it("finds types, tests, CI, README and dependencies, and scores every factor", async () => {
    const { tgz, contents } = await fullPackage();
    const signals = computeSignals({
      manifest: fullManifest,
      contents,
      readme: null,
      tarballSize: tgz.byteLength,
      releaseCount: 1,
    });
    expect(signals).toMatchObject({
      fileCount: 7,
      packageSize: tgz.byteLength,
      hasTypes: true,
      typesSource: "types field",
      typeFiles: ["index.d.ts"],
      hasTests: true,
      testsSource: "test files",
      testFileCount: 1,
      hasCI: true,
      ciFiles: [".github/workflows/ci.yml"],
      readmeLength: README.trim().length,
      dependencies: { jose: "^6.0.0", semver: "^7.0.0" },
      peerDependencies: { hono: "^4.0.0" },
      devDependencyCount: 1,
      license: "MIT",
      engines: { node: ">=20" },
    });
    expect(signals.largestFiles[0]).toEqual({ path: "lib/deep/util.js", size: 5000 });
    const q = qualityScore(signals, { version: "1.2.0", lastPublishAt: now, now });
    expect(Object.fromEntries(q.breakdown.map((f) => [f.factor, f.points]))).toEqual({
      base: 15,
      types: 20,
      tests: 15,
      ci: 10,
      readme: 10,
      maturity: 10,
      freshness: 15,
    });
    expect(q.score).toBe(95);
    expect(q.breakdown.reduce((n, f) => n + f.max, 0)).toBe(95);
  });

  it("gives a bare package the base and freshness only; the npm placeholder test script is no test", async () => {
    const manifest = {
      name: "bare",
      version: "0.1.0",
      scripts: { test: 'echo "Error: no test specified" && exit 1' },
    };
    const tgz = await makeTarball(manifest, { "index.js": "module.exports = 1;\n" });
    const signals = computeSignals({
      manifest,
      contents: await readTarball(tgz),
      readme: "# bare",
      tarballSize: tgz.byteLength,
      releaseCount: 1,
    });
    expect(signals).toMatchObject({
      hasTypes: false,
      hasTests: false,
      hasCI: false,
      readmeLength: 6,
    });
    const q = qualityScore(signals, { version: "0.1.0", lastPublishAt: now, now });
    expect(q.score).toBe(30);
    expect(q.breakdown.find((f) => f.factor === "maturity")).toMatchObject({
      points: 0,
      reason: "0.x with 1 release",
    });
  });

  it("counts .d.ts files and a real test script; 0.x with several releases is half mature", async () => {
    const manifest = { name: "mid", version: "0.4.0", scripts: { test: "node --test" } };
    const tgz = await makeTarball(manifest, {
      "dist/index.d.mts": "export declare const x: 1;\n",
      "README.md": "m".repeat(400),
    });
    const signals = computeSignals({
      manifest,
      contents: await readTarball(tgz),
      readme: null,
      tarballSize: tgz.byteLength,
      releaseCount: 4,
    });
    expect(signals).toMatchObject({
      hasTypes: true,
      typesSource: ".d.ts files",
      hasTests: true,
      testsSource: "test script",
    });
    const q = qualityScore(signals, { version: "0.4.0", lastPublishAt: now, now });
    const points = Object.fromEntries(q.breakdown.map((f) => [f.factor, f.points]));
    expect(points).toMatchObject({ maturity: 5, readme: 5, types: 20, tests: 15, ci: 0 });
  });

  it("lets freshness decay with time since the last publish", async () => {
    const manifest = { name: "old", version: "2.0.0" };
    const tgz = await makeTarball(manifest);
    const signals = computeSignals({
      manifest,
      contents: await readTarball(tgz),
      readme: null,
      tarballSize: tgz.byteLength,
      releaseCount: 1,
    });
    const at = (days: number) =>
      qualityScore(signals, {
        version: "2.0.0",
        lastPublishAt: new Date(now.getTime() - days * 86_400_000),
        now,
      }).breakdown.find((f) => f.factor === "freshness")?.points;
    expect(at(10)).toBe(15);
    expect(at(90)).toBe(15);
    expect(at(410)).toBe(8);
    expect(at(730)).toBe(0);
    expect(at(2000)).toBe(0);
  });
});

describe("capabilities", () => {
  it("extracts capabilities from name, description, keywords and README headings, with evidence", () => {
    const { capabilities, terms } = extractCapabilities(capabilitySources(fullManifest, README));
    const ids = capabilities.map((c) => c.id);
    expect(ids).toContain("authentication");
    expect(ids).toContain("http-server");
    const auth = capabilities.find((c) => c.id === "authentication");
    expect(auth?.evidence.keywords).toEqual(expect.arrayContaining(["auth", "jwt", "login"]));
    expect(auth?.evidence.description).toEqual(expect.arrayContaining(["authentication", "jwt"]));
    expect(terms).toEqual(expect.arrayContaining(["k:jwt", "n:auth", "d:middlewar", "h:usag"]));
  });

  it("recognises date formatting in other words, and does not invent capabilities", () => {
    const dates = extractCapabilities(
      capabilitySources(
        { name: "tempo", description: "Formats dates and timezones", keywords: [] },
        null,
      ),
    );
    expect(dates.capabilities.map((c) => c.id)).toEqual(["date-formatting"]);
    const none = extractCapabilities(
      capabilitySources({ name: "zzq", description: "Quux frobnicator" }, null),
    );
    expect(none.capabilities).toEqual([]);
  });

  it("maps queries onto capabilities", () => {
    expect(capabilitiesForQuery("authentication").map((c) => c.id)).toContain("authentication");
    expect(capabilitiesForQuery("date formatting").map((c) => c.id)).toContain("date-formatting");
    expect(capabilitiesForQuery("HTTP server").map((c) => c.id)).toContain("http-server");
    expect(capabilitiesForQuery("quux")).toEqual([]);
    expect(stem("formatting")).toBe(stem("format"));
    expect(stem("validation")).toBe(stem("validator"));
  });
});

describe(".d.ts extraction", () => {
  it("documents exported functions, classes, interfaces, types and variables with their comments", async () => {
    const { contents } = await fullPackage();
    const docs = await extractTypedDocs(contents.texts, "./index.d.ts");
    expect(docs.files).toEqual(["index.d.ts"]);
    const byName = Object.fromEntries(docs.entries.map((e) => [e.name, e]));
    expect(Object.keys(byName).sort()).toEqual([
      "Algorithm",
      "SignOptions",
      "VERSION",
      "Verifier",
      "sign",
    ]);
    expect(byName.sign).toMatchObject({
      kind: "function",
      signature: "export declare function sign(payload: object, options?: SignOptions): string;",
    });
    expect(byName.sign?.doc).toContain("Sign a payload into a JWT.");
    expect(byName.sign?.doc).toContain("@param payload what the token carries");
    expect(byName.sign?.doc).toContain("@returns the compact token");
    expect(byName.Verifier?.members?.map((m) => m.name)).toEqual(["constructor", "verify"]);
    expect(byName.SignOptions?.members).toEqual([
      {
        name: "expiresIn",
        signature: "expiresIn?: number;",
        doc: "Seconds until the token expires.",
      },
    ]);
    expect(byName.Algorithm?.kind).toBe("type");
    expect(byName.VERSION?.kind).toBe("variable");
  });
});
