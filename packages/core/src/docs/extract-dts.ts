import type TS from "typescript";

export type DocEntry = {
  kind: "function" | "class" | "interface" | "type" | "enum" | "variable" | "namespace";
  name: string;
  /** The declaration as written in the .d.ts, without its doc comment (cut at 2,000 characters). */
  signature: string;
  /** The doc comment's text, with `@param`/`@returns` tags as lines. */
  doc: string | null;
  file: string;
  members?: { name: string; signature: string; doc: string | null }[];
};

export type TypedDocs = { entries: DocEntry[]; files: string[]; truncated: boolean };

const MAX_ENTRIES = 500;

/** The `.d.ts` a manifest names as its entry (`types`, or the older `typings`), if any. */
export function typesEntry(manifest: Record<string, unknown>): string | null {
  if (typeof manifest.types === "string") return manifest.types;
  if (typeof manifest.typings === "string") return manifest.typings;
  return null;
}
const MAX_SIGNATURE = 2000;

/**
 * API documentation from a package's `.d.ts` files, deterministically, with the TypeScript
 * compiler's parser (no type checking, no program: each file is parsed on its own, so it costs
 * milliseconds and never resolves anything outside the tarball). Exported functions, classes,
 * interfaces, types, enums, variables and namespaces, with their doc comments; the entry file
 * named by `types`/`typings` first, then the other files in path order.
 */
export async function extractTypedDocs(
  files: Map<string, string>,
  entry: string | null,
): Promise<TypedDocs> {
  const ts = (await import("typescript")).default;
  const paths = [...files.keys()].filter((p) => /\.d\.[cm]?ts$/.test(p)).sort();
  const normalizedEntry = entry?.replace(/^\.\//, "");
  if (normalizedEntry && paths.includes(normalizedEntry)) {
    paths.splice(paths.indexOf(normalizedEntry), 1);
    paths.unshift(normalizedEntry);
  }
  const entries: DocEntry[] = [];
  const seen = new Set<string>();
  let truncated = false;
  for (const file of paths) {
    const text = files.get(file) ?? "";
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    for (const node of sf.statements) {
      for (const found of declarations(ts, sf, node, file)) {
        const key = `${found.kind}:${found.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (entries.length >= MAX_ENTRIES) {
          truncated = true;
          break;
        }
        entries.push(found);
      }
    }
  }
  return { entries, files: paths, truncated };
}

function declarations(
  ts: typeof TS,
  sf: TS.SourceFile,
  node: TS.Statement,
  file: string,
): DocEntry[] {
  if (!isExported(ts, node, sf)) return [];
  const base = (kind: DocEntry["kind"], name: string): DocEntry => ({
    kind,
    name,
    signature: signatureOf(node, sf),
    doc: docOf(ts, node),
    file,
  });
  if (ts.isFunctionDeclaration(node) && node.name) return [base("function", node.name.text)];
  if (ts.isClassDeclaration(node) && node.name) {
    return [{ ...base("class", node.name.text), members: membersOf(ts, sf, node.members) }];
  }
  if (ts.isInterfaceDeclaration(node)) {
    return [{ ...base("interface", node.name.text), members: membersOf(ts, sf, node.members) }];
  }
  if (ts.isTypeAliasDeclaration(node)) return [base("type", node.name.text)];
  if (ts.isEnumDeclaration(node)) return [base("enum", node.name.text)];
  if (ts.isModuleDeclaration(node) && ts.isIdentifier(node.name))
    return [base("namespace", node.name.text)];
  if (ts.isVariableStatement(node)) {
    return node.declarationList.declarations
      .filter((d) => ts.isIdentifier(d.name))
      .map((d) => ({
        kind: "variable" as const,
        name: (d.name as TS.Identifier).text,
        signature: clip(d.getText(sf)),
        doc: docOf(ts, node),
        file,
      }));
  }
  return [];
}

function isExported(ts: typeof TS, node: TS.Statement, sf: TS.SourceFile): boolean {
  const mods = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  if (mods?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return true;
  // A script-style .d.ts (no import/export at all) declares globals: every declaration is API.
  return !ts.isExternalModule(sf);
}

function membersOf(
  ts: typeof TS,
  sf: TS.SourceFile,
  members: TS.NodeArray<TS.ClassElement | TS.TypeElement>,
): NonNullable<DocEntry["members"]> {
  const out: NonNullable<DocEntry["members"]> = [];
  for (const m of members) {
    const mods = ts.canHaveModifiers(m) ? ts.getModifiers(m) : undefined;
    if (
      mods?.some(
        (x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword,
      )
    )
      continue;
    const name =
      m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name))
        ? m.name.text
        : ts.isConstructorDeclaration(m)
          ? "constructor"
          : null;
    if (!name || name.startsWith("#")) continue;
    out.push({ name, signature: clip(m.getText(sf)), doc: docOf(ts, m) });
    if (out.length >= 100) break;
  }
  return out;
}

function docOf(ts: typeof TS, node: TS.Node): string | null {
  const parts: string[] = [];
  for (const d of ts.getJSDocCommentsAndTags(node)) {
    if (!ts.isJSDoc(d)) continue;
    const text = ts.getTextOfJSDocComment(d.comment)?.trim();
    if (text) parts.push(text);
    for (const tag of d.tags ?? []) {
      const comment = ts.getTextOfJSDocComment(tag.comment)?.trim() ?? "";
      const param = ts.isJSDocParameterTag(tag) ? `${tag.name.getText()} ` : "";
      parts.push(`@${tag.tagName.text} ${param}${comment}`.trim());
    }
  }
  return parts.length > 0 ? parts.join("\n") : null;
}

const signatureOf = (node: TS.Node, sf: TS.SourceFile): string => clip(node.getText(sf));

function clip(text: string): string {
  const one = text.replace(/\r\n/g, "\n");
  return one.length > MAX_SIGNATURE ? `${one.slice(0, MAX_SIGNATURE)}…` : one;
}
