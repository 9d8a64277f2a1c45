import { makeTarballSync, publishBody } from "@packr/core/testing";
import { client } from "./http.ts";
import { createUplinkPair, type UplinkPair } from "./uplink-fixture.ts";

/** The settings of a private registry (PACKR_READ_REQUIRES_AUTH) in the private-read suites. */
export const PRIVATE = {
  PACKR_READ_REQUIRES_AUTH: "true",
  PACKR_DASHBOARD_URL: "http://dash.test",
  // The dashboard test signs a new person up through a provider.
  PACKR_SIGNUP: "open",
};

/** A local package's tarball in these suites (what a reader of it gets back). */
export const localTarball = (name: string) =>
  makeTarballSync({ name, version: "1.0.0" }, { "x.txt": `bytes of ${name}` });

/**
 * A private registry whose uplink holds `up-lib@1.0.0`, with a public (`local-pub`) and a
 * restricted (`@acme/secret`) local package.
 */
export async function createPrivatePair(): Promise<UplinkPair> {
  const pair = await createUplinkPair(PRIVATE);
  await pair.publishUpstream("up-lib", "1.0.0");
  const admin = client(pair.reg.app, pair.token);
  for (const [name, access] of [
    ["local-pub", "public"],
    ["@acme/secret", "restricted"],
  ] as const) {
    const res = await admin.put(
      `/${name.replace("/", "%2f")}`,
      publishBody(name, "1.0.0", { access, bytes: localTarball(name) }),
    );
    if (res.status !== 201) throw new Error(`publish ${name}: ${res.status} ${await res.text()}`);
  }
  return pair;
}
