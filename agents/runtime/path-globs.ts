// `acceptance.allowed_paths` globs, matched against paths relative to the task's cwd.
// Not node's `path.matchesGlob`: on Node 20 it is experimental (it prints an ExperimentalWarning on
// the agent's stderr) and it has no `dot` option, so `src/**` would not cover `src/.env`; a run
// that changed a dot-file would be blamed for it. The rules here, those of gitignore-like globs:
//   `**` spans directories (dot-files included), `*` and `?` stay within one path segment,
//   `{a,b}` is either, `[abc]` / `[!abc]` one of / none of, and a glob that names a directory
//   (`src`, `src/`) covers everything below it.

/** True when `path` (relative, `/`-separated) is covered by one of the globs. A path out of cwd (`../x`) only by a glob that says `..` too. */
export function matchesAnyGlob(path: string, globs: readonly string[]): boolean {
  const leavesCwd = path.split("/").includes("..");
  return globs.some((glob) => (!leavesCwd || glob.split("/").includes("..")) && globToRegExp(glob).test(path));
}

export function globToRegExp(glob: string): RegExp {
  const normalized = glob.replace(/\\/g, "/").replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  return new RegExp(`^${compile(normalized)}(?:/.*)?$`, "s");
}

function compile(glob: string): string {
  let out = "";
  let i = 0;
  while (i < glob.length) {
    const c = glob.charAt(i);
    if (c === "*") {
      const atSegmentStart = i === 0 || glob.charAt(i - 1) === "/";
      if (glob.charAt(i + 1) === "*" && atSegmentStart) {
        const next = glob.charAt(i + 2);
        if (next === "/") {
          // `**/`: any number of whole directories, none included.
          out += "(?:[^/]*/)*";
          i += 3;
          continue;
        }
        if (next === "") {
          out += ".*";
          i += 2;
          continue;
        }
      }
      out += "[^/]*";
      while (glob.charAt(i) === "*") i++;
      continue;
    }
    if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
      } else {
        const body = glob.slice(i + 1, close);
        const negated = body.startsWith("!") || body.startsWith("^");
        const members = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&");
        out += negated ? `[^/${members}]` : `[${members}]`;
        i = close;
      }
    } else if (c === "{") {
      const close = glob.indexOf("}", i);
      if (close === -1) {
        out += "\\{";
      } else {
        out += `(?:${glob.slice(i + 1, close).split(",").map(compile).join("|")})`;
        i = close;
      }
    } else {
      out += c.replace(/[.+^$()|\\]/g, "\\$&");
    }
    i++;
  }
  return out;
}
