/**
 * A fuzzer's edit of valid bytes: one to four random changes (replace, insert or delete a byte,
 * or cut the rest), drawn from `next`, a seeded generator.
 */
export function mutate(next: () => number, base: Uint8Array): Uint8Array {
  const bytes = [...base];
  const edits = 1 + Math.floor(next() * 4);
  for (let n = 0; n < edits; n++) {
    const at = Math.floor(next() * (bytes.length + 1));
    const pick = next();
    if (pick < 0.4 && bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = Math.floor(next() * 256);
    else if (pick < 0.6) bytes.splice(at, 0, Math.floor(next() * 256));
    else if (pick < 0.8) bytes.splice(at, 1);
    else bytes.length = Math.min(bytes.length, at);
  }
  return Uint8Array.from(bytes);
}
