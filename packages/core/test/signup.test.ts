/**
 * Who may get an account (PACKR_SIGNUP and its allow-lists) on every path that creates one —
 * a provider sign-in, a magic link, npm's legacy adduser — and how sign-ins link to accounts
 * (only a verified email from a provider trusted for linking). Invitations are claimed that way.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ServiceContext } from "../src/context.ts";
import { auditEvents, oauthAccounts, users } from "../src/db/schema/index.ts";
import { PackrError } from "../src/errors.ts";
import { authenticateSession } from "../src/sessions/authenticate-session.ts";
import { type CreateSessionInput, createSession } from "../src/sessions/create-session.ts";
import { createTestDeps, type TestDeps, testDrivers, tokenContext } from "../src/testing/index.ts";
import { couchLogin } from "../src/users/couch-login.ts";
import { ensureAdminUser } from "../src/users/ensure-admin.ts";
import { inviteUser } from "../src/users/invite-user.ts";
import { createUser } from "../src/users/login.ts";
import {
  DEFAULT_LINK_TRUSTED_PROVIDERS,
  describeSignupPolicy,
  OPEN_SIGNUP,
  type SignupPolicy,
} from "../src/users/signup-policy.ts";

const ALLOWLIST: SignupPolicy = {
  ...OPEN_SIGNUP,
  mode: "allowlist",
  emailDomains: ["acme.test"],
  githubOrgs: ["acme"],
  gitlabGroups: ["acme/platform"],
  oidcClaims: [{ claim: "groups", value: "platform" }],
};
const CLOSED: SignupPolicy = { ...OPEN_SIGNUP, mode: "closed" };

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${(seq++).toString(36)}`;

describe.each(testDrivers())("sign-up policy and account linking on %s", (driver) => {
  let deps: TestDeps;
  let system: ServiceContext;
  beforeAll(async () => {
    deps = await createTestDeps(driver);
    system = { deps, actor: { type: "system", reason: "dashboard" }, requestId: "t" };
  });
  afterAll(async () => deps.close());
  beforeEach(() => {
    deps.identity.signup = OPEN_SIGNUP;
  });
  const use = (p: SignupPolicy) => {
    deps.identity.signup = p;
  };

  const signIn = (
    input: Partial<CreateSessionInput> & { provider: CreateSessionInput["provider"] },
  ) =>
    createSession({
      ctx: system,
      input: {
        subject: `sub-${uniq()}`,
        email: null,
        emailVerified: false,
        name: null,
        ...input,
      },
    });
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => "created",
      (e: unknown) => {
        if (!(e instanceof PackrError)) throw e;
        return `${e.status} ${e.message}`;
      },
    );
  const adduser = (name: string, email?: string) =>
    couchLogin({
      ctx: system,
      input: {
        urlName: name,
        body: { name, password: `${name}-password-1`, ...(email ? { email } : {}) },
        rev: undefined,
        basic: undefined,
      },
    });

  describe("closed", () => {
    it("refuses a new account on every path, saying who to ask and which setting", async () => {
      use(CLOSED);
      for (const provider of ["github", "google", "gitlab", "oidc", "forge-auth"] as const) {
        const r = await refusal(
          signIn({ provider, email: `new-${uniq()}@acme.test`, emailVerified: true }),
        );
        expect(r).toMatch(/^403 There is no account for new-\w+@acme\.test/);
        expect(r).toContain("PACKR_SIGNUP=closed");
        expect(r).toContain("Ask an administrator of this registry to invite you");
        expect(r).toContain("http://dashboard.test/login");
      }
      const email = `link-${uniq()}@acme.test`;
      expect(
        await refusal(signIn({ provider: "email", subject: email, email, emailVerified: true })),
      ).toMatch(/^403 .*PACKR_SIGNUP=closed/);
      const name = `cl-${uniq()}`;
      expect(await refusal(adduser(name))).toMatch(/^403 .*PACKR_SIGNUP=closed/);
      const [row] = await deps.db.select().from(users).where(eq(users.name, name));
      expect(row).toBeUndefined();
    });

    it("still signs existing accounts in", async () => {
      use(OPEN_SIGNUP);
      const subject = `gh-${uniq()}`;
      const first = await signIn({ provider: "github", subject, email: null });
      use(CLOSED);
      const again = await signIn({ provider: "github", subject, email: null });
      expect(again.user.id).toBe(first.user.id);
      expect(again.createdUser).toBe(false);
      // A password account (made before sign-up closed) still logs in with npm adduser's PUT.
      use(OPEN_SIGNUP);
      const name = `pw-${uniq()}`;
      await adduser(name);
      use(CLOSED);
      const { getCouchUser } = await import("../src/users/login.ts");
      const doc = await getCouchUser({ ctx: system, input: { name } });
      const ok = await couchLogin({
        ctx: system,
        input: {
          urlName: name,
          body: { name, password: `${name}-password-1` },
          rev: doc._rev,
          basic: { name, password: `${name}-password-1` },
        },
      });
      expect(ok.username).toBe(name);
    });
  });

  describe("allowlist", () => {
    it("admits a verified email of an allowed domain from a trusted provider (any letter case)", async () => {
      use(ALLOWLIST);
      const gh = await signIn({
        provider: "github",
        email: `Ann-${uniq()}@ACME.test`,
        emailVerified: true,
      });
      expect(gh.createdUser).toBe(true);
      const email = `magic-${uniq()}@acme.test`;
      const magic = await signIn({ provider: "email", subject: email, email, emailVerified: true });
      expect(magic.createdUser).toBe(true);
      const google = await signIn({
        provider: "google",
        email: `g-${uniq()}@acme.test`,
        emailVerified: true,
      });
      expect(google.createdUser).toBe(true);
      const [audit] = await deps.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.targetId, google.user.id));
      expect(audit?.data).toMatchObject({ admittedBy: "email domain acme.test" });
    });

    it("refuses an unverified email, another domain, a subdomain, and a weaker provider's email", async () => {
      use(ALLOWLIST);
      const unverified = await refusal(
        signIn({ provider: "github", email: `u-${uniq()}@acme.test`, emailVerified: false }),
      );
      expect(unverified).toMatch(
        /^403 u-\w+@acme\.test is not on this registry's sign-up allow-list/,
      );
      expect(unverified).toContain("PACKR_SIGNUP=allowlist: PACKR_SIGNUP_EMAIL_DOMAINS");
      expect(
        await refusal(
          signIn({ provider: "github", email: `o-${uniq()}@other.test`, emailVerified: true }),
        ),
      ).toMatch(/^403 .*allow-list/);
      expect(
        await refusal(
          signIn({ provider: "google", email: `s-${uniq()}@eu.acme.test`, emailVerified: true }),
        ),
      ).toMatch(/^403 .*allow-list/);
      // A self-managed GitLab or a generic OIDC provider may call any address verified.
      for (const provider of ["gitlab", "oidc", "forge-auth"] as const) {
        const weak = await refusal(
          signIn({ provider, email: `w-${uniq()}@acme.test`, emailVerified: true }),
        );
        expect(weak).toMatch(/^403 /);
        expect(weak).toContain("PACKR_LINK_TRUSTED_PROVIDERS");
      }
      const email = `evil-${uniq()}@evil.test`;
      expect(
        await refusal(signIn({ provider: "email", subject: email, email, emailVerified: true })),
      ).toMatch(/^403 /);
    });

    it("admits members of an allowed GitHub organization or GitLab group, each from its own provider", async () => {
      use(ALLOWLIST);
      const gh = await signIn({ provider: "github", email: null, groups: ["other", "ACME"] });
      expect(gh.createdUser).toBe(true);
      const gl = await signIn({ provider: "gitlab", email: null, groups: ["acme/platform"] });
      expect(gl.createdUser).toBe(true);
      // A parent group is not the allowed subgroup; a GitHub org named like the group is not it.
      expect(await refusal(signIn({ provider: "gitlab", email: null, groups: ["acme"] }))).toMatch(
        /^403 /,
      );
      expect(
        await refusal(signIn({ provider: "github", email: null, groups: ["acme/platform"] })),
      ).toMatch(/^403 /);
      // Groups sent for a provider that cannot assert them count for nothing.
      expect(await refusal(signIn({ provider: "google", email: null, groups: ["acme"] }))).toMatch(
        /^403 /,
      );
    });

    it("admits an OIDC claim match (a list containing the value, or the value itself)", async () => {
      use(ALLOWLIST);
      expect(
        (await signIn({ provider: "oidc", claims: { groups: ["dev", "platform"] } })).createdUser,
      ).toBe(true);
      expect((await signIn({ provider: "oidc", claims: { groups: "platform" } })).createdUser).toBe(
        true,
      );
      expect(
        await refusal(signIn({ provider: "oidc", claims: { groups: ["dev"], team: "platform" } })),
      ).toMatch(/^403 /);
      // Claims count only from the generic OIDC provider.
      expect(
        await refusal(signIn({ provider: "forge-auth", claims: { groups: ["platform"] } })),
      ).toMatch(/^403 /);
    });

    it("refuses npm adduser, whose typed-in email proves nothing", async () => {
      use(ALLOWLIST);
      const r = await refusal(adduser(`add-${uniq()}`, "someone@acme.test"));
      expect(r).toMatch(/^403 npm adduser cannot create accounts on this registry/);
      expect(r).toContain("http://dashboard.test/login");
    });
  });

  describe("open", () => {
    it("creates accounts on every path, npm adduser included", async () => {
      use(OPEN_SIGNUP);
      for (const provider of ["github", "gitlab", "oidc", "forge-auth", "google"] as const) {
        expect((await signIn({ provider, email: null })).createdUser).toBe(true);
      }
      const name = `op-${uniq()}`;
      expect((await adduser(name, `${name}@anywhere.test`)).username).toBe(name);
      const [row] = await deps.db.select().from(users).where(eq(users.name, name));
      expect(row?.emailVerified).toBe(false);
    });
  });

  describe("account linking", () => {
    it("links a trusted provider's verified email to the account that proved it", async () => {
      use(OPEN_SIGNUP);
      const email = `link-${uniq()}@example.test`;
      const gh = await signIn({ provider: "github", email, emailVerified: true });
      use(CLOSED);
      const google = await signIn({
        provider: "google",
        email: email.toUpperCase(),
        emailVerified: true,
      });
      expect(google.user.id).toBe(gh.user.id);
      expect(google.createdUser).toBe(false);
      const magic = await signIn({ provider: "email", subject: email, email, emailVerified: true });
      expect(magic.user.id).toBe(gh.user.id);
      const links = await deps.db
        .select()
        .from(oauthAccounts)
        .where(eq(oauthAccounts.userId, gh.user.id));
      expect(links.map((l) => l.provider).sort()).toEqual(["email", "github", "google"]);
    });

    it("never links from an untrusted provider: a second account is created instead (or refused)", async () => {
      use(OPEN_SIGNUP);
      const email = `victim-${uniq()}@example.test`;
      const gh = await signIn({ provider: "github", email, emailVerified: true });
      for (const provider of ["gitlab", "oidc", "forge-auth"] as const) {
        const other = await signIn({ provider, email, emailVerified: true });
        expect(other.user.id).not.toBe(gh.user.id);
        expect(other.createdUser).toBe(true);
      }
      use(CLOSED);
      expect(await refusal(signIn({ provider: "gitlab", email, emailVerified: true }))).toMatch(
        /^403 /,
      );
    });

    it("never lets a weaker provider's account capture a later trusted sign-in", async () => {
      // Pre-hijacking: someone claims the victim's address on a self-managed GitLab first.
      use(OPEN_SIGNUP);
      const email = `early-${uniq()}@example.test`;
      const squatter = await signIn({ provider: "gitlab", email, emailVerified: true });
      const victim = await signIn({ provider: "github", email, emailVerified: true });
      expect(victim.user.id).not.toBe(squatter.user.id);
      // Nor does an npm adduser account with the address typed in.
      const typed = `typed-${uniq()}@example.test`;
      const added = await adduser(`ty-${uniq()}`, typed);
      const real = await signIn({ provider: "google", email: typed, emailVerified: true });
      expect(real.user.name).not.toBe(added.username);
    });

    it("links from GitLab once it is configured as trusted", async () => {
      use({ ...OPEN_SIGNUP, linkTrustedProviders: [...DEFAULT_LINK_TRUSTED_PROVIDERS, "gitlab"] });
      const email = `gl-${uniq()}@example.test`;
      const gh = await signIn({ provider: "github", email, emailVerified: true });
      const gl = await signIn({ provider: "gitlab", email, emailVerified: true });
      expect(gl.user.id).toBe(gh.user.id);
      // … and its verified email then counts for the domain list too.
      use({ ...ALLOWLIST, linkTrustedProviders: ["gitlab"] });
      expect(
        (await signIn({ provider: "gitlab", email: `x-${uniq()}@acme.test`, emailVerified: true }))
          .createdUser,
      ).toBe(true);
    });

    it("links PACKR_ADMIN_EMAIL to the admin from any trusted provider", async () => {
      use(CLOSED);
      const ctx = { ...system, actor: { type: "system" as const, reason: "first start" } };
      // The admin made at first start without an address; a later start gives it PACKR_ADMIN_EMAIL.
      await createUser(ctx, {
        name: "admin",
        password: "admin-password-1",
        email: null,
        isAdmin: true,
      });
      expect(await ensureAdminUser(ctx, undefined, "root@acme.test")).toBeNull();
      const gh = await signIn({ provider: "github", email: "root@acme.test", emailVerified: true });
      expect(gh.user).toMatchObject({ name: "admin", isAdmin: true });
    });
  });

  describe("invitations", () => {
    it("an admin invites; the person claims the account with a trusted provider, even when closed", async () => {
      use(CLOSED);
      const admin = await tokenContext(deps, {
        user: `adm-${uniq()}`,
        role: "admin",
        isAdmin: true,
      });
      const name = `inv-${uniq()}`;
      const email = `${name}@elsewhere.test`;
      const invited = await inviteUser({ ctx: admin, input: { name, email: email.toUpperCase() } });
      expect(invited).toMatchObject({ name, email, isAdmin: false });
      expect(invited.signInUrl).toBe("http://dashboard.test/login");
      // A weaker provider cannot claim it: refused, since sign-up is closed.
      expect(await refusal(signIn({ provider: "gitlab", email, emailVerified: true }))).toMatch(
        /^403 /,
      );
      // Unverified from a trusted provider: no claim either.
      expect(await refusal(signIn({ provider: "github", email, emailVerified: false }))).toMatch(
        /^403 /,
      );
      const claimed = await signIn({ provider: "github", email, emailVerified: true });
      expect(claimed.user.id).toBe(invited.id);
      expect(claimed.createdUser).toBe(false);
      const actor = await authenticateSession(deps, claimed.session);
      expect(actor).toMatchObject({ type: "session", userName: name });
      const [audit] = await deps.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.targetId, invited.id));
      expect(audit).toMatchObject({ action: "user.invite" });
    });

    it("refuses non-admins, CI tokens, bad input and duplicates", async () => {
      const admin = await tokenContext(deps, {
        user: `adm-${uniq()}`,
        role: "admin",
        isAdmin: true,
      });
      const name = `dup-${uniq()}`;
      await inviteUser({ ctx: admin, input: { name, email: `${name}@acme.test` } });
      const cases: Array<[ServiceContext, { name: string; email: string }, RegExp]> = [
        [
          await tokenContext(deps, { user: `mnt-${uniq()}`, role: "maintainer" }),
          { name: `n-${uniq()}`, email: "n@acme.test" },
          /^403 Only an administrator may invite people/,
        ],
        [
          // An admin's token without the admin permission does not act as admin.
          await tokenContext(deps, {
            user: admin.actor.type === "token" ? admin.actor.userName : "",
            role: "maintainer",
          }),
          { name: `n-${uniq()}`, email: "n@acme.test" },
          /^403 /,
        ],
        [
          await tokenContext(deps, {
            user: `ci-${uniq()}`,
            role: "admin",
            kind: "ci",
            isAdmin: true,
          }),
          { name: `n-${uniq()}`, email: "n@acme.test" },
          /^403 A CI token cannot invite people/,
        ],
        [
          { deps, actor: { type: "anonymous" }, requestId: "t" },
          { name: "x", email: "x@acme.test" },
          /^401 /,
        ],
        [admin, { name: "../etc", email: "x@acme.test" }, /^400 Invalid invitation/],
        [admin, { name: `ok-${uniq()}`, email: "not an email" }, /^400 Invalid invitation/],
        [admin, { name, email: `other-${uniq()}@acme.test` }, /^409 The username ".*" is taken/],
        [
          admin,
          { name: `n-${uniq()}`, email: `${name}@ACME.test` },
          /^409 .* already belongs to the account/,
        ],
      ];
      for (const [ctx, input, want] of cases) {
        expect(await refusal(inviteUser({ ctx, input }))).toMatch(want);
      }
    });

    it("does not count an npm adduser account's typed-in email as taken", async () => {
      const admin = await tokenContext(deps, {
        user: `adm-${uniq()}`,
        role: "admin",
        isAdmin: true,
      });
      const email = `typed-${uniq()}@acme.test`;
      await createUser(system, {
        name: `t-${uniq()}`,
        password: "password-123",
        email,
        isAdmin: false,
      });
      const invited = await inviteUser({ ctx: admin, input: { name: `i-${uniq()}`, email } });
      expect(invited.email).toBe(email);
    });
  });

  it("describes the effective policy in one line for the start-up output", () => {
    expect(describeSignupPolicy({ ...CLOSED, modeSource: "default" })).toMatch(
      /^Sign-up: closed \(the default; set PACKR_SIGNUP\): only existing and invited accounts/,
    );
    expect(describeSignupPolicy({ ...CLOSED, modeSource: "default" }, "ops@acme.test")).toContain(
      "To let colleagues in, set PACKR_SIGNUP_EMAIL_DOMAINS=acme.test.",
    );
    expect(describeSignupPolicy({ ...ALLOWLIST, modeSource: "allow-lists set" })).toContain(
      "verified emails at acme.test; GitHub organizations acme; GitLab groups acme/platform; OIDC claims groups:platform",
    );
    expect(describeSignupPolicy(OPEN_SIGNUP)).toMatch(/^Sign-up: open \(from PACKR_SIGNUP\)/);
  });
});
