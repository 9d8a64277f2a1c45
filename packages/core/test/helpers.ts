import type { ServiceContext } from "../src/context.ts";
import { PackrError } from "../src/errors.ts";
import { getPackument } from "../src/packages/get-packument.ts";
import { publishPackage } from "../src/packages/publish-package.ts";
import { publishBody, type TestDeps } from "../src/testing/index.ts";

export const anonymous = (deps: TestDeps): ServiceContext => ({
  deps,
  actor: { type: "anonymous" },
  requestId: "t",
});

/** The PackrError a call fails with; any other outcome fails the test. */
export async function failure(promise: Promise<unknown>): Promise<PackrError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PackrError) return err;
    throw err;
  }
  throw new Error("expected a PackrError");
}

// biome-ignore lint/suspicious/noExplicitAny: packuments are free-form JSON, read deep in assertions
export type Doc = Record<string, any>;

export const readDoc = async (ctx: ServiceContext, name: string, abbreviated = false) =>
  JSON.parse(
    Buffer.from(
      (await (await getPackument({ ctx, input: { name, abbreviated } })).load()).plain,
    ).toString(),
  ) as Doc;

/** Publish each version in order, as the given caller. */
export async function publish(
  ctx: ServiceContext,
  name: string,
  versions: string[],
  opts: Parameters<typeof publishBody>[2] = {},
): Promise<void> {
  for (const v of versions) {
    await publishPackage({ ctx, input: { name, body: publishBody(name, v, opts) } });
  }
}

/** The same caller, with the registry's clock moved by `hours`. */
export const later = <T extends ServiceContext>(ctx: T, hours: number): T => {
  const at = Date.now() + hours * 3600 * 1000;
  return { ...ctx, deps: { ...ctx.deps, now: () => new Date(at) } };
};
