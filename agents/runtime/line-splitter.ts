import { StringDecoder } from "node:string_decoder";
import { MAX_LINE_CHARS } from "../../protocol/index.ts";

/**
 * Turns a child's output chunks into whole lines: a line may arrive over several chunks, a UTF-8
 * character may be cut between chunks, and a line longer than the wire allows is sent in pieces.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";

  constructor(
    private readonly onLine: (text: string) => void,
    private readonly maxChars: number = MAX_LINE_CHARS,
  ) {}

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    let start = 0;
    let newline = this.pending.indexOf("\n", start);
    while (newline !== -1) {
      this.emit(this.pending.slice(start, newline));
      start = newline + 1;
      newline = this.pending.indexOf("\n", start);
    }
    this.pending = start === 0 ? this.pending : this.pending.slice(start);
    // A line without its newline yet is still cut once it is too long, so memory stays bounded
    // (one spare character, as it may be the '\r' of a CRLF whose '\n' comes next).
    while (this.pending.length > this.maxChars + 1) {
      const cut = this.cutIndex(this.pending);
      this.onLine(this.pending.slice(0, cut));
      this.pending = this.pending.slice(cut);
    }
  }

  /** The stream ended: the last line may have no newline. */
  end(): void {
    this.pending += this.decoder.end();
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = "";
  }

  private emit(line: string): void {
    let text = line.endsWith("\r") ? line.slice(0, -1) : line;
    while (text.length > this.maxChars) {
      const cut = this.cutIndex(text);
      this.onLine(text.slice(0, cut));
      text = text.slice(cut);
    }
    this.onLine(text);
  }

  /** Where to cut a long line: never between the two halves of a surrogate pair. */
  private cutIndex(text: string): number {
    const code = text.charCodeAt(this.maxChars - 1);
    const highSurrogate = code >= 0xd800 && code <= 0xdbff;
    return highSurrogate && this.maxChars > 1 ? this.maxChars - 1 : this.maxChars;
  }
}
