// The rtcmesh command as a user runs it, its help, its errors and `rtcmesh signal`, in real
// child processes (test/support/cli-process.ts); the demo is in demo.test.ts.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SERVER_OPTION_SPECS } from '../../src/signaling/server-options.js';
import { QUICK_WAIT_MS, eventually, killProcessesAfterAll, run, start, within } from '../support/cli-process.js';
import { RawClient } from '../support/ws-client.js';

const JOIN = 0;
const ID = 1;

killProcessesAfterAll();

// Each test runs processes of its own, on ports of their own: they run side by side.
describe.concurrent('rtcmesh', () => {
  it('documents every command and option with --help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const word of ['signal', 'demo', '--host', '--port', '--peers', '--seconds', '--mode', '--loss', '--bandwidth', '--seed', 'exit codes']) {
      expect(stdout).toContain(word);
    }
    // The demo's child process is not a command for people.
    expect(stdout).not.toContain('demo-peer');
  });

  it('shows the same help after a command', async () => {
    const { code, stdout } = await run(['demo', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('usage: rtcmesh');
  });

  it.each([
    [['demo', '--bogus'], /Unknown option '--bogus'/],
    [['signal', '--port', '70000'], /--port takes an integer from 0 to 65535, not "70000"/],
    [['signal', '--message-burst', '0'], /--message-burst takes an integer from 1 to/],
    [['signal', '--metrics', 'yes'], /--metrics takes on or off, not "yes"/],
    [['signal', '--host', ''], /host must be a non-empty string such as "127.0.0.1", not ""/],
    [['demo', '--mode', 'ring'], /--mode takes mesh or server, not "ring"/],
    [['demo', '--peers', '1'], /--peers takes an integer from 2 to 16/],
    [['demo', '--seconds', '0'], /--seconds takes a number greater than 0/],
    [['demo', 'extra'], /Unexpected argument 'extra'/],
    [['demo', '--cut-seconds', '3'], /--cut-seconds goes with --cut-peer/],
    [['demo', '--peers', '3', '--cut-peer', '4'], /--cut-peer takes an integer from 1 to 3/],
    [['launch'], /unknown command "launch"/],
    [[], /no command given/],
  ])('exits 2 with a clear error for %j', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe.concurrent('rtcmesh signal', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints its URL, lets a raw WebSocket join and get an id, logs the lobby, and exits 0 on %s',
    async (signal) => {
      const server = start(['signal', '--port', '0']);
      const url = await eventually(() => /listening on (ws:\/\/\S+)/.exec(server.stdout())?.[1], 'URL');
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

      const client = await RawClient.connect(url);
      client.send({ type: JOIN, id: 0, data: '' });
      expect(await client.next()).toEqual({ type: ID, id: 1, data: 'true' });
      const confirmation = (await client.next()) as { type: number; data: string };
      expect(confirmation.type).toBe(JOIN);
      const lobby = confirmation.data;
      await eventually(() => (server.stdout().includes(`lobby ${lobby}: peer 1 joined`) ? true : undefined), 'join line');
      expect(server.stdout()).toContain(`lobby ${lobby} opened (mesh mode)`);

      await client.close();
      await eventually(() => (server.stdout().includes(`lobby ${lobby} closed`) ? true : undefined), 'close line');
      server.child.kill(signal);
      const { code, stderr } = await within(server, QUICK_WAIT_MS);
      expect(stderr).toBe('');
      expect(code).toBe(0);
    },
  );

  it('lists every option of SignalingServer with its default under signal --help', async () => {
    const { code, stdout } = await run(['signal', '--help']);
    expect(code).toBe(0);
    for (const spec of SERVER_OPTION_SPECS) {
      const flag = spec.key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
      expect(stdout).toMatch(new RegExp(`^  --${flag} .*\\(default [^)]+\\)$`, 'm'));
    }
  });

  it('hands admitted members TURN credentials signed with the secret from the environment', async () => {
    const server = start(['signal', '--port', '0', '--turn-url', 'turn:127.0.0.1:3478?transport=udp', '--turn-ttl', '120'], { RTCMESH_TURN_SECRET: 'secret-from-the-environment' });
    const url = await eventually(() => /listening on (ws:\/\/\S+)/.exec(server.stdout())?.[1], 'URL');
    const host = await RawClient.connect(url);
    host.send({ type: JOIN, id: 0, data: '' });
    const id = (await host.next()) as { id: number; turn: { urls: string[]; username: string; credential: string } };
    const expiry = Number(id.turn.username.split(':')[0]);
    expect(id.turn.username).toBe(`${expiry}:1`);
    expect(expiry * 1000 - Date.now()).toBeGreaterThan(60_000);
    expect(id.turn.credential).toBe(createHmac('sha1', 'secret-from-the-environment').update(id.turn.username).digest('base64'));
    expect(id.turn.urls).toEqual(['turn:127.0.0.1:3478?transport=udp']);
    await host.close();
    server.child.kill('SIGTERM');
    expect((await within(server, QUICK_WAIT_MS)).code).toBe(0);
  });

  it('applies limits given on the command line and serves /metrics on its own port', async () => {
    const server = start(['signal', '--port', '0', '--max-lobby-size', '1', '--metrics-port', '0', '--messages-per-second', '0.5']);
    const url = await eventually(() => /listening on (ws:\/\/\S+)/.exec(server.stdout())?.[1], 'URL');
    const metricsUrl = await eventually(() => /metrics on (http:\/\/\S+)/.exec(server.stdout())?.[1], 'metrics URL');
    expect(new URL(metricsUrl).port).not.toBe(new URL(url).port);
    const host = await RawClient.connect(url);
    host.send({ type: JOIN, id: 0, data: '' });
    await host.next();
    const lobby = ((await host.next()) as { data: string }).data;
    const joiner = await RawClient.connect(url);
    joiner.send({ type: JOIN, id: 0, data: lobby });
    expect(await joiner.closeEventWithin()).toEqual({ code: 4000, reason: `lobby ${lobby} is full (limit 1)` });
    // The joiner may see its close before the server's process has counted it.
    await expect
      .poll(async () => (await fetch(metricsUrl)).text(), { timeout: QUICK_WAIT_MS })
      .toMatch(/^rtcmesh_signaling_closes_total\{cause="join_refused"\} 1$/m);
    await host.close();
    server.child.kill('SIGTERM');
    expect((await within(server, QUICK_WAIT_MS)).code).toBe(0);
  });

  it('exits 1 with the reason when the port is taken', async () => {
    const first = start(['signal', '--port', '0']);
    const url = await eventually(() => /listening on (ws:\/\/\S+)/.exec(first.stdout())?.[1], 'URL');
    const port = new URL(url).port;
    const { code, stderr } = await run(['signal', '--port', port]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    first.child.kill('SIGTERM');
    expect((await within(first, QUICK_WAIT_MS)).code).toBe(0);
  });
});
