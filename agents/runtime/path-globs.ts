// `acceptance.allowed_paths` globs, matched against paths relative to the task's cwd, by picomatch
// (not node's `path.matchesGlob`: experimental on Node 20, with no `dot` option, so `src/**` would not
// cover `src/.env` and a run that changed a dot-file would be blamed for it). The rules, those of
// gitignore-like globs: `**` spans directories (dot-files included), `*` and `?` stay within one
// segment, `{a,b}` is either, `[abc]` / `[!abc]` one of / none of, and a glob that names a directory
// (`src`, `src/`) covers everything below it. Extglobs (`+(…)`) are off: `a+b(1).ts` is a file name.
import picomatch from "picomatch/posix";

// `posix` makes `[!ab]` a negated class, as in gitignore and the shell.
const OPTIONS = { dot: true, noextglob: true, posix: true } as const;
const compiled = new Map<string, (path: string) => boolean>();

/**
 * True when `path` (relative, `/`-separated) is covered by one of the globs. A path out of cwd (`../x`) only by a glob
 * that says `..` too.
 */
export function matchesAnyGlob(path: string, globs: readonly string[]): boolean {
  const leavesCwd = path.split("/").includes("..");
  return globs.some((glob) => (!leavesCwd || glob.split("/").includes("..")) && matcherOf(glob)(path));
}

function matcherOf(glob: string): (path: string) => boolean {
  const known = compiled.get(glob);
  if (known !== undefined) return known;
  const normalized = glob
    .replace(/\\/g, "/")
    .replace(/^(\.\/)+/, "")
    .replace(/\/+$/, "");
  // The glob itself, or anything below what it names (a directory glob covers its contents).
  const matcher = picomatch([normalized, `${normalized}/**`], OPTIONS);
  compiled.set(glob, matcher);
  return matcher;
}
