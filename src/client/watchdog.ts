/**
 * Ends a connection whose server has gone silent while the client waits for an answer, so a
 * script never hangs on a stalled or hostile server. Silence while nothing is awaited (a shell
 * idle at its prompt) is fine, and so is the time the client itself spends sending an upload.
 */
/** Bytes of a body that count as a sign of life (a lower rate than any real link). */
const MIN_PROGRESS = 16 * 1024;

export class Watchdog {
  private last = Date.now();
  private sending = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param timeoutMs most milliseconds of silence while waiting; 0 never ends anything
   * @param waiting whether an answer is awaited now
   * @param onSilent called once the limit has passed
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly waiting: () => boolean,
    private readonly onSilent: () => void,
  ) {}

  /** Something was sent or received: the clock starts again, and runs while answers are due. */
  activity(): void {
    this.last = Date.now();
    if (this.timer || this.timeoutMs <= 0) return;
    this.timer = setInterval(() => this.check(), Math.min(this.timeoutMs / 4, 5000));
    this.timer.unref();
  }

  /** Runs the client's own sending (an upload body): its duration is not the server's silence. */
  async sendingDuring<T>(task: () => Promise<T>): Promise<T> {
    this.sending++;
    try {
      return await task();
    } finally {
      this.sending--;
      this.activity();
    }
  }

  /**
   * Passes a body through, counting it as activity only in steps of MIN_PROGRESS bytes: a server
   * trickling a byte now and then is as good as silent.
   */
  async *watch(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer, void, undefined> {
    let since = 0;
    for await (const chunk of body) {
      since += chunk.length;
      if (since >= MIN_PROGRESS) {
        since = 0;
        this.activity();
      }
      yield chunk;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    if (!this.waiting()) return this.stop();
    if (this.sending > 0 || Date.now() - this.last < this.timeoutMs) return;
    this.stop();
    this.onSilent();
  }
}
