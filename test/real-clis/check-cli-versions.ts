// `npm run check:cli-versions`: the CLIs pinned in versions.json against the latest version each has
// on the npm registry (`npm view <package> version`), as a table. It only reports: moving to a newer
// CLI is a deliberate change of versions.json followed by `npm run test:real-clis` (docs/real-clis.md).
// Exit 0 whatever it finds; 1 only when the registry cannot be asked or answers nonsense.
import { execFileSync } from "node:child_process";
import { pinnedVersions } from "./install-clis.ts";

type Row = { pkg: string; pinned: string; latest: string; status: string };

/** Compares dotted numeric versions (a pre-release suffix is ignored): <0, 0 or >0. */
function compareVersions(a: string, b: string): number {
  const parts = (version: string): number[] => version.split("-")[0]?.split(".").map(Number) ?? [];
  const [left, right] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function latestOf(pkg: string): string {
  const answer = execFileSync("npm", ["view", pkg, "version"], {
    encoding: "utf8",
    timeout: 60_000,
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
  if (!/^\d+\.\d+\.\d+\S*$/.test(answer))
    throw new Error(`npm view ${pkg} version answered '${answer}', not a version`);
  return answer;
}

try {
  const rows: Row[] = Object.entries(pinnedVersions()).map(([pkg, pinned]) => {
    const latest = latestOf(pkg);
    const order = compareVersions(latest, pinned);
    return {
      pkg,
      pinned,
      latest,
      status: order > 0 ? "newer published" : order === 0 ? "up to date" : "pinned is ahead of latest",
    };
  });
  const header: Row = { pkg: "package", pinned: "pinned", latest: "latest", status: "status" };
  const width = (key: keyof Row): number => Math.max(...[header, ...rows].map((row) => row[key].length));
  for (const row of [header, ...rows])
    console.log(
      `${row.pkg.padEnd(width("pkg"))}  ${row.pinned.padEnd(width("pinned"))}  ${row.latest.padEnd(width("latest"))}  ${row.status}`.trimEnd(),
    );
  const newer = rows.filter((row) => row.status === "newer published").length;
  console.log(
    newer === 0
      ? "\nEvery pinned CLI is the latest published."
      : `\n${newer} CLI(s) have a newer version: change test/real-clis/versions.json, then run npm run test:real-clis (docs/real-clis.md).`,
  );
} catch (error) {
  console.error(`check:cli-versions: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
