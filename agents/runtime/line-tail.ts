/** The last lines of a stream, bounded in count; what an attempt reports as its output, and where failure signatures are looked for. */
export class LineTail {
  private readonly lines: string[] = [];

  constructor(private readonly maxLines = 100) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.maxLines) this.lines.shift();
  }

  get size(): number {
    return this.lines.length;
  }

  /** The kept lines joined by newlines, at most `maxChars` of their end. */
  text(maxChars = 16_000): string {
    return this.lines.join("\n").slice(-maxChars);
  }
}
