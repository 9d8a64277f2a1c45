/** Human sentences for the reasons a sign-in or a page can fail (query `error=`/`reason=`). */
export const FAILURES: Record<string, string> = {
  unknown_provider: "That sign-in method is not enabled here.",
  state_mismatch:
    "The sign-in could not be verified (its state did not match). Start again from the sign-in page.",
  access_denied: "You declined the sign-in at the provider, so you are not signed in.",
  provider_error: "The sign-in provider did not complete the sign-in. Try again.",
  invalid_link: "This sign-in link is invalid, expired or already used. Ask for a new one.",
  registry_refused: "The registry refused to open a session for this account.",
  signup_refused: "You have no account on this registry, and it did not create one for you.",
  invalid_email: "Enter a valid email address.",
  mail_failed: "The sign-in mail could not be sent. Try again later.",
  wrong_password: "Incorrect username or password.",
  missing_password: "Enter your username and password.",
  too_many_attempts: "Too many wrong passwords from here. Wait a minute, then try again.",
  registry_unreachable: "The registry cannot be reached. Is Packr's registry running?",
  registry_timeout:
    "The registry cannot be reached: it did not answer in time (PACKR_REGISTRY_TIMEOUT). Try again in a moment; if it keeps happening, check that Packr's registry is running and not overloaded.",
  too_many_links:
    "Too many sign-in links were asked for: at most 3 for one email address in 15 minutes, and 20 from one network in an hour. Use a link already sent (check your spam folder), or wait and try again.",
};

export function failureMessage(reason: string | undefined): string | null {
  if (!reason) return null;
  return FAILURES[reason] ?? "Something went wrong. Try again.";
}
