import { describe, expect, it } from "vitest";
import { extractTypedDocs, typesEntry } from "./extract-dts.ts";

describe("the typed docs' entry file", () => {
  it("is `types`, else the older `typings`, else none", () => {
    expect(typesEntry({ types: "a.d.ts", typings: "b.d.ts" })).toBe("a.d.ts");
    expect(typesEntry({ typings: "b.d.ts" })).toBe("b.d.ts");
    expect(typesEntry({ types: 42 })).toBeNull();
    expect(typesEntry({})).toBeNull();
  });

  it("comes first in the docs, whichever field named it", async () => {
    const files = new Map([
      ["a.d.ts", "export declare const a: number;\n"],
      ["z.d.ts", "export declare const z: number;\n"],
    ]);
    const docs = await extractTypedDocs(files, typesEntry({ typings: "./z.d.ts" }));
    expect(docs.files).toEqual(["z.d.ts", "a.d.ts"]);
    expect(docs.entries.map((e) => e.name)).toEqual(["z", "a"]);
  });
});
