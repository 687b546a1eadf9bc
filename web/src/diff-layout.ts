// Side by side or unified: the diff view's layout, remembered per browser. Pure, so it is unit-tested.

/** diff2html's names for the two layouts. */
export type DiffLayout = "side-by-side" | "line-by-line";

/** The localStorage key the person's choice is kept under. */
export const DIFF_LAYOUT_KEY = "agent-mesh.diff-layout";

/** Below this width two columns of code are too narrow to read: unified is the default there. */
export const SIDE_BY_SIDE_MIN_PX = 800;

/** The person's stored choice if it is one, else what suits the window's width. */
export function initialDiffLayout(stored: string | null, widthPx: number): DiffLayout {
  if (stored === "side-by-side" || stored === "line-by-line") return stored;
  return widthPx < SIDE_BY_SIDE_MIN_PX ? "line-by-line" : "side-by-side";
}
