import { describe, expect, it } from "vitest";
import { formatTraceparent, newTraceId, parseTraceparent, spanIdOf } from "../../protocol/index.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("traceparent parsing (W3C Trace Context)", () => {
  it("reads the spec's example: trace id, parent span id, sampled", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, parentSpanId: SPAN, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({ traceId: TRACE, parentSpanId: SPAN, sampled: false });
  });

  it("tolerates surrounding whitespace (optional whitespace of a header)", () => {
    expect(parseTraceparent(`  00-${TRACE}-${SPAN}-01 `)?.traceId).toBe(TRACE);
  });

  it.each([
    ["absent", undefined],
    ["null", null],
    ["empty", ""],
    ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["all-zero parent id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["uppercase hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["version 00 with an extra field", `00-${TRACE}-${SPAN}-01-extra`],
    ["short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
    ["long parent id", `00-${TRACE}-${SPAN}0-01`],
    ["non-hex flags", `00-${TRACE}-${SPAN}-0g`],
    ["non-hex version", `0x-${TRACE}-${SPAN}-01`],
    ["three fields", `00-${TRACE}-${SPAN}`],
    ["a later version glued to more text", `01-${TRACE}-${SPAN}-01x`],
  ])("ignores an invalid header (%s): a new trace starts", (_what, header) => {
    expect(parseTraceparent(header)).toBeNull();
  });

  it("reads a later version by its first four fields (forward compatibility)", () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-comes-later`)).toEqual({
      traceId: TRACE,
      parentSpanId: SPAN,
      sampled: true,
    });
  });

  it("formats version 00, sampled, and reads back what it wrote", () => {
    const header = formatTraceparent(TRACE, SPAN);
    expect(header).toBe(`00-${TRACE}-${SPAN}-01`);
    expect(parseTraceparent(header)).toEqual({ traceId: TRACE, parentSpanId: SPAN, sampled: true });
  });
});

describe("trace and span ids", () => {
  it("makes new trace ids of 32 lowercase hex digits, different each time", () => {
    const ids = new Set(Array.from({ length: 50 }, () => newTraceId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("derives the same span id for the same trace, task, role and attempt, and different ones otherwise", () => {
    const id = spanIdOf(TRACE, "01J00000000000000000000000", "attempt", 1);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(spanIdOf(TRACE, "01J00000000000000000000000", "attempt", 1)).toBe(id);
    const others = [
      spanIdOf(TRACE, "01J00000000000000000000000", "attempt", 2),
      spanIdOf(TRACE, "01J00000000000000000000000", "dispatch", 1),
      spanIdOf(TRACE, "01J00000000000000000000001", "attempt", 1),
      spanIdOf(newTraceId(), "01J00000000000000000000000", "attempt", 1),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
  });
});
