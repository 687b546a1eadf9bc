import { type WebhookTarget, webhookTargets } from "../../protocol/index.ts";
import { DEFAULT_OUTBOX_SETTINGS, type OutboxSettings } from "./outbox-book.ts";

/** The outbox's settings from the server's vars (docs/notifications.md "Settings"). */
export type OutboxConfig = { targets: WebhookTarget[]; secret: string; origin: string; settings: OutboxSettings };

/**
 * Reads the settings. The launcher refuses to start with a bad `MESH_WEBHOOK_URLS`, so here a bad
 * one only means a server started another way: no targets, and a line in the log.
 */
export function outboxConfigFrom(env: Record<string, unknown>): OutboxConfig {
  const parsed = webhookTargets(typeof env.MESH_WEBHOOK_URLS === "string" ? env.MESH_WEBHOOK_URLS : undefined);
  if (!parsed.ok) console.error(`notifications: ${parsed.error}`);
  const retry = Number(env.MESH_WEBHOOK_RETRY_MS);
  const text = (name: string): string => (typeof env[name] === "string" ? (env[name] as string).trim() : "");
  // The page the link opens: the public URL when the mesh sits behind one, else the address the launcher serves.
  const origin = (text("MESH_PUBLIC_URL") || text("MESH_LOCAL_URL") || "http://127.0.0.1:1999").replace(/\/+$/, "");
  return {
    targets: parsed.ok ? parsed.value : [],
    secret: text("MESH_WEBHOOK_SECRET"),
    origin,
    settings: {
      ...DEFAULT_OUTBOX_SETTINGS,
      ...(Number.isFinite(retry) && retry > 0
        ? { retryBaseMs: Math.min(retry, DEFAULT_OUTBOX_SETTINGS.retryBaseMs) }
        : {}),
    },
  };
}
