import { gzipSync } from "node:zlib";
import { makeTarballSync, publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

/**
 * Manifest confusion: what the registry shows (the manifest in the publish body) must be what
 * installs (the tarball's own package.json) for everything that decides what installs and runs.
 */
describe("publish: the tarball's package.json must agree with the manifest", () => {
  let reg: TestRegistry;
  let token: string;

  beforeAll(async () => {
    reg = await createTestRegistry();
    token = await reg.login("admin", ADMIN_PASSWORD);
  });
  afterAll(async () => reg.close());

  /** Publish `name@1.0.0` whose body shows `shown` and whose tarball carries `packed`. */
  async function publish(
    name: string,
    shown: Record<string, unknown>,
    packed: Record<string, unknown>,
    files: Record<string, string> = {},
  ) {
    const bytes = makeTarballSync({ name, version: "1.0.0", ...packed }, files);
    return client(reg.app, token).put(
      `/${name.replace("/", "%2f")}`,
      publishBody(name, "1.0.0", { bytes, manifest: shown }),
    );
  }

  async function refused(res: Response, field: string) {
    const err = await expectError(res, 400, "VALIDATION");
    expect(err.error).toContain(`disagree on ${field}`);
    expect((err as { field?: string }).field).toBe(field);
    return err;
  }

  it("refuses a dependency shown in the body but not in the tarball", async () => {
    const res = await publish("mc-dep-added", { dependencies: { lodash: "^4.17.21" } }, {});
    const err = await refused(res, "dependencies");
    expect(err.error).toContain('lodash: absent in the tarball, "^4.17.21" in the body');
    await expectError(await client(reg.app, token).get("/mc-dep-added"), 404, "NOT_FOUND");
  });

  it("refuses a dependency hidden in the tarball", async () => {
    const res = await publish("mc-dep-hidden", {}, { dependencies: { evil: "1.0.0" } });
    await refused(res, "dependencies");
  });

  it("refuses a changed spec, optional and peer dependencies", async () => {
    await refused(
      await publish(
        "mc-dep-spec",
        { dependencies: { a: "^1.0.0" } },
        { dependencies: { a: "https://evil.example/a.tgz" } },
      ),
      "dependencies",
    );
    await refused(
      await publish(
        "mc-peer",
        { peerDependencies: { react: "^18" } },
        { peerDependencies: { react: "^17" } },
      ),
      "peerDependencies",
    );
    await refused(
      await publish(
        "mc-optional",
        { dependencies: { fsevents: "^2" } },
        { optionalDependencies: { fsevents: "^2" } },
      ),
      "optionalDependencies",
    );
  });

  it("refuses an install script hidden in the tarball", async () => {
    const res = await publish(
      "mc-script",
      { scripts: { test: "vitest" } },
      { scripts: { test: "vitest", postinstall: "node steal.js" } },
    );
    const err = await refused(res, "scripts");
    expect(err.error).toContain("postinstall");
  });

  it("refuses a binding.gyp (npm runs node-gyp rebuild) the body hides behind its own install script", async () => {
    // The body shows a harmless preinstall-less install; the tarball has a different one.
    const res = await publish(
      "mc-gyp",
      { scripts: { install: "echo hi" } },
      {},
      { "binding.gyp": "{}" },
    );
    await refused(res, "scripts");
  });

  it("refuses a bin that differs", async () => {
    await refused(
      await publish("mc-bin", { bin: { tool: "cli.js" } }, { bin: { tool: "evil.js" } }),
      "bin",
    );
    await refused(
      await publish(
        "mc-bin-extra",
        { bin: { tool: "cli.js" } },
        { bin: { tool: "cli.js", ls: "x.js" } },
      ),
      "bin",
    );
  });

  it("refuses a name or version that differs", async () => {
    const bytes = makeTarballSync({ name: "someone-else", version: "1.0.0" });
    await refused(
      await client(reg.app, token).put("/mc-name", publishBody("mc-name", "1.0.0", { bytes })),
      "name",
    );
    const older = makeTarballSync({ name: "mc-version", version: "0.9.0" });
    await refused(
      await client(reg.app, token).put(
        "/mc-version",
        publishBody("mc-version", "1.0.0", { bytes: older }),
      ),
      "version",
    );
  });

  it("refuses a tarball without package/package.json, a second package.json, or one that is not a tarball", async () => {
    const cases: [string, Buffer, RegExp][] = [
      ["mc-none", gzipSync(tarOf({ "package/index.js": "1" })), /no package\/package.json/],
      [
        "mc-twice",
        gzipSync(
          tarOf({
            "package/package.json": JSON.stringify({ name: "mc-twice", version: "1.0.0" }),
            "package/Package.json": JSON.stringify({
              name: "mc-twice",
              version: "1.0.0",
              scripts: { postinstall: "node x" },
            }),
          }),
        ),
        /more than one package.json/,
      ],
      [
        "mc-elsewhere",
        gzipSync(
          tarOf({
            "other/package.json": JSON.stringify({ name: "mc-elsewhere", version: "1.0.0" }),
          }),
        ),
        /must be package\/package.json/,
      ],
      ["mc-garbage", Buffer.from("not a tarball at all"), /not valid gzip/],
      ["mc-badjson", gzipSync(tarOf({ "package/package.json": "{" })), /not valid JSON/],
    ];
    for (const [name, bytes, message] of cases) {
      const err = await expectError(
        await client(reg.app, token).put(`/${name}`, publishBody(name, "1.0.0", { bytes })),
        400,
        "VALIDATION",
      );
      expect(err.error).toMatch(message);
      await expectError(await client(reg.app, token).get(`/${name}`), 404, "NOT_FOUND");
    }
  });

  it("accepts what npm's normalisation changes: bin string, ./ paths, directories.bin, binding.gyp, optional deps copied, git specs", async () => {
    const res = await publish(
      "@acme/mc-ok",
      {
        bin: { "mc-ok": "bin/cli.js", helper: "bin/helper.js" },
        scripts: { install: "node-gyp rebuild", test: "changed freely" },
        dependencies: { a: "^1.0.0", opt: "^2.0.0", gh: "git+ssh://git@github.com/acme/gh.git#v1" },
        optionalDependencies: { opt: "^2.0.0" },
        peerDependencies: { react: "^18" },
        description: "anything else may differ",
      },
      {
        bin: "./bin/cli.js",
        directories: { bin: "./bin" },
        dependencies: { a: "^1.0.0", gh: "github:acme/gh#v1" },
        optionalDependencies: { opt: "^2.0.0" },
        peerDependencies: { react: "^18" },
      },
      { "binding.gyp": "{}", "bin/cli.js": "#!/usr/bin/env node", "bin/helper.js": "" },
    );
    // bin as a string wins over directories.bin: the string names one command only, so the body
    // showing two differs — proving bin is compared; then the matching form publishes.
    await refused(res, "bin");
    const ok = await publish(
      "@acme/mc-ok2",
      {
        bin: { "mc-ok2": "bin/cli.js" },
        scripts: { install: "node-gyp rebuild", test: "changed freely" },
        dependencies: { a: "^1.0.0", opt: "^2.0.0", gh: "git+ssh://git@github.com/acme/gh.git#v1" },
        optionalDependencies: { opt: "^2.0.0" },
      },
      {
        bin: "./bin/cli.js",
        dependencies: { a: "^1.0.0", gh: "github:acme/gh#v1" },
        optionalDependencies: { opt: "^2.0.0" },
        scripts: { test: "vitest" },
      },
      { "binding.gyp": "{}", "bin/cli.js": "#!/usr/bin/env node" },
    );
    expect(ok.status, await ok.clone().text()).toBe(201);
    const dirBin = await publish(
      "mc-dirbin",
      { bin: { "a.js": "tools/a.js", "b.js": "tools/sub/b.js" } },
      { directories: { bin: "tools" } },
      { "tools/a.js": "", "tools/sub/b.js": "" },
    );
    expect(dirBin.status, await dirBin.clone().text()).toBe(201);
  });

  it("accepts a matching publish: 201", async () => {
    const manifest = {
      dependencies: { a: "^1.0.0" },
      scripts: { postinstall: "node setup.js" },
      bin: { tool: "cli.js" },
    };
    const res = await publish("mc-match", manifest, manifest, { "cli.js": "" });
    expect(res.status, await res.clone().text()).toBe(201);
  });
});

/** A bare ustar archive of the given paths (no `package/` added), for malformed tarballs. */
function tarOf(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const h = Buffer.alloc(512);
    h.write(path, 0, 100);
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(`${data.byteLength.toString(8).padStart(11, "0")}\0`, 124);
    h.write(`${"0".padStart(11, "0")}\0`, 136);
    h.write("        ", 148);
    h.write("0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    parts.push(h, data, Buffer.alloc((512 - (data.byteLength % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
