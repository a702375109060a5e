import { describe, expect, it } from 'vitest';
import { MultiplayerAPI } from '../../src/index.js';
import { packSync, valuesSize, writeValues } from '../../src/replication/replication-packets.js';

// The example of docs/wire-format.md, section 4.9: it must stay what the code writes.
describe('the SYNC example of the wire format', () => {
  it('encodes entity 57 with x, y and angle changed, against the baseline of tick 8', () => {
    const spawner = new MultiplayerAPI().addSpawner('/ships', {
      spawnFunction: () => ({ x: 0, y: 0, angle: 0, hp: 100 }),
      properties: {
        x: { type: { type: 'quantized', min: 0, max: 1000, precision: 1000 / 65535 } },
        y: { type: { type: 'quantized', min: 0, max: 1000, precision: 1000 / 65535 } },
        angle: { type: { type: 'quantized', min: 0, max: 2 * Math.PI, precision: (2 * Math.PI) / 255 } },
        hp: 'u8',
      },
    });
    const always = spawner.layout.alwaysProperties;
    expect(always.map((property) => property.name)).toEqual(['angle', 'hp', 'x', 'y']);
    const changed = [always[0]!, always[2]!, always[3]!];
    const values = [Math.PI, 500, 250];
    const body = new Uint8Array(valuesSize(changed, values));
    writeValues(body, 0, changed, values);
    const [packet] = packSync(3, { tick: 10, baseline: 8, time: 4000 }, [{ netId: 57, mask: 0b1101, body }], always.length);
    expect(Buffer.from(packet!).toString('hex').match(/../g)!.join(' ')).toBe('09 03 0a 02 a0 1f 00 01 9d 07 80 00 80 00 40');
  });
});
