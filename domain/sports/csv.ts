import { ValidationError } from '../errors';

/** A data file that cannot be used as given; the message names the file's row (1 = header) and column. */
export class DataFileError extends ValidationError {}

export interface CsvTable {
  header: string[];
  /** Data rows with their 1-based line number in the file (the header is line 1). */
  rows: { line: number; cells: string[] }[];
}

/**
 * Parses CSV text (RFC 4180 quoting, CRLF / LF / CR line ends, optional UTF-8 BOM). Blank lines are
 * skipped. Pure: the caller reads the file.
 */
export function parseCsv(text: string, what = 'file'): CsvTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  const endRecord = () => {
    cells.push(field);
    if (!(cells.length === 1 && cells[0] === '')) records.push({ line: recordLine, cells });
    cells = [];
    field = '';
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += c;
  }
  if (quoted) throw new DataFileError(`${what}: unterminated quoted field starting on line ${recordLine}`);
  if (field !== '' || cells.length > 0) endRecord();
  const [head, ...rows] = records;
  if (!head) throw new DataFileError(`${what}: empty file (no header line)`);
  return { header: head.cells.map((h) => h.trim()), rows };
}

/** Column positions by name; a missing required column is an error naming every missing one. */
export function columnIndex<K extends string>(table: CsvTable, required: readonly K[], what: string): Record<K, number> {
  const missing = required.filter((name) => !table.header.includes(name));
  if (missing.length) throw new DataFileError(`${what}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header has: ${table.header.join(', ')})`);
  return Object.fromEntries(required.map((name) => [name, table.header.indexOf(name)])) as Record<K, number>;
}

/** Optional column position, or undefined when the header lacks it. */
export function optionalColumn(table: CsvTable, name: string): number | undefined {
  const i = table.header.indexOf(name);
  return i >= 0 ? i : undefined;
}
