#!/usr/bin/env node
import { parseCliEnv } from "./config/env.ts";
import { openBrowser } from "./open-browser.ts";
import { runProgram } from "./program.ts";

const env = parseCliEnv(process.env);
const code = await runProgram(
  { env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, openBrowser },
  process.argv.slice(2),
);
process.exitCode = code;
