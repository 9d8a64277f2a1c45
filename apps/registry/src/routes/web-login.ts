import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { authorizeDevice, loginWithPassword, PackrError, pollDevice } from "@packr/core";
import {
  errorResponses,
  LoginBody,
  PasswordLogin,
  WebLogin,
  WebLoginDone,
} from "../api-schemas.ts";
import type { AppEnv } from "../env.ts";
import { readJson } from "../read-json.ts";

/**
 * `POST /-/v1/login` (protocol §4.1). With `{name, password}` it is the password login and
 * answers a JWT at once. Without credentials (npm 11's default web flow: `{}` or
 * `{create: true}`; yarn sends no body) it starts a device code: `loginUrl` is the dashboard's
 * approval page for its user code and `doneUrl` carries the device code itself, which npm polls
 * until the person approves. Login routes ignore whatever token the client already sends.
 */
export function registerWebLoginRoutes(app: OpenAPIHono<AppEnv>): void {
  app.post("/-/v1/login", async (c) => {
    c.set("challenge", "basic");
    const body = await readJson(c, { optional: true });
    const record = typeof body === "object" && body !== null && !Array.isArray(body) ? body : {};
    const { name, password } = record as Record<string, unknown>;
    if (typeof name === "string" && typeof password === "string") {
      const result = await loginWithPassword({
        ctx: c.get("ctx"),
        input: { name, password, tokenName: "POST /-/v1/login" },
      });
      return c.json(
        { token: result.token, username: result.username, expires: result.expiresAt.toISOString() },
        201,
      );
    }
    if (name !== undefined || password !== undefined) {
      throw new PackrError(
        "VALIDATION",
        "Send both name and password, or neither for the web login.",
      );
    }
    const ctx = c.get("ctx");
    const a = await authorizeDevice({
      ctx: { ...ctx, actor: { type: "anonymous" } },
      input: { client: "npm" },
    });
    const done = new URL("/-/v1/done", `${ctx.deps.publicUrl()}/`);
    done.searchParams.set("id", a.deviceCode);
    c.header("Cache-Control", "no-store");
    return c.json({ loginUrl: a.verificationUriComplete, doneUrl: done.toString() }, 200);
  });

  // npm polls this until it stops answering 202 (it has no timeout of its own). 4xx makes npm fall
  // back to its password prompts, so expiry is 404, which also reads right.
  app.get("/-/v1/done", async (c) => {
    const id = c.req.query("id") ?? "";
    c.header("Cache-Control", "no-store");
    const r = await pollDevice({
      ctx: c.get("ctx"),
      input: { deviceCode: id, enforceInterval: false },
    });
    switch (r.status) {
      case "approved":
        return c.json({ token: r.token }, 200);
      case "pending":
      case "slow_down":
        c.header("Retry-After", String(r.interval));
        return c.json({}, 202);
      case "denied":
        throw new PackrError("FORBIDDEN", "The login was denied in the browser.");
      case "expired":
      case "invalid":
        throw new PackrError(
          "NOT_FOUND",
          "This login has expired or was already completed. Run npm login again.",
        );
    }
  });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/-/v1/login",
    tags: ["login"],
    summary: "Password login ({name, password}) or start npm's web login (no credentials)",
    request: {
      body: { required: false, content: { "application/json": { schema: LoginBody } } },
    },
    responses: {
      200: {
        description: "Web login started",
        content: { "application/json": { schema: WebLogin } },
      },
      201: {
        description: "Password accepted: a 30-day login token",
        content: { "application/json": { schema: PasswordLogin } },
      },
      ...errorResponses(400, 401, 429),
    },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/-/v1/done",
    tags: ["login"],
    summary: "npm's web-login poll: 202 with Retry-After until approved, then the token",
    request: { query: LoginDoneQuery },
    responses: {
      200: { description: "Approved", content: { "application/json": { schema: WebLoginDone } } },
      202: { description: "Not yet approved; poll again after Retry-After seconds" },
      ...errorResponses(403, 404),
    },
  });
}

const LoginDoneQuery = z.object({ id: z.string().openapi({ description: "Opaque login id" }) });
