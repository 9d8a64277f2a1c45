export * from "./identity.ts";
export * from "./packages.ts";
export * from "./platform.ts";
