import { spawn, type IPty } from '@homebridge/node-pty-prebuilt-multiarch';
import { Terminal } from '@xterm/headless';

/**
 * A program running in a real pseudo-terminal, its output fed to a headless xterm so a test reads
 * the screen as a user would see it (cursor moves, redraws and the alternate screen applied).
 */
export class PtyScreen {
  readonly pty: IPty;
  private readonly term: Terminal;
  private writes = Promise.resolve();
  /** Everything the program wrote, raw. */
  raw = '';
  readonly exited: Promise<{ exitCode: number; signal?: number }>;

  constructor(file: string, args: string[], opts: { cwd: string; env: Record<string, string>; cols?: number; rows?: number }) {
    const cols = opts.cols ?? 140;
    const rows = opts.rows ?? 40;
    this.term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
    this.pty = spawn(file, args, { name: 'xterm-256color', cols, rows, cwd: opts.cwd, env: opts.env });
    this.pty.onData((data) => {
      this.raw += data;
      this.writes = this.writes.then(() => new Promise<void>((resolve) => this.term.write(data, resolve)));
    });
    this.exited = new Promise((resolve) => this.pty.onExit((e) => resolve(e)));
  }

  /** The visible screen, one string per row (trailing spaces trimmed). */
  async lines(): Promise<string[]> {
    await this.writes;
    const buffer = this.term.buffer.active;
    return Array.from({ length: this.term.rows }, (_, y) => buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
  }

  async text(): Promise<string> {
    return (await this.lines()).join('\n');
  }

  /** Whether the screen row `y` is drawn in inverse video (the selected row) where it shows `needle`. */
  async inverseAt(needle: string): Promise<boolean> {
    const lines = await this.lines();
    const y = lines.findIndex((l) => l.includes(needle));
    if (y < 0) return false;
    const line = this.term.buffer.active.getLine(this.term.buffer.active.viewportY + y)!;
    const x = lines[y]!.indexOf(needle);
    return line.getCell(x)?.isInverse() !== 0;
  }

  /** Which buffer is shown: the alternate screen (full-screen programs) or the normal one. */
  async activeBuffer(): Promise<'alternate' | 'normal'> {
    await this.writes;
    return this.term.buffer.active.type;
  }

  /** Waits until the screen satisfies `test`; fails with the screen as it was. */
  async waitFor(test: (screen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.text();
      if (test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen}\nraw tail: ${JSON.stringify(this.raw.slice(-500))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  press(keys: string): void {
    this.pty.write(keys);
  }

  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
    this.term.resize(cols, rows);
  }

  kill(): void {
    try {
      this.pty.kill();
    } catch {
      // already gone
    }
  }

  dispose(): void {
    this.kill();
    this.term.dispose();
  }
}

/** Keys as a terminal sends them. */
export const KEY = { up: '\x1b[A', down: '\x1b[B', enter: '\r', ctrlC: '\x03' } as const;
