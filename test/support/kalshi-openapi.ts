import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

export const KALSHI_SPECS_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'specs', 'kalshi');
export const GOLD_DATA_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'kalshi-gold15m-ws');

type Json = Record<string, unknown>;

/**
 * OpenAPI 3.0 schema → JSON Schema for ajv: `nullable: true` becomes `anyOf [schema, null]`
 * (also next to `$ref` / `allOf`, where ajv's own `nullable` cannot apply), and `$ref`s point into
 * the registered spec document.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k.startsWith('x-') || k === 'example' || k === 'nullable') continue;
    out[k] = k === '$ref' && typeof v === 'string' ? `kalshi-openapi${v}` : toJsonSchema(v);
  }
  return (node as Json).nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

export interface ResponseCheck {
  ok: boolean;
  errors: string;
}

/** Validates responses against the response schema of their operation in the Kalshi OpenAPI. */
export class KalshiOpenApi {
  private readonly doc: Json;
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(file = path.join(KALSHI_SPECS_DIR, 'openapi-v3.22.0.yaml')) {
    this.doc = YAML.parse(readFileSync(file, 'utf8')) as Json;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    for (const f of ['int32', 'int64', 'double', 'float']) this.ajv.addFormat(f, true);
    this.ajv.addSchema({ $id: 'kalshi-openapi', components: toJsonSchema((this.doc as { components: Json }).components) });
  }

  /** The operation's documented schema for this status (following `$ref`ed responses), if any. */
  responseSchema(operationId: string, status: number): { documented: boolean; schema: unknown } {
    for (const item of Object.values(this.doc.paths as Record<string, Record<string, Json>>)) {
      for (const op of Object.values(item)) {
        if (op?.operationId !== operationId) continue;
        let response = (op.responses as Record<string, Json>)[String(status)];
        if (!response) return { documented: false, schema: undefined };
        if (typeof response.$ref === 'string') response = (this.doc.components as { responses: Record<string, Json> }).responses[response.$ref.split('/').pop()!]!;
        const schema = (response.content as Record<string, { schema: unknown }> | undefined)?.['application/json']?.schema;
        return { documented: true, schema };
      }
    }
    throw new Error(`operation ${operationId} is not in the spec`);
  }

  private compiled(key: string, schema: unknown): ValidateFunction {
    let v = this.cache.get(key);
    if (!v) this.cache.set(key, (v = this.ajv.compile(toJsonSchema(schema) as Json)));
    return v;
  }

  /**
   * A 2xx must be documented for the operation and match its schema. An error (4xx/5xx) must be
   * Kalshi's envelope `{"error": ErrorResponse}` with a code and a message (the spec's
   * ErrorResponse schema describes the inner object).
   */
  check(operationId: string, status: number, body: unknown): ResponseCheck {
    if (status >= 400) {
      const inner = (body as { error?: unknown } | undefined)?.error;
      const v = this.compiled('#error', { $ref: '#/components/schemas/ErrorResponse' });
      const shaped = !!inner && typeof (inner as Json).code === 'string' && typeof (inner as Json).message === 'string';
      const ok = shaped && v(inner);
      return { ok, errors: ok ? '' : `error body ${JSON.stringify(body)}: ${shaped ? this.ajv.errorsText(v.errors) : 'needs error.code and error.message strings'}` };
    }
    const { documented, schema } = this.responseSchema(operationId, status);
    if (!documented) return { ok: false, errors: `${operationId} does not document status ${status}` };
    if (!schema) return { ok: true, errors: '' };
    const v = this.compiled(`${operationId}:${status}`, schema);
    const ok = v(body);
    return { ok, errors: ok ? '' : this.ajv.errorsText(v.errors, { separator: '; ' }) };
  }
}
