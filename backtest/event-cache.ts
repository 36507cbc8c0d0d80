import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { EventColumns, validateEventColumns, type EventColumnArrays } from '../domain/market-data/event-columns';

/**
 * A parsed recording as one binary, columnar file, so later runs skip the gzip + JSON + zod parse.
 * Layout: magic, header length (u32 LE), JSON header (key, markets, texts, column lengths), the
 * columns 8-byte aligned in COLUMN_ORDER, then a CRC-32 of everything before it. The key names the
 * source files with their size and mtime: a changed recording gets a new key and is parsed again.
 */
const MAGIC = Buffer.from('KSTRLEV1');
/** Bump when the parse of a recording into unit events changes: old files then stop matching. */
const FORMAT_VERSION = 1;
const COLUMN_ORDER = ['ts', 'size', 'levelSize', 'price', 'ref', 'snapshotStart', 'snapshotYesCount', 'levelPrice', 'market', 'kind', 'side'] as const satisfies readonly (keyof EventColumnArrays)[];
const COLUMN_TYPES: { [K in keyof EventColumnArrays]: { new (b: ArrayBuffer, offset: number, length: number): EventColumnArrays[K]; BYTES_PER_ELEMENT: number } } = {
  ts: Float64Array,
  size: Float64Array,
  levelSize: Float64Array,
  price: Int32Array,
  ref: Uint32Array,
  snapshotStart: Uint32Array,
  snapshotYesCount: Uint32Array,
  levelPrice: Int32Array,
  market: Uint16Array,
  kind: Uint8Array,
  side: Uint8Array,
};

const cacheHeaderSchema = z.object({
  version: z.number(),
  key: z.string(),
  markets: z.array(z.string().min(1)),
  texts: z.array(z.string()),
  lengths: z.object(Object.fromEntries(COLUMN_ORDER.map((k) => [k, z.number().int().nonnegative()])) as Record<keyof EventColumnArrays, z.ZodNumber>),
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

function encode(events: EventColumns, key: string, malformed: number): Buffer {
  const c = events.columns;
  const lengths = Object.fromEntries(COLUMN_ORDER.map((k) => [k, c[k].length])) as CacheHeader['lengths'];
  const header: CacheHeader = { version: FORMAT_VERSION, key, markets: [...events.markets], texts: [...events.texts], lengths, malformed };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  let offset = align8(MAGIC.length + 4 + headerBytes.length);
  const starts = COLUMN_ORDER.map((k) => {
    const at = offset;
    offset = align8(offset + c[k].byteLength);
    return at;
  });
  const out = Buffer.alloc(offset + 4);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(headerBytes.length, MAGIC.length);
  headerBytes.copy(out, MAGIC.length + 4);
  COLUMN_ORDER.forEach((k, i) => out.set(new Uint8Array(c[k].buffer, c[k].byteOffset, c[k].byteLength), starts[i]));
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
  const columns = {} as Record<keyof EventColumnArrays, unknown>;
  for (const k of COLUMN_ORDER) {
    const length = header.lengths[k];
    const type = COLUMN_TYPES[k];
    if (offset + length * type.BYTES_PER_ELEMENT > body) throw new Error(`column ${k} runs past the end of the file`);
    columns[k] = new type(aligned.buffer as ArrayBuffer, aligned.byteOffset + offset, length);
    offset = align8(offset + length * type.BYTES_PER_ELEMENT);
  }
  const arrays = columns as EventColumnArrays;
  validateEventColumns(header.markets, arrays, header.texts);
  return { events: new EventColumns(header.markets, arrays, header.texts), malformed: header.malformed };
}
