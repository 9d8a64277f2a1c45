import { describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditBulk } from "../src/security/audit-bulk.ts";
import { auditQuick } from "../src/security/audit-quick.ts";
import { failure } from "./helpers.ts";

// Without an uplink the audit verbs touch nothing: a context without infrastructure is enough.
const ctx = {
  deps: { uplink: undefined },
  actor: { type: "anonymous" },
  requestId: "t",
} as unknown as ServiceContext;

describe("audit", () => {
  it("answers a bulk advisory query with no advisories", async () => {
    expect(await auditBulk({ ctx, input: { body: { "left-pad": ["1.3.0"], a: [] } } })).toEqual({
      report: {},
    });
    expect(await auditBulk({ ctx, input: { body: {} } })).toEqual({ report: {} });
  });

  it("refuses a bulk body that is not names to version lists", async () => {
    for (const body of [[], "x", null, { a: "1.0.0" }, { a: [1] }]) {
      expect((await failure(auditBulk({ ctx, input: { body } }))).code).toBe("VALIDATION");
    }
  });

  it("answers pnpm's npm-6 tree with an empty report that counts the tree", async () => {
    const body = {
      install: [],
      remove: [],
      metadata: {},
      requires: {},
      dependencies: {
        ".": {
          version: "1.0.0",
          dev: false,
          requires: { a: "1.0.0" },
          dependencies: {
            a: {
              version: "1.0.0",
              integrity: "sha512-a",
              dev: false,
              dependencies: { b: { version: "2.0.0", integrity: "sha512-b", dev: false } },
            },
            t: { version: "3.0.0", integrity: "sha512-t", dev: true },
          },
        },
        packages__lib: {
          version: "0.0.0",
          dependencies: { a: { version: "1.0.0", integrity: "sha512-a", dev: false } },
        },
      },
    };
    expect((await auditQuick({ ctx, input: { body } })).report).toEqual({
      actions: [],
      advisories: {},
      muted: [],
      metadata: {
        vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0 },
        dependencies: 2,
        devDependencies: 1,
        optionalDependencies: 0,
        totalDependencies: 3,
      },
    });
  });

  it("counts npm 6's top-level packages, and survives deep nesting", async () => {
    const npm6 = {
      name: "app",
      version: "1.0.0",
      dependencies: { x: { version: "1.0.0", integrity: "sha512-x" } },
    };
    expect(
      (await auditQuick({ ctx, input: { body: npm6 } })).report.metadata.totalDependencies,
    ).toBe(1);
    let deep: Record<string, unknown> = { version: "1.0.0", integrity: "sha512-z" };
    for (let i = 0; i < 20_000; i++) {
      deep = { version: "1.0.0", integrity: "sha512-z", dependencies: { [`d${i}`]: deep } };
    }
    const { report } = await auditQuick({
      ctx,
      input: { body: { dependencies: { root: deep } } },
    });
    expect(report.metadata.totalDependencies).toBe(20_001);
  });

  it("refuses a body that is not a tree", async () => {
    for (const body of [[], "x", null, { dependencies: [] }, { dependencies: "a" }]) {
      expect((await failure(auditQuick({ ctx, input: { body } }))).code).toBe("VALIDATION");
    }
  });
});
