export const ROLES = ["ci-readonly", "ci-publish", "maintainer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ["read", "publish", "unpublish", "admin"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What each role may do; a token carries the expanded list so checks need no lookup. */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  "ci-readonly": ["read"],
  "ci-publish": ["read", "publish"],
  maintainer: ["read", "publish", "unpublish"],
  admin: ["read", "publish", "unpublish", "admin"],
};

export const isRole = (value: unknown): value is Role =>
  typeof value === "string" && (ROLES as readonly string[]).includes(value);
