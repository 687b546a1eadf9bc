import { execFileSync } from "node:child_process";

/** A dedicated user children run as (`--run-as`): who it is and the environment it gets. */
export interface RunAsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** POSIX-ish user names; anything else is refused before it reaches a shell. */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** Looks the user up with `id` (Linux and macOS alike); a message saying what is wrong otherwise. */
export function lookupRunAsUser(name: string, isRoot = process.getuid?.() === 0): RunAsUser | string {
  if (!isRoot) return `--run-as ${name} needs the agent to run as root (it starts each child as that user)`;
  if (!USER_NAME.test(name)) return `--run-as '${name}' is not a user name`;
  try {
    const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    // Tilde expansion finds the home directory on both systems; the name was checked above.
    const home = execFileSync("sh", ["-c", `echo ~${name}`], { encoding: "utf8" }).trim();
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return `--run-as ${name}: cannot read its uid and gid`;
    return { name, uid, gid, home: home.startsWith("~") ? "/" : home };
  } catch {
    return `--run-as ${name}: no such user on this machine; create it (a user that owns nothing else) or drop the flag`;
  }
}

/** The environment a child of that user expects. */
export function userEnv(user: RunAsUser): Record<string, string> {
  return { HOME: user.home, USER: user.name, LOGNAME: user.name };
}
