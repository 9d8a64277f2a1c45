/**
 * Split a raw (still percent-encoded) request path into a package name and what follows it.
 * npm sends `@scope%2fname`, pnpm `@scope%2Fname`, yarn sometimes `@scope/name` (protocol §1.1),
 * so the split has to happen before decoding, which a router's `:param` cannot do.
 */
export type PackagePath =
  | { kind: "packument"; name: string }
  | { kind: "version"; name: string; spec: string }
  | { kind: "tarball"; name: string; filename: string }
  /** `/<name>/-rev/<rev>`: npm's unpublish and owner writes (protocol §3.2, §3.5). */
  | { kind: "packument-rev"; name: string; rev: string }
  /** `/<name>/-/<file>.tgz/-rev/<rev>`: step 5 of npm's unpublish. */
  | { kind: "tarball-rev"; name: string; filename: string; rev: string }
  | { kind: "unknown"; name: string; rest: string[] };

export function parsePackagePath(rawPath: string): PackagePath | null {
  const split = splitName(rawPath.replace(/^\/+/, ""));
  if (!split) return null;
  const { name, rest } = split;
  if (rest.length === 0 || (rest.length === 1 && rest[0] === ""))
    return { kind: "packument", name };
  if (rest.length === 1 && rest[0]) return { kind: "version", name, spec: rest[0] };
  if (rest.length === 2 && rest[0] === "-" && rest[1])
    return { kind: "tarball", name, filename: rest[1] };
  if (rest.length === 2 && rest[0] === "-rev" && rest[1])
    return { kind: "packument-rev", name, rev: rest[1] };
  if (rest.length === 4 && rest[0] === "-" && rest[1] && rest[2] === "-rev" && rest[3])
    return { kind: "tarball-rev", name, filename: rest[1], rev: rest[3] };
  return { kind: "unknown", name, rest };
}

/**
 * `/-/package/<name>/<rest…>` (dist-tags today; access, visibility and collaborators later), with
 * the name in any of the encodings of `parsePackagePath`. Null when the path is not of that form.
 */
export function parsePackageApiPath(rawPath: string): { name: string; rest: string[] } | null {
  return parseNameAfter(rawPath, "/-/package/");
}

/** `<prefix><name>/<rest…>` with the name in any of the encodings above; null if not of that form. */
export function parseNameAfter(
  rawPath: string,
  prefix: string,
): { name: string; rest: string[] } | null {
  if (!rawPath.startsWith(prefix)) return null;
  return splitName(rawPath.slice(prefix.length));
}

/** Decode each segment, then join `@scope` and `name` back into one package name. */
function splitName(path: string): { name: string; rest: string[] } | null {
  const decoded: string[] = [];
  for (const s of path.split("/")) {
    try {
      decoded.push(decodeURIComponent(s));
    } catch {
      return null;
    }
  }
  const [first, second] = decoded;
  if (!first) return null;
  if (first.startsWith("@") && !first.includes("/")) {
    if (second === undefined) return null;
    return { name: `${first}/${second}`, rest: decoded.slice(2) };
  }
  return { name: first, rest: decoded.slice(1) };
}

/**
 * The path of a request URL as sent, still percent-encoded. `c.req.url` is already normalized
 * (the server adapter and `Request` resolve dot segments and escape what needs escaping), so
 * slicing it gives what `new URL(url).pathname` would, without parsing a URL per request.
 */
export function rawPathname(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query === -1 ? undefined : query);
}
