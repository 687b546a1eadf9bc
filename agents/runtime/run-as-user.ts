import { execFileSync } from "node:child_process";
import type { Result } from "../../protocol/result.ts";

/** A dedicated user children run as (`--run-as`): who it is and the environment it gets. */
export interface RunAsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Why `--run-as` cannot be used; the message says what to do. */
export type RunAsRefusal = { code: "not_root" | "bad_name" | "no_such_user"; message: string };

const refuse = (code: RunAsRefusal["code"], message: string): Result<never, RunAsRefusal> => ({
  ok: false,
  error: { code, message },
});

/** POSIX-ish user names; anything else is refused before it reaches a shell. */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** Looks the user up with `id` (Linux and macOS alike); a typed refusal saying what is wrong otherwise. */
export function lookupRunAsUser(name: string, isRoot = process.getuid?.() === 0): Result<RunAsUser, RunAsRefusal> {
  if (!isRoot)
    return refuse("not_root", `--run-as ${name} needs the agent to run as root (it starts each child as that user)`);
  if (!USER_NAME.test(name)) return refuse("bad_name", `--run-as '${name}' is not a user name`);
  try {
    const uid = Number(
      execFileSync("id", ["-u", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
    const gid = Number(
      execFileSync("id", ["-g", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
    // Tilde expansion finds the home directory on both systems; the name was checked above.
    const home = execFileSync("sh", ["-c", `echo ~${name}`], { encoding: "utf8" }).trim();
    if (!Number.isInteger(uid) || !Number.isInteger(gid))
      return refuse("no_such_user", `--run-as ${name}: cannot read its uid and gid`);
    return { ok: true, value: { name, uid, gid, home: home.startsWith("~") ? "/" : home } };
  } catch {
    return refuse(
      "no_such_user",
      `--run-as ${name}: no such user on this machine; create it (a user that owns nothing else) or drop the flag`,
    );
  }
}

/** The environment a child of that user expects. */
export function userEnv(user: RunAsUser): Record<string, string> {
  return { HOME: user.home, USER: user.name, LOGNAME: user.name };
}
