import { describe, expect, it } from "vitest";
import { isOpenRoute } from "./open-routes.ts";

describe("isOpenRoute (private by login)", () => {
  it("opens health, the landing page and the sign-in routes", () => {
    for (const [method, path] of [
      ["GET", "/"],
      ["GET", "/health"],
      ["HEAD", "/health"],
      ["POST", "/-/v1/login"],
      ["GET", "/-/v1/done"],
      ["POST", "/-/v1/device/authorize"],
      ["POST", "/-/v1/device/token"],
      ["PUT", "/-/user/org.couchdb.user:alice"],
      ["GET", "/-/user/org.couchdb.user:alice"],
      ["PUT", "/-/user/org.couchdb.user:alice/-rev/1-abc"],
      ["DELETE", "/-/user/token/eyJabc"],
      // Stripe's webhook: its signature is checked by the route
      ["POST", "/api/billing/webhook"],
      // resolved and checked by adminAuth
      ["GET", "/api/v1/admin/me"],
      ["POST", "/api/v1/admin/sessions"],
    ]) {
      expect(isOpenRoute(method as string, path as string), `${method} ${path}`).toBe(true);
    }
  });

  it("closes every read, and look-alikes of the open routes", () => {
    for (const [method, path] of [
      ["GET", "/-/ping"],
      ["GET", "/openapi.json"],
      ["GET", "/left-pad"],
      ["GET", "/health/"],
      ["GET", "/healthz"],
      ["POST", "/health"],
      ["GET", "/-/v1/login"],
      ["POST", "/-/v1/login/x"],
      ["POST", "/-/v1/done"],
      ["GET", "/-/v1/device/token"],
      ["POST", "/-/v1/device/other"],
      ["DELETE", "/-/user/org.couchdb.user:alice"],
      ["GET", "/-/user/org.couchdb.user:alice/package"],
      ["GET", "/-/user/alice/package"],
      ["GET", "/-/user/token/x"],
      ["DELETE", "/-/user/token/x/y"],
      ["GET", "/api/v1/other"],
      ["GET", "/api/v1/admin"],
      ["GET", "/api/billing/webhook"],
      ["POST", "/api/billing/webhook/x"],
      ["POST", "/api/billing"],
    ]) {
      expect(isOpenRoute(method as string, path as string), `${method} ${path}`).toBe(false);
    }
  });
});
