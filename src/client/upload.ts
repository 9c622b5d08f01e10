import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Submission } from './types.ts';

/** Where a CSV comes from: a file path, or a stream of its bytes. */
export type CsvSource = string | Readable;

export interface CsvBody {
  /** A multipart/form-data body with the file as field `file` (what POST /v1/batches reads). */
  form: FormData;
  /** The file's size in bytes. */
  size: number;
  /** Removes what was spooled for a stream; a no-op for a path. */
  cleanup(): Promise<void>;
}

/**
 * The platform's FormData does the multipart framing. A path becomes a file-backed Blob
 * (`fs.openAsBlob`), read from disk as the request is sent, never held in memory. FormData takes
 * only real Blobs, and a Blob cannot be backed by a stream, so a Readable is first spooled to a
 * temporary file: memory stays bounded for any size, at the cost of one local copy.
 */
export async function csvBody(source: CsvSource, filename?: string): Promise<CsvBody> {
  let path: string;
  let cleanup = async () => {};
  if (typeof source === 'string') {
    path = source;
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'gaffer-upload-'));
    cleanup = () => rm(dir, { recursive: true, force: true });
    path = join(dir, 'upload.csv');
    try {
      await pipeline(source, createWriteStream(path));
    } catch (err) {
      await cleanup();
      throw err;
    }
  }
  const blob = await openAsBlob(path, { type: 'text/csv' });
  const name = filename ?? (typeof source === 'string' ? basename(source) : 'upload.csv');
  const form = new FormData();
  form.append('file', blob, name);
  return { form, size: blob.size, cleanup };
}

/**
 * The encoded body of `form` as a stream, with `onProgress(sent, size)` as it is pulled by the
 * connection. `sent` counts body bytes (the framing is a few hundred bytes), capped at `size`, and
 * reaches `size` once the whole body is sent.
 */
export function withProgress(
  form: FormData,
  size: number,
  onProgress: (sent: number, total: number) => void,
): { body: ReadableStream<Uint8Array>; contentType: string } {
  const encoded = new Response(form);
  let sent = 0;
  onProgress(0, size);
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      sent += chunk.byteLength;
      controller.enqueue(chunk);
      onProgress(Math.min(sent, size), size);
    },
    flush() {
      onProgress(size, size);
    },
  });
  return {
    body: encoded.body!.pipeThrough(counter),
    contentType: encoded.headers.get('content-type')!,
  };
}

/**
 * Submissions as an NDJSON body, a line each, encoded as they come in pieces of about 64 KiB (a
 * piece per line would cost a write each); read as the request is sent.
 */
export function ndjsonBody(
  subs: Iterable<Submission> | AsyncIterable<Submission>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const pieces = (async function* () {
    let text = '';
    for await (const sub of subs) {
      text += `${JSON.stringify(sub)}\n`;
      if (text.length >= 65_536) {
        yield encoder.encode(text);
        text = '';
      }
    }
    if (text !== '') yield encoder.encode(text);
  })();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await pieces.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await pieces.return(undefined);
    },
  });
}
