// What a request told the model, for the log: its user and tool text joined in order (so a test can
// check the evidence, guidance or earlier messages a CLI sent), and how many messages it carried.

export type RequestText = {
  /** The conversation's user and tool-result text, in order, joined by newlines (no system prompt). */
  prompt: string;
  /** Messages (or input items, or contents) in the conversation, every role counted. */
  messages: number;
};

export const NO_TEXT: RequestText = { prompt: "", messages: 0 };
