// Deterministic mutations of a message (the fuzz run's inputs): the same seed gives the same run.

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const ODD_VALUES: readonly unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  "",
  "x".repeat(5000),
  [],
  {},
  [[[[[]]]]],
  "\u0000\ud800",
  "🦀".repeat(100),
  { type: "error" },
];

/** Changes one JSON value somewhere in the tree: a field dropped, retyped, renamed or added. */
function mutateValue(value: unknown, random: () => number, depth = 0): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || random() < 0.3) return [...value, pick(random, ODD_VALUES)];
    const i = Math.floor(random() * value.length);
    return value.map((item, j) => (j === i ? mutateValue(item, random, depth + 1) : item));
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    const roll = random();
    if (entries.length === 0 || roll < 0.15)
      return {
        ...value,
        [pick(random, ["type", "extra", "__proto__", "constructor", "n".repeat(300)])]: pick(random, ODD_VALUES),
      };
    const [key, inner] = pick(random, entries);
    if (roll < 0.35) return Object.fromEntries(entries.filter(([k]) => k !== key));
    if (roll < 0.55 || depth > 4) return { ...value, [key]: pick(random, ODD_VALUES) };
    return { ...value, [key]: mutateValue(inner, random, depth + 1) };
  }
  return pick(random, ODD_VALUES);
}

/** Byte-level damage: a cut, a flipped or inserted character, doubled text. */
function mutateText(text: string, random: () => number): string {
  const at = Math.floor(random() * Math.max(1, text.length));
  switch (Math.floor(random() * 5)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + String.fromCharCode(Math.floor(random() * 0x3000)) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + pick(random, ["{", "}", "[", '"', "\\", ",", ":", "\u0000", "\n"]) + text.slice(at);
    case 3:
      return text + text;
    default:
      return "[".repeat(2000) + "]".repeat(2000);
  }
}

/**
 * One mutation of a JSON text: mostly structural (so the parser passes and the schema is tested), sometimes raw bytes.
 */
export function mutate(text: string, random: () => number): string {
  if (random() < 0.3) return mutateText(text, random);
  try {
    return JSON.stringify(mutateValue(JSON.parse(text), random));
  } catch {
    return mutateText(text, random);
  }
}
