// Which rows of a long list of equal-height rows are in view: all a virtualised list renders
// (the task list of 10,000 tasks, the log of 100,000 lines). Pure, so it is tested without a browser.

export type RowWindow = { start: number; end: number };

/**
 * The rows from `start` (included) to `end` (excluded) that a viewport of `viewportPx` scrolled to
 * `scrollTop` shows, plus `overscan` rows on each side so a quick scroll does not show blanks.
 */
export function rowWindow(
  scrollTop: number,
  viewportPx: number,
  rowPx: number,
  total: number,
  overscan = 10,
): RowWindow {
  if (total === 0 || rowPx <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowPx);
  const shown = Math.ceil(Math.max(0, viewportPx) / rowPx) + 1;
  const start = Math.max(0, Math.min(total - 1, first) - overscan);
  const end = Math.min(total, first + shown + overscan);
  return { start, end };
}

/** The scrollTop that brings row `index` into view, changing `scrollTop` as little as possible. */
export function scrollToShow(index: number, scrollTop: number, viewportPx: number, rowPx: number): number {
  const top = index * rowPx;
  if (top < scrollTop) return top;
  if (top + rowPx > scrollTop + viewportPx) return top + rowPx - viewportPx;
  return scrollTop;
}
