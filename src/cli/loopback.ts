/** The only address the demo, the benchmark and the tests bind or connect to. */
export const LOOPBACK_HOST = '127.0.0.1';
