// The full-screen view of `kestrel top`, drawn with Ink (React for the terminal).
//
// Why Ink 6.8: it is the most used, actively maintained terminal UI library on npm (layout by
// flexbox, input and resize handled, diffed redraws in synchronized-output frames). Ink 7+ needs
// Node 22 (this project runs on Node 20); blessed is unmaintained since 2015 and its forks
// (neo-blessed, reblessed) barely used; terminal-kit is maintained but a screen-buffer toolkit
// with image loading we do not need. Ink is an ES module whose layout engine (yoga-layout) loads
// with a top-level await, so this CommonJS project loads it with a dynamic import (see `loadTerminalModules`),
// and builds elements with React.createElement (the project compiles no JSX).
import React from 'react';
// Types by file path: with this project's CommonJS resolution TypeScript does not read the packages' `exports` maps.
import type * as InkModule from 'ink/build/index.js';
import type AnsiEscapesModule from 'ansi-escapes/index.js';
import type { Urgency } from '../../domain/trading/exits';
import type { ExitRequestOutcome } from '../../runtime/request-exit';
import { age, feedRows, fit, partitionSummary, pnlColor, sectionHeights, signed, sparkline, unrealizedTotal, windowStart, type TopSnapshot } from './view';

export type Ink = typeof InkModule;
export type AnsiEscapes = typeof AnsiEscapesModule;

/** An ES module, loaded with a dynamic import (kept as such by tsx); the specifier is a variable so TypeScript's CommonJS resolution does not look for it. */
async function importEsm<T>(specifier: string): Promise<T> {
  return (await import(specifier)) as T;
}

/**
 * Ink and ansi-escapes (the alternate screen) are ES-module-only packages; Ink's layout engine loads
 * with a top-level await, which `require` cannot wait for.
 */
export async function loadTerminalModules(): Promise<{ ink: Ink; ansiEscapes: AnsiEscapes }> {
  const [ink, escapes] = await Promise.all([importEsm<Ink>('ink'), importEsm<{ default: AnsiEscapes }>('ansi-escapes')]);
  return { ink, ansiEscapes: escapes.default };
}

/** What the view reads and does; the command wires them to Postgres, Redis and Temporal. */
export interface TopActions {
  load(): Promise<TopSnapshot>;
  exitPosition(positionId: string): Promise<ExitRequestOutcome>;
  /** Position workflow ids signalled. */
  flattenAll(): Promise<string[]>;
}

export interface TopProps {
  initial: TopSnapshot;
  actions: TopActions;
  refreshMs: number;
  urgency: Urgency;
}

type Confirm = { kind: 'exit'; positionId: string; label: string } | { kind: 'flatten'; shown: number };
type Message = { text: string; tone: 'ok' | 'error' | 'info' };
type Color = 'green' | 'red' | 'yellow' | 'cyan' | 'gray' | undefined;

interface Column<Row> {
  title: string;
  /** Fixed width in columns; absent: shares what is left. */
  width?: number;
  right?: boolean;
  cell(row: Row): string;
  color?(row: Row): Color;
}

const time = (iso: string) => iso.slice(11, 19);

/** The refresh loop: one load at a time, every `ms` after the previous one ended; `refresh()` runs one at once (or right after the current one). */
function usePolling(load: () => Promise<TopSnapshot>, initial: TopSnapshot, ms: number) {
  const [snapshot, setSnapshot] = React.useState(initial);
  const [error, setError] = React.useState<string | undefined>();
  const loop = React.useRef({ timer: undefined as NodeJS.Timeout | undefined, running: false, again: false, stopped: false });
  const run = React.useCallback(async () => {
    const l = loop.current;
    if (l.running) {
      l.again = true;
      return;
    }
    l.running = true;
    clearTimeout(l.timer);
    do {
      l.again = false;
      try {
        const next = await load();
        if (!l.stopped) {
          setSnapshot(next);
          setError(undefined);
        }
      } catch (e) {
        if (!l.stopped) setError((e as Error).message);
      }
    } while (l.again && !l.stopped);
    l.running = false;
    if (!l.stopped) l.timer = setTimeout(() => void run(), ms);
  }, [load, ms]);
  React.useEffect(() => {
    const l = loop.current;
    l.timer = setTimeout(() => void run(), ms);
    return () => {
      l.stopped = true;
      clearTimeout(l.timer);
    };
  }, [run, ms]);
  return { snapshot, error, refresh: () => void run() };
}

const sizeOf = (stdout: NodeJS.WriteStream) => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });

/** State whose latest value is also readable at once through the ref (`.current`), even from a handler created before the update rendered. */
function useLatest<T>(initial: T): [React.RefObject<T>, (next: T) => void] {
  const ref = React.useRef(initial);
  const [, rerender] = React.useState(initial);
  const set = React.useCallback((next: T) => {
    ref.current = next;
    rerender(() => next);
  }, []);
  return [ref, set];
}

/** The terminal's size, following resizes. */
function useTerminalSize(ink: Ink): { columns: number; rows: number } {
  const { stdout } = ink.useStdout();
  const [size, setSize] = React.useState(() => sizeOf(stdout));
  React.useEffect(() => {
    const onResize = () => setSize(sizeOf(stdout));
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  return size;
}

/** The `kestrel top` component, bound to the loaded Ink module. */
export function createTopApp(ink: Ink): (props: TopProps) => React.ReactElement {
  const { Box, Text } = ink;
  const h = React.createElement;

  function Table<Row>(props: { title: string; titleColor?: Color; columns: Column<Row>[]; rows: Row[]; height: number; width: number; selected?: number; empty: string }) {
    const { columns, rows, height, selected } = props;
    const start = windowStart(rows.length, selected ?? 0, height);
    const visible = rows.slice(start, start + height);
    const fixed = columns.reduce((sum, c) => sum + (c.width ?? 0) + 1, 0);
    const flexible = columns.filter((c) => c.width === undefined).length;
    const flexWidth = Math.max(6, Math.floor((props.width - fixed) / Math.max(1, flexible)) - 1);
    const widthOf = (c: Column<Row>) => c.width ?? flexWidth;
    // One Text per row with a nested Text per cell, padded here: one layout node per row instead of one per cell.
    const line = (cells: { text: string; color?: Color; right?: boolean; width: number }[], key: string, inverse: boolean) =>
      h(
        Text,
        { key, inverse, wrap: 'truncate-end' },
        ...cells.map((c, i) => {
          const text = fit(c.text, c.width);
          const last = i === cells.length - 1;
          // The last cell is not padded: nothing follows it, and a terminal keeps written spaces.
          return h(Text, { key: String(i), color: c.color }, `${c.right ? text.padStart(c.width) : last ? text : text.padEnd(c.width)}${last ? '' : ' '}`);
        }),
      );
    const more = rows.length > height ? ` (${start + 1}–${start + visible.length} of ${rows.length})` : '';
    return h(
      Box,
      { flexDirection: 'column', height: height + 2 },
      h(Text, { bold: true, color: props.titleColor, wrap: 'truncate-end' }, `${props.title}${more}`),
      line(columns.map((c) => ({ text: c.title, right: c.right, width: widthOf(c), color: 'gray' as Color })), 'header', false),
      ...(visible.length === 0
        ? [h(Text, { key: 'empty', dimColor: true }, props.empty)]
        : visible.map((row, i) => line(columns.map((c) => ({ text: c.cell(row), color: c.color?.(row), right: c.right, width: widthOf(c) })), String(start + i), selected === start + i))),
    );
  }

  type OpenRow = TopSnapshot['data']['open'][number];
  const positionColumns: Column<OpenRow>[] = [
    { title: 'POSITION', cell: (p) => p.positionId },
    { title: 'MARKET', width: 22, cell: (p) => p.market },
    { title: 'SIDE', width: 4, cell: (p) => p.outcome },
    { title: 'STATUS', width: 8, cell: (p) => p.status, color: (p) => (p.status === 'exiting' ? 'yellow' : undefined) },
    { title: 'ENTRY', width: 6, right: true, cell: (p) => p.entryPrice ?? '—' },
    { title: 'LEFT', width: 8, right: true, cell: (p) => p.remaining },
    { title: 'MARK', width: 6, right: true, cell: (p) => p.mark ?? '—' },
    { title: 'UNREAL P&L', width: 10, right: true, cell: (p) => signed(p.unrealizedPnl), color: (p) => pnlColor(p.unrealizedPnl) },
  ];
  type FeedRow = ReturnType<typeof feedRows>[number];
  const feedColumns: Column<FeedRow>[] = [
    { title: 'MARKET', width: 22, cell: (f) => f.market },
    { title: 'BID', width: 6, right: true, cell: (f) => f.bid },
    { title: 'ASK', width: 6, right: true, cell: (f) => f.ask },
    { title: 'AGE', width: 5, right: true, cell: (f) => f.age },
    { title: 'STATE', width: 6, cell: (f) => f.state, color: (f) => (f.state === 'ok' ? 'green' : f.state === 'stale' ? 'red' : 'yellow') },
    { title: 'DETAIL', cell: (f) => f.detail },
  ];
  type ClosedRow = TopSnapshot['data']['closed'][number];
  const closedColumns: Column<ClosedRow>[] = [
    { title: 'CLOSED', width: 19, cell: (p) => (p.closedAt ?? '').slice(0, 19).replace('T', ' ') },
    { title: 'POSITION', cell: (p) => p.positionId },
    { title: 'MARKET', width: 22, cell: (p) => p.market },
    { title: 'REALIZED P&L', width: 12, right: true, cell: (p) => signed(p.realizedPnl), color: (p) => pnlColor(p.realizedPnl) },
  ];
  type SignalRow = TopSnapshot['data']['signals'][number];
  const signalColumns: Column<SignalRow>[] = [
    { title: 'FIRED', width: 8, cell: (s) => time(s.firedAt) },
    { title: 'TYPE', width: 16, cell: (s) => s.type },
    { title: 'MARKET', cell: (s) => s.market },
    { title: 'DIR', width: 5, cell: (s) => s.direction ?? '—' },
    { title: 'PRIORITY', width: 8, cell: (s) => s.priority },
    { title: 'ACT', width: 3, cell: (s) => (s.actionable ? 'yes' : 'no'), color: (s) => (s.actionable ? 'cyan' : undefined) },
  ];
  type RunRow = TopSnapshot['data']['strategyRuns'][number];
  const runColumns: Column<RunRow>[] = [
    { title: 'STRATEGY RUN', cell: (r) => r.workflowId },
    { title: 'FEED', width: 14, cell: (r) => r.feed },
    { title: 'STATUS', width: 10, cell: (r) => r.status, color: (r) => (r.status === 'running' ? 'green' : undefined) },
    { title: 'STARTED', width: 19, cell: (r) => r.startedAt.slice(0, 19).replace('T', ' ') },
  ];

  return function TopApp({ initial, actions, refreshMs, urgency }: TopProps) {
    const app = ink.useApp();
    const { columns, rows } = useTerminalSize(ink);
    const { snapshot, error, refresh } = usePolling(actions.load, initial, refreshMs);
    // Key handlers read the interaction state from refs: Ink re-subscribes a new handler only after
    // React's passive effects run, which on a loaded machine can be a keystroke later than the frame
    // that showed the prompt.
    const [selection, setSelection] = useLatest<{ id: string | undefined; index: number }>({ id: initial.data.open[0]?.positionId, index: 0 });
    const [confirm, setConfirm] = useLatest<Confirm | undefined>(undefined);
    const [busy, setBusy] = useLatest<string | undefined>(undefined);
    const [message, setMessage] = React.useState<Message | undefined>();
    const latestOpen = React.useRef(snapshot.data.open);
    latestOpen.current = snapshot.data.open;

    const open = snapshot.data.open;
    /** The selected row: the selected position where it is now, or (it closed and dropped out) the row the cursor was on. */
    const selectedIndex = (rows: typeof open) => {
      if (rows.length === 0) return -1;
      const found = rows.findIndex((p) => p.positionId === selection.current.id);
      return found >= 0 ? found : Math.min(selection.current.index, rows.length - 1);
    };
    const selected = selectedIndex(open);
    const select = (rows: typeof open, i: number) => {
      if (rows.length === 0) return;
      const next = Math.min(Math.max(i, 0), rows.length - 1);
      setSelection({ id: rows[next]!.positionId, index: next });
    };

    const act = async (what: Confirm) => {
      setConfirm(undefined);
      try {
        if (what.kind === 'exit') {
          setBusy(`requesting exit of ${what.positionId}…`);
          const outcome = await actions.exitPosition(what.positionId);
          setMessage(outcome.accepted ? { tone: 'ok', text: `exit requested: ${what.positionId} (${outcome.result.urgency})` } : { tone: 'error', text: `exit refused: ${outcome.error}` });
        } else {
          setBusy('flattening: signalling every open position…');
          const signalled = await actions.flattenAll();
          setMessage({ tone: 'ok', text: signalled.length ? `flatten-all: CRITICAL exit requested for ${signalled.length} position${signalled.length === 1 ? '' : 's'}` : 'flatten-all: no open positions' });
        }
      } catch (e) {
        setMessage({ tone: 'error', text: `${what.kind === 'exit' ? 'exit' : 'flatten-all'} failed: ${(e as Error).message}` });
      } finally {
        setBusy(undefined);
        refresh();
      }
    };

    // One row short of the terminal: a frame as tall as the screen makes Ink clear it on every redraw.
    const height = Math.max(8, rows - 1);
    const feeds = feedRows(snapshot);
    const heights = sectionHeights(height, { positions: open.length, feeds: feeds.length, closed: snapshot.data.closed.length, signals: snapshot.data.signals.length, runs: snapshot.data.strategyRuns.length });

    const onKey = (input: string, key: InkModule.Key) => {
      if (busy.current) return;
      const pending = confirm.current;
      if (pending) {
        if (input === 'y' || input === 'Y') void act(pending);
        else {
          setConfirm(undefined);
          setMessage({ tone: 'info', text: 'cancelled' });
        }
        return;
      }
      const rows = latestOpen.current;
      const at = selectedIndex(rows);
      if (input === 'q') app.exit();
      else if (key.upArrow || input === 'k') select(rows, at - 1);
      else if (key.downArrow || input === 'j') select(rows, at + 1);
      else if (key.pageUp) select(rows, at - heights.positions);
      else if (key.pageDown) select(rows, at + heights.positions);
      else if (key.home || input === 'g') select(rows, 0);
      else if (key.end || input === 'G') select(rows, rows.length - 1);
      else if (input === 'r') refresh();
      else if (input === 'x' || key.return) {
        const p = rows[at];
        if (p) setConfirm({ kind: 'exit', positionId: p.positionId, label: `${p.market} ${p.outcome}, ${p.remaining} left` });
        else setMessage({ tone: 'info', text: 'no open position to exit' });
      } else if (input === 'F') setConfirm({ kind: 'flatten', shown: rows.length });
    };
    // Keys typed faster than a read (or pasted) come as one string: each is a key of its own here,
    // except that a prompt opened within the string is not answered by the rest of it.
    ink.useInput((input, key) => {
      for (const char of input.length > 1 ? input : [input]) {
        const prompted = confirm.current !== undefined;
        onKey(char, key);
        if (!prompted && confirm.current !== undefined) break;
      }
    });

    const { data } = snapshot;
    const risk = data.risk;
    const partitions = partitionSummary(snapshot);
    const realized = data.pnlCurve.at(-1)?.cumulative ?? '0';
    const unrealized = unrealizedTotal(open);
    const curveWidth = Math.max(0, Math.min(40, columns - 70));

    const line = (key: string, ...parts: React.ReactNode[]) => h(Box, { key, height: 1 }, h(Text, { wrap: 'truncate-end' }, ...parts));
    const c = (color: Color, text: string, bold = false) => h(Text, { color, bold }, text);
    const header = line(
      'header',
      c('cyan', 'kestrel top', true),
      `  ${data.generatedAt.slice(0, 19).replace('T', ' ')} UTC · every ${refreshMs >= 1000 ? `${refreshMs / 1000}s` : `${refreshMs}ms`}`,
      error ? c('red', `  · refresh failing, showing data ${age(Date.now() - snapshot.readAtMs)} old`, true) : `  · Temporal UI ${data.temporalUi}`,
    );
    const riskLine = line(
      'risk',
      'risk ',
      c(risk.mode === 'ACTIVE' ? 'green' : 'red', risk.mode, true),
      ` · daily P&L `,
      c(pnlColor(risk.dailyPnl), signed(risk.dailyPnl)),
      ` · consecutive losses ${risk.consecutiveLosses} · breakers `,
      risk.tripped.length ? c('red', `TRIPPED ${risk.tripped.map((t) => `${t.breaker} (${t.reason})`).join('; ')}`, true) : c('green', 'none tripped'),
    );
    const pnlLine = line(
      'pnl',
      'P&L realized ',
      c(pnlColor(realized), signed(realized)),
      ` (${data.pnlCurve.length} closed) `,
      c('cyan', sparkline(data.pnlCurve.map((p) => p.cumulative), curveWidth)),
      ' · unrealized ',
      c(pnlColor(unrealized.total), signed(unrealized.total)),
      unrealized.unmarked ? ` (${unrealized.unmarked} unmarked)` : '',
    );
    const shownConfirm = confirm.current;
    const prompt = busy.current
      ? line('prompt', c('yellow', busy.current))
      : shownConfirm
        ? line('prompt', c('yellow', shownConfirm.kind === 'exit' ? `Exit ${shownConfirm.positionId} (${shownConfirm.label}) at ${urgency} urgency? [y/N] ` : `FLATTEN ALL: CRITICAL exit for every open position (${shownConfirm.shown} shown)? [y/N] `, true))
        : message
          ? line('prompt', c(message.tone === 'error' ? 'red' : message.tone === 'ok' ? 'green' : 'gray', message.text))
          : line('prompt', error ? c('red', `refresh failed: ${error}`) : '');
    const keys = line('keys', c('gray', '↑/↓ select · x exit selected · F flatten all · r refresh · q quit'));

    const sections: React.ReactNode[] = [
      h(Table<OpenRow>, { key: 'positions', title: `Open positions (${open.length})`, columns: positionColumns, rows: open, height: heights.positions, width: columns, selected, empty: 'no open positions' }),
    ];
    if (heights.feeds) sections.push(h(Table<FeedRow>, { key: 'feeds', title: `Feed health · ${partitions.text}`, titleColor: partitions.healthy ? undefined : 'red', columns: feedColumns, rows: feeds, height: heights.feeds, width: columns, empty: 'no held markets' }));
    if (heights.closed) sections.push(h(Table<ClosedRow>, { key: 'closed', title: 'Recently closed', columns: closedColumns, rows: data.closed, height: heights.closed, width: columns, empty: 'no closed positions' }));
    if (heights.signals) sections.push(h(Table<SignalRow>, { key: 'signals', title: 'Recent signals', columns: signalColumns, rows: data.signals, height: heights.signals, width: columns, empty: 'no signals yet' }));
    if (heights.runs) sections.push(h(Table<RunRow>, { key: 'runs', title: 'Strategy runs', columns: runColumns, rows: data.strategyRuns, height: heights.runs, width: columns, empty: 'no strategy runs' }));

    return h(Box, { flexDirection: 'column', width: columns, height }, header, riskLine, pnlLine, ...sections, h(Box, { key: 'spacer', flexGrow: 1 }), prompt, keys);
  };
}
