/** The "Examples:" block every command's --help ends with. */
export const examples = (lines: string[]): string =>
  `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
