import { z } from "zod";

// Who a room's socket gate admitted (docs/rooms.md): the edge worker checks the credential before the
// upgrade and hands the caller to the room in a request header it sets itself, which the room parses
// with this schema like any other input.

const ViewerScope = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("task"), taskId: z.string() }),
  z.object({ kind: z.literal("dashboard") }),
  z.object({ kind: z.literal("operator") }),
]);

/** The caller in the gate's header: the orchestrator, an agent (three ways) or a viewer. */
export const GateCaller = z.union([
  z.object({ role: z.literal("orchestrator") }),
  z.object({ role: z.literal("agent"), via: z.literal("enrollment"), tokenName: z.string() }),
  z.object({ role: z.literal("agent"), via: z.literal("credential"), agent: z.string(), credentialHash: z.string() }),
  z.object({
    role: z.literal("agent"),
    via: z.literal("attempt"),
    agent: z.string(),
    taskId: z.string(),
    attempt: z.number().int().positive(),
  }),
  z.object({ role: z.literal("viewer"), scope: ViewerScope }),
]);
export type GateCaller = z.infer<typeof GateCaller>;
