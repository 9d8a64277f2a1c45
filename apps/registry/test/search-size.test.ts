import { publishBody } from "@packr/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, createTestRegistry, type TestRegistry } from "./harness.ts";
import { client, expectError } from "./http.ts";

type SearchAnswer = { objects: { package: { name: string } }[]; total: number; time: string };

/** npmjs caps a search page at 250 and clamps a larger `size` to it; so does Packr. */
const MAX = 250;
const COUNT = MAX + 5;

describe("npm search: the page size", () => {
  let reg: TestRegistry;

  beforeAll(async () => {
    reg = await createTestRegistry();
    const token = await reg.login("admin", ADMIN_PASSWORD);
    const names = Array.from(
      { length: COUNT },
      (_, i) => `clampword-${String(i).padStart(3, "0")}`,
    );
    for (let i = 0; i < names.length; i += 15) {
      await Promise.all(
        names.slice(i, i + 15).map(async (name) => {
          const res = await client(reg.app, token).put(`/${name}`, publishBody(name, "1.0.0"));
          if (res.status !== 201) throw new Error(`${name}: ${res.status} ${await res.text()}`);
        }),
      );
    }
  }, 240_000);
  afterAll(async () => reg.close());

  const search = (query: string) => client(reg.app).get(`/-/v1/search?${query}`);

  it.each(["251", "1000", "100000", "1e5"])(
    "clamps size=%s to the maximum: 200, 250 objects, the full total",
    async (size) => {
      const res = await search(`text=clampword&size=${size}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as SearchAnswer;
      expect(body.objects).toHaveLength(MAX);
      expect(body.total).toBe(COUNT);
      expect(new Set(body.objects.map((o) => o.package.name)).size).toBe(MAX);
      // npm's API documents `time` as a date-time (ISO 8601), not an HTTP date.
      expect(body.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    },
  );

  it("pages past the clamp with from", async () => {
    const res = await search(`text=clampword&size=100000&from=${MAX}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as SearchAnswer).objects).toHaveLength(COUNT - MAX);
  });

  it("still refuses a size that is not a whole number of at least 1", async () => {
    for (const size of ["0", "-1", "2.5", "ten", "Infinity"]) {
      const err = await expectError(await search(`text=clampword&size=${size}`), 400, "VALIDATION");
      expect(err.error).toBe("size must be a whole number at least 1.");
    }
  });
});
