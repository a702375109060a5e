import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: new URL('../..', import.meta.url), encoding: 'utf8' });
}

describe('the built package', () => {
  it('loads through import (ESM) with its API and enums', () => {
    const out = runNode([
      '--input-type=module',
      '-e',
      "import * as m from 'rtcmesh'; const pc = new m.PeerConnection(); pc.close(); m.cleanup(); console.log(typeof m.PeerConnection, m.ConnectionState.Connected, typeof m.RtcError)",
    ]);
    expect(out.trim()).toBe('function 2 function');
  });

  it('loads through require (CommonJS) with the same API', () => {
    const out = runNode([
      '-e',
      "const m = require('rtcmesh'); const pc = new m.PeerConnection(); pc.close(); m.cleanup(); console.log(typeof m.PeerConnection, m.ConnectionState.Connected, typeof m.RtcError)",
    ]);
    expect(out.trim()).toBe('function 2 function');
  });
});
