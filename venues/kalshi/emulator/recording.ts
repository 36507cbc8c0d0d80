import { readRecording, recordedFiles, type MalformedLine, type RecordedMessage } from '../../replay/gold-feed';

/** A recorded message with the exchange time it happened at (its `ts_ms`, or receive time when it has none). */
export interface TimedMessage extends RecordedMessage {
  market: string;
  exchangeMs: number;
}

/** Exchange time of a recorded message: deltas and trades carry `ts_ms`; snapshots only have the receive time. */
export function exchangeTimeOf(rec: RecordedMessage): number {
  const msg = rec.event.msg as { ts_ms?: unknown } | undefined;
  return typeof msg?.ts_ms === 'number' && Number.isSafeInteger(msg.ts_ms) ? msg.ts_ms : rec.recvMs;
}

class MarketStream {
  head: TimedMessage | undefined;
  private readonly source: AsyncGenerator<RecordedMessage>;
  done = false;

  constructor(
    readonly market: string,
    files: string[],
    onMalformed: (bad: MalformedLine) => void,
  ) {
    this.source = (async function* () {
      for (const file of files) yield* readRecording(file, onMalformed);
    })();
  }

  async advance(): Promise<void> {
    const next = await this.source.next();
    if (next.done) {
      this.head = undefined;
      this.done = true;
      return;
    }
    this.head = { ...next.value, market: this.market, exchangeMs: exchangeTimeOf(next.value) };
  }

  close(): Promise<unknown> {
    return this.source.return(undefined);
  }
}

/**
 * The recordings of several markets merged in exchange-time order, read lazily (one message of
 * look-ahead per market), so a test that plays a few seconds reads a few hundred lines, not 2M.
 * Within one market the recorded (receive) order is kept: a message is released when its own time
 * and every earlier message of its market are due.
 */
export class MergedRecording {
  private readonly streams: MarketStream[];
  private started = false;

  constructor(dataDir: string, markets: readonly string[], onMalformed: (bad: MalformedLine) => void) {
    this.streams = markets.map((m) => new MarketStream(m, recordedFiles(dataDir, m), onMalformed));
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all(this.streams.map((s) => s.advance()));
  }

  /** Exchange time of the next message, or undefined at the end of every recording. */
  async peekTime(): Promise<number | undefined> {
    await this.start();
    return this.nextStream()?.head!.exchangeMs;
  }

  private nextStream(): MarketStream | undefined {
    let best: MarketStream | undefined;
    for (const s of this.streams) if (s.head && (!best || s.head.exchangeMs < best.head!.exchangeMs)) best = s;
    return best;
  }

  /** The next message due at or before `untilMs`, in exchange order; undefined when none is. */
  async next(untilMs: number): Promise<TimedMessage | undefined> {
    await this.start();
    const stream = this.nextStream();
    if (!stream || stream.head!.exchangeMs > untilMs) return undefined;
    const message = stream.head!;
    await stream.advance();
    return message;
  }

  async close(): Promise<void> {
    await Promise.all(this.streams.map((s) => s.close()));
  }
}
