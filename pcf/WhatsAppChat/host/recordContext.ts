import type { Regarding } from "../api/contract";

/** The form's record, when the host says which (model-driven forms do, through `mode.contextInfo`). */
export function regardingRecord(mode: unknown): Regarding | undefined {
  const info = (mode as { contextInfo?: { entityTypeName?: unknown; entityId?: unknown } } | undefined)?.contextInfo;
  const entity = info?.entityTypeName;
  const id = typeof info?.entityId === "string" ? info.entityId.replace(/[{}]/g, "").toLowerCase() : "";
  if ((entity !== "contact" && entity !== "lead") || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return { entity, id };
}

/** The agent's sign-in name (UPN), the login hint for the silent sign-in: the user's `domainname` in Dataverse. */
export async function agentLoginHint(webApi: ComponentFramework.WebApi, userId: string): Promise<string | undefined> {
  try {
    const user = await webApi.retrieveRecord("systemuser", userId.replace(/[{}]/g, ""), "?$select=domainname");
    const name = (user as { domainname?: unknown }).domainname;
    return typeof name === "string" && name.includes("@") ? name : undefined;
  } catch {
    return undefined; // no hint: Entra ID picks the account signed in to the browser
  }
}
