import { freeNow } from '@iev/frame-protocol';

/**
 * Hands a received message part's memory back to ZeroMQ now rather than at V8's next full GC, and says whether it did.
 * zeromq.js delivers each part over 128 bytes as an external Buffer over the message itself, and V8 counts those
 * against the heap: frames at 640x480 and 25 fps (23 MB/s) set off a full mark-compact every ~1.3 s in a module
 * that allocates little else. Detaching the part's ArrayBuffer frees the message at once. Call it only when nothing
 * reads the part any more: it is empty afterwards. A Buffer that is not the whole of its ArrayBuffer (a slice of
 * Node's pool, a view into memory of the caller's) is left alone, and so is every part where ArrayBuffers cannot be
 * detached (Node.js 20): see freeNow.
 */
export function releaseReceived(part: Uint8Array): boolean {
  return freeNow(part);
}
