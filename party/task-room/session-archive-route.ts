import type * as Party from "partykit/server";
import { SESSION_ARCHIVE_PARAM } from "../../protocol/index.ts";
import { identify, presentedToken, readSecrets } from "../auth/credentials.ts";
import { errorResponse, json } from "../http/responses.ts";
import { SessionArchiveStore } from "./session-archive-store.ts";

// `GET /parties/task/<id>?session_archive=<n>`: the agent that runs a later attempt of the task
// fetches attempt n's CLI session (docs/sessions.md). Only with that later attempt's own token: the
// one credential that says this agent was given an attempt of this task.

/** Whether a request to the task room is an archive fetch (routed before the orchestrator-only gate). */
export function isSessionArchiveRequest(request: Request): boolean {
  return request.method === "GET" && new URL(request.url).searchParams.has(SESSION_ARCHIVE_PARAM);
}

/** The archive, with the attempt's diff when it had one, for a caller holding a later attempt's token. */
export async function serveSessionArchive(
  request: Request,
  room: Party.Room,
  readDiff: (attempt: number) => Promise<string | undefined>,
): Promise<Response> {
  const secrets = readSecrets(room.env);
  if ("code" in secrets) return errorResponse(secrets.code, secrets.message);
  const caller = await identify(presentedToken(request, "http"), secrets, Date.now());
  if (caller === null)
    return errorResponse(
      "unauthorized",
      "missing, wrong or expired token; send 'Authorization: Bearer <attempt token>'",
    );
  const attempt = Number(new URL(request.url).searchParams.get(SESSION_ARCHIVE_PARAM));
  if (!Number.isInteger(attempt) || attempt < 1)
    return errorResponse("bad_request", `${SESSION_ARCHIVE_PARAM}: an attempt number`);
  if (caller.role !== "agent" || caller.via !== "attempt" || caller.taskId !== room.id || caller.attempt <= attempt) {
    return errorResponse(
      "forbidden",
      `only the token of a later attempt of task ${room.id} may fetch attempt ${attempt}'s session`,
    );
  }
  const archive = await new SessionArchiveStore(room.storage, `task ${room.id}`).read(attempt);
  if (!archive.ok && archive.error.code === "corrupt") console.error(`task ${room.id}: ${archive.error.message}`);
  if (!archive.ok)
    return errorResponse(archive.error.code === "missing" ? "not_found" : "internal", archive.error.message);
  const diff = await readDiff(attempt);
  return json({ ...archive.value, ...(diff === undefined || diff === "" ? {} : { diff }) });
}
export { SessionArchiveStore } from "./session-archive-store.ts";
