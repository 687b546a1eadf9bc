// One way to signal a process group. Only ESRCH (no such group) means "already gone"; any other
// failure (EPERM: a member changed user, say) comes back to the caller to be told, so a group that
// outlives its stop is never silent (docs/containment.md).
import type { Result } from "../../protocol/result.ts";

/** Why a signal did not reach the group: the errno code Node gave (EPERM, EINVAL…). */
export type GroupSignalFault = { code: string; message: string };

/** Sends `signal` to process group `pgid`: `sent`, `gone` (ESRCH), or the fault. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): Result<"sent" | "gone", GroupSignalFault> {
  try {
    process.kill(-pgid, signal);
    return { ok: true, value: "sent" };
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return { ok: true, value: "gone" };
    return {
      ok: false,
      error: {
        code: code ?? "unknown",
        message: `could not send ${signal} to process group ${pgid}: ${code ?? String(cause)}`,
      },
    };
  }
}
