import { describe, expect, it } from "vitest";
import { LineTail } from "../../agents/runtime/line-tail.ts";

describe("LineTail", () => {
  it("keeps every line, oldest first, until it is full", () => {
    const tail = new LineTail(3);
    tail.push("a");
    tail.push("b");
    expect(tail.size).toBe(2);
    expect(tail.text()).toBe("a\nb");
  });

  it("keeps only the newest lines once full, in order, however often it wraps", () => {
    const tail = new LineTail(3);
    for (let i = 0; i < 10; i++) tail.push(String(i));
    expect(tail.size).toBe(3);
    expect(tail.text()).toBe("7\n8\n9");
    tail.push("10");
    expect(tail.text()).toBe("8\n9\n10");
  });

  it("gives at most the last maxChars characters", () => {
    const tail = new LineTail(5);
    for (const line of ["first", "second", "third"]) tail.push(line);
    expect(tail.text(8)).toBe("nd\nthird");
  });

  it("keeps nothing with room for no line", () => {
    const tail = new LineTail(0);
    tail.push("a");
    expect(tail.size).toBe(0);
    expect(tail.text()).toBe("");
  });
});
