/** A one-line spinner on stderr while the CLI waits; shown on a terminal only. */
import { env, type Output, stderr, style } from "./io.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A spinner that can be started, stopped, and printed around. */
export class Progress {
  readonly #out: Output;
  #timer?: ReturnType<typeof setInterval>;
  #text: () => string = () => "";
  #frame = 0;

  /** A spinner on `out` (default stderr); it stays silent unless `out` is a terminal. */
  constructor(out: Output = stderr) {
    this.#out = out;
  }

  /**
   * Shows `text` after a spinning mark until {@linkcode stop}; a function
   * is asked for the text at each frame (a clock, counters).
   */
  start(text: string | (() => string)): void {
    if (!this.#out.isTTY) return;
    this.stop();
    this.#text = typeof text === "string" ? () => text : text;
    if (env("TERM") === "dumb") {
      void this.#out.write(`${this.#text()}\n`);
      return;
    }
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), 80);
  }

  #draw(): void {
    const mark = style(this.#out).cyan(FRAMES[this.#frame++ % FRAMES.length]);
    void this.#out.write(`\r\x1b[2K${mark} ${this.#text()}`);
  }

  /** Removes the spinner line. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    void this.#out.write("\r\x1b[2K");
  }

  /** Writes a message line without garbling the spinner. */
  log(message: string): void {
    const running = this.#timer !== undefined;
    if (running) void this.#out.write("\r\x1b[2K");
    void this.#out.write(`${message}\n`);
    if (running) this.#draw();
  }
}
