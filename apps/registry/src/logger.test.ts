import { describe, expect, it } from "vitest";
import { prettyLine, resolveLogFormat } from "./logger.ts";

describe("log format", () => {
  it("is readable lines on a terminal, JSON in production and when piped", () => {
    expect(resolveLogFormat("auto", { isTTY: true, production: false })).toBe("pretty");
    expect(resolveLogFormat("auto", { isTTY: true, production: true })).toBe("json");
    expect(resolveLogFormat("auto", { isTTY: false, production: false })).toBe("json");
    expect(resolveLogFormat("json", { isTTY: true, production: false })).toBe("json");
    expect(resolveLogFormat("pretty", { isTTY: false, production: true })).toBe("pretty");
  });

  it("writes a request as one short line and an event with its fields", () => {
    const at = new Date(2026, 0, 2, 12, 3, 4);
    expect(
      prettyLine("info", at, {
        requestId: "r-1",
        method: "PUT",
        path: "/@acme%2fwidget",
        status: 201,
        ms: 12.3,
        user: "admin",
        agent: "npm/10.9.2",
      }),
    ).toBe("12:03:04 PUT /@acme%2fwidget 201 12.3ms admin npm/10.9.2");
    expect(prettyLine("info", at, { method: "GET", path: "/-/ping", status: 200, ms: 1 })).toBe(
      "12:03:04 GET /-/ping 200 1ms",
    );
    expect(
      prettyLine("error", at, {
        msg: "job failed",
        topic: "analyze",
        attempt: 2,
        jobId: undefined,
      }),
    ).toBe("12:03:04 ERROR job failed topic=analyze attempt=2");
  });
});
