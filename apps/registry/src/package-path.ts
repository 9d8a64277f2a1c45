/**
 * Split a raw (still percent-encoded) request path into a package name and what follows it.
 * npm sends `@scope%2fname`, pnpm `@scope%2Fname`, yarn sometimes `@scope/name` (protocol §1.1),
 * so the split has to happen before decoding, which a router's `:param` cannot do.
 */
export type PackagePath =
  | { kind: "packument"; name: string }
  | { kind: "version"; name: string; spec: string }
  | { kind: "tarball"; name: string; filename: string }
  | { kind: "unknown"; name: string; rest: string[] };

export function parsePackagePath(rawPath: string): PackagePath | null {
  const segments = rawPath.replace(/^\/+/, "").split("/");
  const decoded: string[] = [];
  for (const s of segments) {
    try {
      decoded.push(decodeURIComponent(s));
    } catch {
      return null;
    }
  }
  const [first, second] = decoded;
  if (!first) return null;
  let name: string;
  let rest: string[];
  if (first.startsWith("@") && !first.includes("/")) {
    if (second === undefined) return null;
    name = `${first}/${second}`;
    rest = decoded.slice(2);
  } else {
    name = first;
    rest = decoded.slice(1);
  }
  if (rest.length === 0 || (rest.length === 1 && rest[0] === ""))
    return { kind: "packument", name };
  if (rest.length === 1 && rest[0]) return { kind: "version", name, spec: rest[0] };
  if (rest.length === 2 && rest[0] === "-" && rest[1])
    return { kind: "tarball", name, filename: rest[1] };
  return { kind: "unknown", name, rest };
}
