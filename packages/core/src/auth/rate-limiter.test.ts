import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.ts";

describe("RateLimiter", () => {
  it("keeps a long window's count when its map is swept", () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const hour = { limit: 2, windowMs: 3_600_000 };
    expect(limiter.hit("mail", "victim", hour)).toBe(true);
    expect(limiter.hit("mail", "victim", hour)).toBe(true);
    // Fill the map past its sweep threshold with short windows, ten minutes later: a sweep that
    // judged every window by a minute would forget the hour-long one and let the victim be hit again.
    now = 600_000;
    for (let i = 0; i <= 50_001; i++) limiter.hit("other", `k${i}`, { limit: 1, windowMs: 1 });
    expect(limiter.hit("mail", "victim", hour)).toBe(false);
    expect(limiter.remainingMs("mail", "victim")).toBe(3_000_000);
    now = 3_600_000;
    expect(limiter.hit("mail", "victim", hour)).toBe(true);
  });
});
