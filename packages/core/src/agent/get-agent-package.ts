import type { ServiceContext } from "../context.ts";
import { loadAgentPackage } from "./load-package.ts";
import { loadProxiedAgentPackage } from "./proxied-package.ts";
import { readableOrProxied } from "./read-access.ts";
import type { AgentPackage } from "./types.ts";

/**
 * `GET /agent/:pkg`: the latest version as an agent needs it — description, quality score and
 * its breakdown, downloads, capabilities, dependencies, trust signals, deprecation, last publish.
 * A package this registry proxies from its uplink is answered from the uplink's document, its
 * analysis following in the background (`pending` names what is not there yet).
 */
export async function getAgentPackage(args: {
  ctx: ServiceContext;
  input: { name: string };
}): Promise<AgentPackage> {
  return agentPackageOf(args.ctx, args.input.name);
}

/** The agent view of one name, local or proxied (the caller's access checked here). */
export async function agentPackageOf(ctx: ServiceContext, raw: string): Promise<AgentPackage> {
  const found = await readableOrProxied(ctx, raw);
  return found.source === "uplink"
    ? loadProxiedAgentPackage(ctx, found.uplink, found.name)
    : loadAgentPackage(ctx, found.name.name, found.meta);
}
