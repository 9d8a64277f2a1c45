import { admin } from "./admin.ts";
import { agentApi } from "./agent.ts";
import { registerDeviceRoutes } from "./device.ts";
import { openApiApp } from "./openapi-app.ts";
import { orgPackagesApi } from "./orgs.ts";
import { signingKeysApi } from "./signing-keys.ts";
import { registerWebLoginRoutes } from "./web-login.ts";

/**
 * The JSON APIs described by OpenAPI 3.1 at `GET /openapi.json`: the admin API, the device flow,
 * the logins and the agent API. New OpenAPI routes are mounted here so the document covers them.
 */
export function createApi() {
  const api = openApiApp();
  registerDeviceRoutes(api);
  registerWebLoginRoutes(api);
  api.route("/", admin);
  api.route("/", orgPackagesApi);
  api.route("/", signingKeysApi);
  api.route("/", agentApi);
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A Packr token (npm login, the device flow, or one created here)",
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "internalSecret", {
    type: "http",
    scheme: "bearer",
    description: "INTERNAL_API_SECRET: the dashboard server's calls",
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "header",
    name: "X-Packr-Session",
    description: "The packr_session value of the person the dashboard acts for",
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "sessionCookie", {
    type: "apiKey",
    in: "cookie",
    name: "packr_session",
  });
  api.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Packr registry API",
      version: "1",
      description:
        "Admin API, device flow (RFC 8628), logins and agent API of the Packr registry. Errors use one flat body: {error, code, message, status, requestId}.",
    },
    servers: [{ url: c.get("runtime").deps.publicUrl() }],
  }));
  return api;
}
