import type { ServiceContext } from "@packr/core";
import type { Runtime } from "./runtime.ts";

/** Hono's typed variables: the runtime and this request's service context. */
export type AppEnv = {
  Variables: {
    runtime: Runtime;
    ctx: ServiceContext;
    requestId: string;
    /** Set by password-login routes so a 401 challenges for Basic credentials. */
    challenge: "basic" | undefined;
  };
};
