import { z } from "zod";

const Env = z.object({
  PACKR_REGISTRY: z.url({
    message: "PACKR_REGISTRY must be the registry's URL, e.g. https://npm.example.com",
  }),
  PACKR_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined)),
  PACKR_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
});

export type McpConfig = { registry: string; token: string | undefined; timeoutMs: number };

/** The server's whole configuration, from the environment an MCP client starts it with. */
export function loadMcpConfig(env: Record<string, string | undefined>): McpConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`packr-mcp: invalid configuration:\n${lines.join("\n")}`);
  }
  return {
    registry: parsed.data.PACKR_REGISTRY,
    token: parsed.data.PACKR_TOKEN,
    timeoutMs: parsed.data.PACKR_TIMEOUT_MS,
  };
}
