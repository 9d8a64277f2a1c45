// @npmcli/package-json ships no types; this is the part publish uses (the calls npm 11 makes).
declare module "@npmcli/package-json" {
  class PackageJson {
    static fix(path: string, opts?: { changes?: string[] }): Promise<PackageJson>;
    prepare(opts?: Record<string, unknown>): Promise<PackageJson>;
    fromContent(content: unknown): PackageJson;
    normalize(opts?: { steps?: string[] }): Promise<PackageJson>;
    readonly content: Record<string, unknown>;
  }
  export = PackageJson;
}
