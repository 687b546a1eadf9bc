import { AGENT_CREDENTIAL_PREFIX } from "../../protocol/index.ts";
import type { Caller } from "../auth/credentials.ts";
import { randomSecret, sha256Hex } from "../auth/signing.ts";
import type { HelloIdentity } from "./registry-state.ts";

/**
 * Who says hello, from the gate's caller; an enrollment gets a fresh credential ready, used only if the actor enrolls
 * (docs/agent-identity.md).
 */
export async function helloIdentity(caller: Caller | undefined, name: string): Promise<HelloIdentity | null> {
  if (caller === undefined || caller.role !== "agent" || caller.via === "attempt") return null;
  if (caller.via === "credential")
    return { via: "credential", agent: caller.agent, credentialHash: caller.credentialHash };
  const credential = `${AGENT_CREDENTIAL_PREFIX}${name}:${randomSecret()}`;
  return { via: "enrollment", tokenName: caller.tokenName, credential, credentialHash: await sha256Hex(credential) };
}
