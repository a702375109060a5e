import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';

// The built package, as a user imports it: the test runs after `npm run build`.
// A variable specifier: the type checker runs before the build, when dist/ may not exist yet.
const packageName = 'rtcmesh';
const pkg = (await import(packageName)) as Record<string, unknown>;
afterAll(() => (pkg.cleanup as () => void)());

interface Row {
  godot: string;
  rtcmesh: string;
  kind: string;
}

function rows(): Row[] {
  const text = readFileSync(new URL('../../docs/godot-mapping.md', import.meta.url), 'utf8');
  return [...text.matchAll(/^\| `([^`]+)`[^|]* \| `([^`]+)`(?: = (\d+))? \| (\w+) \|$/gm)].map((match) => ({
    godot: match[1]!,
    rtcmesh: match[3] === undefined ? match[2]! : `${match[2]} = ${match[3]}`,
    kind: match[4]!,
  }));
}

function declarations(): string {
  const require = createRequire(import.meta.url);
  const root = require.resolve('rtcmesh/package.json').replace(/package\.json$/, '');
  return [
    'transport/peer-connection',
    'transport/data-channel',
    'mesh/multiplayer-peer',
    'mesh/webrtc-multiplayer-peer',
    'multiplayer/multiplayer-api',
    'replication/multiplayer-spawner',
    'replication/multiplayer-synchronizer',
    'rpc/rpc-node',
  ]
    .map((file) => readFileSync(`${root}dist/types/${file}.d.ts`, 'utf8'))
    .join('\n');
}

describe('docs/godot-mapping.md', () => {
  const table = rows();

  it('lists every Godot name of WebRTCPeerConnection, WebRTCDataChannel, MultiplayerPeer and WebRTCMultiplayerPeer', () => {
    expect(table.length).toBeGreaterThanOrEqual(109);
    for (const name of ['create_offer', 'session_description_created', 'write_mode', 'STATE_CLOSING', 'set_default_extension', 'add_peer', 'peer_connected', 'get_packet_mode']) {
      expect(table.some((row) => row.godot.includes(name)), name).toBe(true);
    }
  });

  it.each(table.map((row) => [row.rtcmesh, row] as const))('%s exists on the built package', (_name, row) => {
    if (row.kind === 'constant') {
      const [, name, value] = /^(\w+) = (\d+)$/.exec(row.rtcmesh)!;
      expect(pkg[name!]).toBe(Number(value));
      return;
    }
    if (row.kind === 'enum') {
      const [, enumName, member, value] = /^(\w+)\.(\w+) = (\d+)$/.exec(row.rtcmesh)!;
      expect((pkg[enumName!] as Record<string, number>)[member!]).toBe(Number(value));
      return;
    }
    const [className, member] = row.rtcmesh.split('.') as [string, string];
    const cls = pkg[className] as { prototype: object } & Record<string, unknown>;
    expect(cls, className).toBeTypeOf('function');
    switch (row.kind) {
      case 'method':
        expect(Reflect.get(cls.prototype, member), row.rtcmesh).toBeTypeOf('function');
        break;
      case 'static':
        expect(cls[member], row.rtcmesh).toBeTypeOf('function');
        break;
      case 'property':
        expect(declarations()).toMatch(new RegExp(`^\\s+(?:get )?${member}(?:: |\\(\\))`, 'm'));
        break;
      case 'signal':
        expect(declarations()).toMatch(new RegExp(`^\\s+${member}: \\(`, 'm'));
        break;
      default:
        throw new Error(`unknown kind ${row.kind}`);
    }
  });
});
