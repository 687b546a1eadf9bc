/**
 * The last lines of a stream, bounded in count; what an attempt reports as its output, and where
 * failure signatures are looked for. A ring buffer: `push` runs once per output line, so it
 * overwrites the oldest slot instead of shifting the array.
 */
export class LineTail {
  private readonly lines: string[] = [];
  /** Where the next line goes once the ring is full (and so where the oldest line is). */
  private next = 0;

  constructor(private readonly maxLines = 100) {}

  push(line: string): void {
    if (this.maxLines <= 0) return;
    if (this.lines.length < this.maxLines) {
      this.lines.push(line);
      return;
    }
    this.lines[this.next] = line;
    this.next = (this.next + 1) % this.maxLines;
  }

  get size(): number {
    return this.lines.length;
  }

  /** The kept lines, oldest first, joined by newlines: at most `maxChars` of their end. */
  text(maxChars = 16_000): string {
    const ordered = this.next === 0 ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    return ordered.join("\n").slice(-maxChars);
  }
}
