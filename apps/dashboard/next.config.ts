import type { NextConfig } from "next";
import { STATIC_SECURITY_HEADERS } from "./src/server/security-headers.ts";

const config: NextConfig = {
  // @packr/core is shipped as TypeScript source (no build step in the monorepo).
  transpilePackages: ["@packr/core"],
  // Keep the server-only libraries out of the bundle; Node loads them as they are.
  serverExternalPackages: ["nodemailer", "openid-client"],
  poweredByHeader: false,
  // `pnpm typecheck` runs tsc over the dashboard already; a second pass inside every build costs
  // ~20 s of a 2-core machine.
  typescript: { ignoreBuildErrors: true },
  // The headers that never change; the CSP (a nonce per response) and HSTS (an https dashboard
  // URL, known only at run time) are set in proxy.ts.
  async headers() {
    return [{ source: "/:path*", headers: [...STATIC_SECURITY_HEADERS] }];
  },
};

export default config;
