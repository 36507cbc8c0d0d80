import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { EventColumns, validateEventColumns, WIDE_SCALES, type EventColumnArrays } from '../domain/market-data/event-columns';

/**
 * A parsed recording as one binary, columnar file, so later runs skip the gzip + JSON + zod parse.
 * Layout: magic, header length (u32 LE), JSON header (key, markets, each column's length and
 * element type, the narrow columns' scales), the columns 8-byte aligned in COLUMN_ORDER, the
 * texts (trade ids, stale reasons) as one string, then a CRC-32 of everything before it. The
 * columns are stored compacted (`EventColumns.compact()`: ~13 bytes an event instead of 24) and
 * read as views of the one buffer the file is read into, with no copy: a load costs about one
 * fresh page per 4 KiB of file, and fresh pages are what a cached load mostly pays for (on this
 * VM ~20 µs each, next to ~1 µs of work per page). `textEnds` holds where each text ends in that string (UTF-16
 * units), so reading them is one decode and a slice each, not a JSON parse of 50k strings. The key
 * names the source files with their size and mtime: a changed recording gets a new key and is
 * parsed again.
 */
const MAGIC = Buffer.from('KSTRLEV1');
/** Bump when the parse of a recording into unit events, or this layout, changes: old files then stop matching. */
const FORMAT_VERSION = 3;
interface StoredColumns extends EventColumnArrays {
  textEnds: Uint32Array;
}
type StoredColumn = StoredColumns[keyof StoredColumns];
interface ColumnType {
  new (b: ArrayBuffer, offset: number, length: number): StoredColumn;
  BYTES_PER_ELEMENT: number;
}
const ELEMENT_TYPES = { f64: Float64Array, u32: Uint32Array, i32: Int32Array, u16: Uint16Array, u8: Uint8Array } as const satisfies Record<string, ColumnType>;
type ElementType = keyof typeof ELEMENT_TYPES;
/** The element types each column may be stored as: its wide type and, if it has one, its compact type. */
const COLUMN_TYPES: { [K in keyof StoredColumns]: readonly ElementType[] } = {
  ts: ['f64', 'u32'],
  size: ['f64', 'i32'],
  levelSize: ['f64', 'i32'],
  price: ['i32', 'u16'],
  snapshotStart: ['u32'],
  snapshotYesCount: ['u32'],
  levelPrice: ['i32', 'u16'],
  textEnds: ['u32'],
  market: ['u16', 'u8'],
  kind: ['u8'],
  side: ['u8'],
};
const COLUMN_ORDER = Object.keys(COLUMN_TYPES) as (keyof StoredColumns)[];
const elementTypeOf = (column: StoredColumn): ElementType => {
  const type = (Object.keys(ELEMENT_TYPES) as ElementType[]).find((t) => column instanceof ELEMENT_TYPES[t]);
  if (type === undefined) throw new Error(`no element type for a ${column.constructor.name} column`);
  return type;
};

const cacheHeaderSchema = z.object({
  version: z.number(),
  key: z.string(),
  markets: z.array(z.string().min(1)),
  lengths: z.object(Object.fromEntries(COLUMN_ORDER.map((k) => [k, z.number().int().nonnegative()])) as Record<keyof StoredColumns, z.ZodNumber>),
  types: z.object(Object.fromEntries(COLUMN_ORDER.map((k) => [k, z.enum(COLUMN_TYPES[k] as readonly [ElementType, ...ElementType[]])])) as unknown as Record<keyof StoredColumns, z.ZodType<ElementType>>),
  scales: z.object({ tsBase: z.number(), sizeUnit: z.number(), levelSizeUnit: z.number() }),
  textBytes: z.number().int().nonnegative(),
  textEncoding: z.enum(['latin1', 'utf16le']),
  malformed: z.number().int().nonnegative(),
});
type CacheHeader = z.infer<typeof cacheHeaderSchema>;

/** `KESTREL_CACHE_DIR` (default ~/.cache/kestrel) + /events: next to the other per-user caches, never in the repo. */
export function defaultEventCacheDir(): string {
  return path.join(process.env.KESTREL_CACHE_DIR ?? path.join(homedir(), '.cache', 'kestrel'), 'events');
}

/** What identifies a parse: format version, what was asked for, and each source file's size and mtime. */
export function cacheKey(what: unknown, sourceFiles: readonly string[]): string {
  const files = sourceFiles.map((f) => {
    const s = statSync(f);
    return [f, s.size, s.mtimeMs];
  });
  return JSON.stringify({ version: FORMAT_VERSION, what, files });
}

const fileOf = (dir: string, key: string) => path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.events`);

export type CacheRead = { status: 'hit'; events: EventColumns; malformed: number } | { status: 'missing' } | { status: 'corrupt'; reason: string };

export function readEventCache(dir: string, key: string): CacheRead {
  let bytes: Buffer;
  try {
    bytes = readFileSync(fileOf(dir, key));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    throw err;
  }
  try {
    return { status: 'hit', ...decode(bytes, key) };
  } catch (err) {
    return { status: 'corrupt', reason: (err as Error).message };
  }
}

/** Written to a temporary name and renamed, so a concurrent reader sees the old file or the whole new one. */
export function writeEventCache(dir: string, key: string, events: EventColumns, malformed: number): string {
  mkdirSync(dir, { recursive: true });
  const file = fileOf(dir, key);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, encode(events, key, malformed));
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return file;
}

export function eventCacheFile(dir: string, key: string): string {
  return fileOf(dir, key);
}

const align8 = (n: number) => (n + 7) & ~7;

function encode(wide: EventColumns, key: string, malformed: number): Buffer {
  const events = wide.compact();
  const textEnds = new Uint32Array(events.texts.length);
  let end = 0;
  events.texts.forEach((t, i) => (textEnds[i] = end += t.length));
  const joined = events.texts.join('');
  // Latin-1 when every code unit fits a byte (ids and reasons are ASCII), else UTF-16: either round-trips exactly.
  const latin1 = Buffer.from(joined, 'latin1');
  const textEncoding = latin1.toString('latin1') === joined ? 'latin1' : 'utf16le';
  const textBytes = textEncoding === 'latin1' ? latin1 : Buffer.from(joined, 'utf16le');
  const c: StoredColumns = { ...events.columns, textEnds };
  const lengths = Object.fromEntries(COLUMN_ORDER.map((k) => [k, c[k].length])) as CacheHeader['lengths'];
  const types = Object.fromEntries(COLUMN_ORDER.map((k) => [k, elementTypeOf(c[k])])) as CacheHeader['types'];
  // A wide column's scale is implied (validateEventColumns insists on it); JSON would turn the wide time base −0 into 0 anyway.
  const scales = { tsBase: types.ts === 'u32' ? events.tsBase : 0, sizeUnit: events.sizeUnit, levelSizeUnit: events.levelSizeUnit };
  const header: CacheHeader = { version: FORMAT_VERSION, key, markets: [...events.markets], lengths, types, scales, textBytes: textBytes.length, textEncoding, malformed };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  let offset = align8(MAGIC.length + 4 + headerBytes.length);
  const starts = COLUMN_ORDER.map((k) => {
    const at = offset;
    offset = align8(offset + c[k].byteLength);
    return at;
  });
  const textsAt = offset;
  offset += textBytes.length;
  const out = Buffer.alloc(offset + 4);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(headerBytes.length, MAGIC.length);
  headerBytes.copy(out, MAGIC.length + 4);
  COLUMN_ORDER.forEach((k, i) => out.set(new Uint8Array(c[k].buffer, c[k].byteOffset, c[k].byteLength), starts[i]));
  textBytes.copy(out, textsAt);
  out.writeUInt32LE(crc32(out.subarray(0, offset)), offset);
  return out;
}

function decode(bytes: Buffer, key: string): { events: EventColumns; malformed: number } {
  if (bytes.length < MAGIC.length + 8 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not an event cache file');
  const body = bytes.length - 4;
  if (crc32(bytes.subarray(0, body)) !== bytes.readUInt32LE(body)) throw new Error('checksum mismatch');
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const header = cacheHeaderSchema.parse(JSON.parse(bytes.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headerLength)));
  if (header.version !== FORMAT_VERSION || header.key !== key) throw new Error('written for another source or format');
  // Typed-array views need their element alignment: copy into a fresh buffer if the read one is not 8-aligned.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(bytes);
  let offset = align8(MAGIC.length + 4 + headerLength);
  const columns = {} as Record<keyof StoredColumns, unknown>;
  for (const k of COLUMN_ORDER) {
    const length = header.lengths[k];
    const type = ELEMENT_TYPES[header.types[k]];
    if (offset + length * type.BYTES_PER_ELEMENT > body) throw new Error(`column ${k} runs past the end of the file`);
    columns[k] = new type(aligned.buffer as ArrayBuffer, aligned.byteOffset + offset, length);
    offset = align8(offset + length * type.BYTES_PER_ELEMENT);
  }
  if (offset + header.textBytes !== body) throw new Error('the texts do not end where the checksum starts');
  const { textEnds, ...arrays } = columns as StoredColumns;
  const texts = splitTexts(aligned.toString(header.textEncoding, offset, body), textEnds);
  const scales = { ...header.scales, tsBase: header.types.ts === 'u32' ? header.scales.tsBase : WIDE_SCALES.tsBase };
  const positions = validateEventColumns(header.markets, arrays, texts, scales);
  return { events: new EventColumns(header.markets, arrays, texts, { positions, scales }), malformed: header.malformed };
}

/** The texts joined in `all`, each ending at its `ends` entry. */
function splitTexts(all: string, ends: Uint32Array): string[] {
  const texts = new Array<string>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    if (end < start || end > all.length) throw new Error(`text ${i} ends at ${end}, outside ${start}..${all.length}`);
    texts[i] = all.slice(start, end);
    start = end;
  }
  if (start !== all.length) throw new Error(`the texts cover ${start} of ${all.length} characters`);
  return texts;
}
