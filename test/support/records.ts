import { RecordReader } from '../../src/mesh/framing.js';

/** Every record of `message` from `offset`, as a mesh peer reads them; null when they do not tile it or there are none. */
export function readAllRecords(message: Uint8Array, offset: number): Uint8Array[] | null {
  const reader = new RecordReader();
  if (reader.start(message, offset) === 0) return null;
  const records: Uint8Array[] = [];
  while (reader.remaining > 0) records.push(reader.next());
  return records;
}
