import { makeTarballSync, publishBody } from "@packr/core/testing";
import {
  ADMIN_PASSWORD,
  createTestRegistry,
  type ServedRegistry,
  serveTestRegistry,
  type TestRegistry,
} from "./harness.ts";
import { client } from "./http.ts";

export type UplinkPair = {
  /** The public registry: a second Packr on loopback. */
  upstream: ServedRegistry;
  upstreamToken: string;
  /** The registry under test, with `upstream` as its uplink. */
  reg: TestRegistry;
  token: string;
  /** Publish to the uplink (public, so it can be proxied). */
  publishUpstream(name: string, version: string): Promise<void>;
  /** Requests the uplink received whose path names this package. */
  askedAbout(name: string): { method: string; path: string; headers: Headers }[];
  close(): Promise<void>;
};

export const tarballBytes = (name: string, version: string): Buffer =>
  makeTarballSync({ name, version }, { "README.md": `upstream tarball of ${name}@${version}` });

export async function createUplinkPair(env: Record<string, string> = {}): Promise<UplinkPair> {
  const upstream = await serveTestRegistry();
  const upstreamToken = await upstream.registry.login("admin", ADMIN_PASSWORD);
  const reg = await createTestRegistry({
    PACKR_UPLINK_URL: upstream.url,
    PACKR_UPLINK_TIMEOUT: "500ms",
    PACKR_PRIVATE_SCOPES: "@corp",
    ...env,
  });
  const token = await reg.login("admin", ADMIN_PASSWORD);
  return {
    upstream,
    upstreamToken,
    reg,
    token,
    async publishUpstream(name, version) {
      const res = await client(upstream.registry.app, upstreamToken).put(
        `/${name.replace("/", "%2f")}`,
        publishBody(name, version, { bytes: tarballBytes(name, version), access: "public" }),
      );
      if (res.status !== 201)
        throw new Error(`upstream publish: ${res.status} ${await res.text()}`);
    },
    askedAbout(name) {
      const escaped = name.replace("/", "%2f");
      return upstream.requests.filter(
        (r) =>
          r.path === `/${escaped}` ||
          r.path.startsWith(`/${escaped}/`) ||
          r.path.startsWith(`/${name}/`),
      );
    },
    async close() {
      await reg.close();
      await upstream.close();
    },
  };
}
