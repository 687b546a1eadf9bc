// A later attempt's agent fetches the earlier attempt's CLI session from the task room (docs/sessions.md):
// `GET /parties/task/<task>?session_archive=<n>` with its own attempt token, parsed at this edge.
import {
  PartyName,
  type Result,
  SESSION_ARCHIVE_PARAM,
  SessionArchiveDownload,
  type SessionArchiveRef,
} from "../../protocol/index.ts";

/** How long the fetch may take: 1 MiB of gzip as base64 is under 1.4 MB. */
const FETCH_TIMEOUT_MS = 30_000;

export interface ArchiveFetchInput {
  server: URL;
  /** This attempt's token (task.assign's `attempt_token`). */
  token: string;
  taskId: string;
  /** The earlier attempt whose session it is. */
  attempt: number;
  /** What task.assign said of it: the download must match. */
  ref: SessionArchiveRef;
}

export async function fetchSessionArchive(input: ArchiveFetchInput): Promise<Result<SessionArchiveDownload, string>> {
  const url = new URL(`/parties/${PartyName.task}/${encodeURIComponent(input.taskId)}`, input.server);
  url.searchParams.set(SESSION_ARCHIVE_PARAM, String(input.attempt));
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${input.token}` },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (cause) {
    return {
      ok: false,
      error: `could not fetch attempt ${input.attempt}'s session from the task room (${cause instanceof Error ? cause.message : String(cause)})`,
    };
  }
  const text = await response.text().catch(() => "");
  if (!response.ok)
    return {
      ok: false,
      error: `the task room answered ${response.status} to the fetch of attempt ${input.attempt}'s session: ${text.slice(0, 300)}`,
    };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, error: `the task room's session archive for attempt ${input.attempt} is not JSON` };
  }
  const parsed = SessionArchiveDownload.safeParse(body);
  if (!parsed.success)
    return {
      ok: false,
      error: `the task room's session archive for attempt ${input.attempt} was not understood (${parsed.error.issues[0]?.message ?? "invalid"})`,
    };
  if (parsed.data.sha256 !== input.ref.sha256 || parsed.data.session_id !== input.ref.session_id)
    return {
      ok: false,
      error: `the task room's session archive for attempt ${input.attempt} is not the one task.assign named`,
    };
  return { ok: true, value: parsed.data };
}
