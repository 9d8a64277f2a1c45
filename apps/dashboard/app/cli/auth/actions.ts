"use server";

import { redirect } from "next/navigation";
import { callRegistry } from "../../../src/server/registry.ts";
import { requireUser } from "../../../src/server/session.ts";

/** Approve or deny a device code for the signed-in person; the registry binds it to them. */
export async function decideDevice(formData: FormData): Promise<void> {
  const userCode = String(formData.get("userCode") ?? "");
  const approve = formData.get("decision") === "approve";
  const here = `/cli/auth?code=${encodeURIComponent(userCode)}`;
  const { session } = await requireUser(here);
  const res = await callRegistry<{ status: "approved" | "denied" }>(
    "/api/v1/admin/device/callback",
    { method: "POST", body: { userCode, approve }, session },
  );
  if (!res.ok) redirect(`/cli/auth/done?status=invalid`);
  redirect(`/cli/auth/done?status=${res.data.status}`);
}
