// Dollar amounts from a demo's $0.0007 to a day's $20, and the scale the budget's bars use.
import { describe, expect, it } from "vitest";
import { scaleTop, share, usd } from "../../web/src/money-format.ts";

describe("dollar amounts", () => {
  it("prints cents from a cent up, four decimals below, and never $0.00 for something", () => {
    expect(usd(0)).toBe("$0.00");
    expect(usd(12.345)).toBe("$12.35");
    expect(usd(0.01)).toBe("$0.01");
    expect(usd(0.0007)).toBe("$0.0007");
    expect(usd(0.00004)).toBe("<$0.0001");
    expect(usd(-0.5)).toBe("-$0.50");
  });
});

describe("a chart's scale", () => {
  it("rounds up to 1, 2 or 5 times a power of ten, and is never under a cent", () => {
    expect(scaleTop(0)).toBe(0.01);
    expect(scaleTop(0.0007)).toBe(0.01);
    expect(scaleTop(0.012)).toBe(0.02);
    expect(scaleTop(0.3)).toBe(0.5);
    expect(scaleTop(0.5)).toBe(0.5);
    expect(scaleTop(7.2)).toBe(10);
    expect(scaleTop(20)).toBe(20);
  });

  it("draws nothing for nothing, a sliver for a sub-cent spend, and at most the whole track", () => {
    expect(share(0, 20)).toBe("0%");
    expect(share(0, 0)).toBe("0%");
    expect(share(0.0007, scaleTop(0.0007))).toBe("7.0%");
    expect(share(30, 20)).toBe("100.0%");
  });
});
