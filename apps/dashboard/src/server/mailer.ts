import nodemailer from "nodemailer";
import type { DashboardSettings } from "./config.ts";

/** Send the sign-in link by SMTP, or print it to the log when SMTP_URL is `console`. */
export async function sendMagicLink(s: DashboardSettings, to: string, url: string): Promise<void> {
  const email = s.email;
  if (!email) throw new Error("email sign-in is not configured");
  const text = `Sign in to Packr by opening this link (valid for 15 minutes, once):\n\n${url}\n\nIf you did not ask for it, ignore this mail.`;
  if (email.smtpUrl === "console") {
    // Set apart from the request log lines around it: this is what the person is looking for.
    console.log(
      `\nSign-in link for ${to} (open it in the browser; valid 15 minutes, once):\n  ${url}\n`,
    );
    return;
  }
  const transport = nodemailer.createTransport(email.smtpUrl);
  await transport.sendMail({ from: email.from, to, subject: "Your Packr sign-in link", text });
}
