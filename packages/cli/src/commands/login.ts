import { type Command, Option } from "commander";
import { z } from "zod";
import { nerfDart, readNpmrc, upsertLine, writeConfigFile } from "../config/npmrc.ts";
import { type CliContext, CommandScope } from "../context.ts";
import { CliError } from "../errors.ts";
import { isRecord, type RegistryClient } from "../http/client.ts";
import { withProgress } from "../output/progress.ts";
import { examples } from "./help.ts";

export const PROVIDERS = ["github", "google", "gitlab", "oidc", "forge-auth", "email"] as const;

const Authorization = z.object({
  device_code: z.string().min(1),
  user_code: z.string().min(1),
  verification_uri: z.string().url(),
  verification_uri_complete: z.string().url().optional(),
  expires_in: z.number().positive(),
  interval: z.number().nonnegative().optional(),
});

const GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";

export function registerLogin(program: Command, ctx: CliContext): void {
  program
    .command("login")
    .description(
      "Log in through the browser (device flow) and store the token in ~/.npmrc for this registry",
    )
    .addOption(new Option("--provider <provider>", "sign in with this provider").choices(PROVIDERS))
    .option("--no-browser", "do not try to open a browser; just print the URL")
    .addHelpText(
      "after",
      `
The code and URL are printed; approve the code in a browser on any machine. A browser is opened
only on a terminal with a desktop. Works without a TTY (CI logs): it simply waits for approval.
${examples([
  "packr-cli login --registry https://npm.example.com/",
  "packr-cli login --provider github",
  "packr-cli login --no-browser --json",
])}`,
    )
    .action(async (opts: { provider?: string; browser: boolean }, command: Command) => {
      const scope = new CommandScope(ctx, command);
      const { out } = scope;
      const settings = await scope.settings();
      // Login asks for a new token: whatever is configured is not sent.
      const client = scope.client(settings, undefined);

      const started = await client.request("POST", "/-/v1/device/authorize", {
        body: { client: "packr-cli", ...(opts.provider ? { provider: opts.provider } : {}) },
      });
      const parsed = Authorization.safeParse(started.json);
      if (!parsed.success) {
        throw new CliError(
          "failure",
          `The registry at ${settings.registry} answered the device authorization with something packr-cli does not understand.`,
        );
      }
      const auth = parsed.data;
      const link = auth.verification_uri_complete ?? auth.verification_uri;
      out.info(`Your one-time code: ${out.c.bold(auth.user_code)}`);
      out.info(`Open ${out.c.cyan(auth.verification_uri)} and enter the code, or go to:`);
      out.info(`  ${link}`);
      const interactive = ctx.stdout.isTTY === true && !ctx.env.ci && ctx.env.hasDisplay;
      if (opts.browser && interactive && (await ctx.openBrowser(link))) {
        out.info("Opened your browser.");
      }

      const token = await withProgress(out, "Waiting for the code to be approved…", () =>
        pollForToken(client, auth),
      );

      const key = `${nerfDart(settings.registry)}:_authToken`;
      const file = await readNpmrc(settings.userconfig);
      await writeConfigFile(settings.userconfig, upsertLine(file.text, key, token), 0o600);

      const who = await scope.client(settings, token).request("GET", "/-/whoami");
      const username =
        isRecord(who.json) && typeof who.json.username === "string" ? who.json.username : undefined;
      out.result(
        { registry: settings.registry, username: username ?? null, npmrc: settings.userconfig },
        () => [
          `Logged in${username ? ` as ${out.c.bold(username)}` : ""} on ${settings.registry}.`,
          `Token saved to ${settings.userconfig} (${key}).`,
        ],
      );
    });
}

/**
 * RFC 8628 §3.4–3.5: poll the token endpoint every `interval` seconds (5 when unsaid), five seconds
 * slower after each `slow_down`, until a token, a denial or the code's expiry.
 */
async function pollForToken(
  client: RegistryClient,
  auth: z.infer<typeof Authorization>,
): Promise<string> {
  let interval = auth.interval ?? 5;
  const deadline = Date.now() + auth.expires_in * 1000;
  for (;;) {
    await sleep(interval * 1000);
    const a = await client.request("POST", "/-/v1/device/token", {
      body: { device_code: auth.device_code, grant_type: GRANT_TYPE },
      accept: [400, 428, 429],
    });
    const body = isRecord(a.json) ? a.json : {};
    if (a.status === 200) {
      if (typeof body.access_token === "string" && body.access_token !== "") {
        return body.access_token;
      }
      throw new CliError("failure", "The registry approved the login but sent no token.");
    }
    const error = typeof body.error === "string" ? body.error : "";
    if (error === "slow_down" || a.status === 429) {
      // The registry may name the new interval; RFC 8628 §3.5 says five seconds more otherwise.
      interval =
        typeof body.interval === "number" && body.interval > interval
          ? body.interval
          : interval + 5;
    } else if (error === "access_denied") {
      throw new CliError("auth", "The login was denied in the browser.", {
        code: "ACCESS_DENIED",
        status: a.status,
      });
    } else if (error === "expired_token") {
      throw expired(a.status);
    } else if (error !== "authorization_pending") {
      throw new CliError(
        "failure",
        `The registry refused the device login: ${error || `HTTP ${a.status}`}.`,
        { code: error || `HTTP_${a.status}`, status: a.status },
      );
    }
    if (Date.now() >= deadline) throw expired(a.status);
  }
}

const expired = (status: number): CliError =>
  new CliError("auth", "The code expired before it was approved. Run packr-cli login again.", {
    code: "EXPIRED_TOKEN",
    status,
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
