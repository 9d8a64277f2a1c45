// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} references
import ini from "ini";
import { describe, expect, it } from "vitest";
import { expand, findToken, type NpmrcFile, nerfDart, removeLine, upsertLine } from "./npmrc.ts";

const file = (path: string, text: string): NpmrcFile => ({
  path,
  exists: true,
  text,
  data: ini.parse(text) as Record<string, unknown>,
});

describe("nerfDart", () => {
  it("drops the protocol and the last path segment, as npm-registry-fetch does", () => {
    expect(nerfDart("http://localhost:4873/")).toBe("//localhost:4873/");
    expect(nerfDart("https://npm.example.com/packr/")).toBe("//npm.example.com/packr/");
    expect(nerfDart("https://npm.example.com/packr")).toBe("//npm.example.com/");
  });
});

describe("findToken", () => {
  it("takes the longest path prefix that has a token, the project file before the user's", () => {
    const project = file("/p/.npmrc", "//h.example/deep/:_authToken=deep\n");
    const user = file(
      "/u/.npmrc",
      "//h.example/:_authToken=root\n//h.example/deep/:_authToken=user-deep\n",
    );
    expect(findToken([project, user], "https://h.example/deep/", {})).toEqual({
      token: "deep",
      file: "/p/.npmrc",
    });
    expect(findToken([project, user], "https://h.example/other/", {})).toEqual({
      token: "root",
      file: "/u/.npmrc",
    });
    expect(findToken([project, user], "https://elsewhere.example/", {})).toBeUndefined();
  });

  it("expands ${VAR} and treats an unset one as no token", () => {
    const f = file("/p/.npmrc", "//h.example/:_authToken=${TOK}\n");
    expect(findToken([f], "http://h.example/", { TOK: "abc" })?.token).toBe("abc");
    expect(findToken([f], "http://h.example/", {})).toBeUndefined();
    expect(expand("a-\\${X}-${X}", { X: "1" })).toBe("a-\\${X}-1");
  });
});

describe("line edits", () => {
  const text = "; comment\nfund=false\n//h/:_authToken=old\n# another\n//h/:_authToken=dup\n";

  it("upsertLine replaces the key in place, drops its duplicates, keeps everything else", () => {
    expect(upsertLine(text, "//h/:_authToken", "new")).toBe(
      "; comment\nfund=false\n//h/:_authToken=new\n# another\n",
    );
    expect(upsertLine("fund=false", "a", "b")).toBe("fund=false\na=b\n");
    expect(upsertLine("", "a", "b")).toBe("a=b\n");
    const once = upsertLine(text, "x", "1");
    expect(upsertLine(once, "x", "1")).toBe(once);
  });

  it("removeLine removes only that key", () => {
    expect(removeLine(text, "//h/:_authToken")).toBe("; comment\nfund=false\n# another\n");
    expect(removeLine("a=1\n", "a")).toBe("");
  });
});
