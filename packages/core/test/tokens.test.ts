import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps, tokenContext } from "../src/testing/index.ts";
import { TokenService } from "../src/tokens/token-service.ts";

describe("TokenService", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps("pglite");
  });
  afterAll(async () => deps.close());

  it("refuses a token once it expires, even after it was verified and cached", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const tokens = new TokenService(deps.db, "clock-test-secret-long-enough", () => now);
    const { userId } = (await tokenContext(deps, { user: "clock", role: "maintainer" })).actor as {
      userId: string;
    };
    const issued = await tokens.issue(deps.db, {
      kind: "personal",
      name: "t",
      userId,
      role: "maintainer",
      ttlSeconds: 60,
    });
    await expect(tokens.verify(issued.token)).resolves.toMatchObject({ userName: "clock" });
    now = new Date("2026-01-01T00:02:00Z");
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: "TOKEN_EXPIRED" });
    await tokens.close();
  });

  it("refuses a token signed with another secret", async () => {
    const other = new TokenService(deps.db, "another-secret-entirely-0000");
    const { token } = await tokenContext(deps, { user: "foreign", role: "maintainer" });
    await expect(other.verify(token)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await other.close();
  });
});
