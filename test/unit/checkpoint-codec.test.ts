import assert from 'node:assert/strict';
import { CorrelationMatrix } from '../../domain/signals/correlation-matrix';
import { correlationMatrixStateSchema } from '../../domain/signals/engine-state';
import { seededRandom } from '../../domain/random';
import { decodeCheckpoint, encodeCheckpoint } from '../../workers/signals/checkpoint-codec';

function matrix(markets = 6, samples = 40): CorrelationMatrix {
  const random = seededRandom(5);
  const m = new CorrelationMatrix(
    Array.from({ length: markets }, (_, i) => `M${i}`),
    [8, 30],
  );
  for (let t = 0; t < samples; t++) m.push(Array.from({ length: markets }, () => (random() < 0.3 ? 0 : random() - 0.5)));
  return m;
}

describe('signal-engine checkpoint codec (binary)', () => {
  it('restores a correlation matrix to the bit, through the state schema', () => {
    const m = matrix();
    const state = { detection: 'x', seq: 3, engine: { groups: [{ key: 'g', matrix: m.toState() }, { key: 'empty' }] } };
    const bytes = encodeCheckpoint(state);
    const decoded = decodeCheckpoint(bytes) as typeof state;
    assert.equal(decoded.detection, 'x');
    const restored = CorrelationMatrix.fromState(correlationMatrixStateSchema.parse(decoded.engine.groups[0]!.matrix));
    assert.ok(encodeCheckpoint({ ...state, engine: { groups: [{ key: 'g', matrix: restored.toState() }, { key: 'empty' }] } }).equals(bytes), 'bit-identical');
    for (const [a, b] of m.pairs()) for (const w of [0, 1]) assert.ok(Object.is(restored.correlation(a, b, w), m.correlation(a, b, w)));
    // The decoded arrays own aligned memory, whatever the Buffer's offset in its pool.
    const shifted = Buffer.concat([Buffer.alloc(3), bytes]).subarray(3);
    assert.deepEqual(decodeCheckpoint(shifted), decoded);
  });

  it('throws on damaged bytes, never returns a partial state', () => {
    const bytes = encodeCheckpoint({ matrix: matrix().toState() });
    const damaged = [bytes.subarray(0, bytes.length - 8), bytes.subarray(0, bytes.length - 3), Buffer.concat([bytes, Buffer.alloc(8)]), Buffer.from('KSCX'), Buffer.alloc(0), bytes.subarray(0, 20)];
    const wrongVersion = Buffer.from(bytes);
    wrongVersion.writeUInt32LE(9, 4);
    damaged.push(wrongVersion);
    const longJson = Buffer.from(bytes);
    longJson.writeUInt32LE(bytes.length, 8);
    damaged.push(longJson);
    for (const d of damaged) assert.throws(() => decodeCheckpoint(d));
    // A placeholder pointing past the doubles, or out of order.
    const json = '{"a":{"$f64":[0,2]},"b":{"$f64":[0,1]}}';
    const forged = Buffer.alloc(56 + 24);
    forged.write('KSCK', 0, 'latin1');
    forged.writeUInt32LE(1, 4);
    forged.writeUInt32LE(40, 8);
    forged.write(json.padEnd(40, ' '), 12);
    assert.throws(() => decodeCheckpoint(forged), /out of order/);
  });

  it('still reads checkpoints written as JSON text (doubles as base64), and the schema takes their number lists', () => {
    const m = matrix();
    const state = m.toState();
    const base64 = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
    const text = JSON.stringify({ seq: 1, matrix: { ...state, series: { f64: base64(state.series) }, moments: { f64: base64(state.moments) } } });
    for (const data of [text, Buffer.from(text)]) {
      const decoded = decodeCheckpoint(data) as { matrix: unknown };
      const restored = CorrelationMatrix.fromState(correlationMatrixStateSchema.parse(decoded.matrix));
      assert.ok(encodeCheckpoint(restored.toState()).equals(encodeCheckpoint(state)));
    }
    assert.throws(() => correlationMatrixStateSchema.parse({ ...state, moments: [...state.moments].map((v, i) => (i === 2 ? Infinity : v)) }), /moments\.2|not a finite number/);
  });
});
