// The page's calls to the mesh's HTTP API, with the page's credential as a Bearer token (the fragment's
// token: the orchestrator token or a viewer link, which the API accepts where it may).

/** The mesh's answer (any status, its body as text), or that it gave none. */
export type ApiAnswer =
  | { answered: true; status: number; ok: boolean; body: string }
  | { answered: false; error: unknown };

export async function callApi(
  path: string,
  token: string,
  init: { method?: "GET" | "POST" | "DELETE"; json?: unknown } = {},
): Promise<ApiAnswer> {
  try {
    const response = await fetch(path, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.json === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
    return { answered: true, status: response.status, ok: response.ok, body: await response.text() };
  } catch (error) {
    return { answered: false, error };
  }
}

/** The path of a task's route: `/api/tasks/<id>[/<action>]`. */
export function taskPath(taskId: string, action?: string): string {
  return `/api/tasks/${encodeURIComponent(taskId)}${action === undefined ? "" : `/${action}`}`;
}
