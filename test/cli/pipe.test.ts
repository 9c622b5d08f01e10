import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

/**
 * Runs the CLI with its stdout a pipe whose reader goes away — at once, or after the first line
 * (`gaffer … | head -1`) — and resolves with its exit code and everything it wrote to stderr.
 */
function closedEarly(args: string[], after: 'at-once' | 'first-line') {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, GAFFER_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (after === 'at-once') child.stdout.destroy();
  else {
    let seen = '';
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('\n')) child.stdout.destroy();
    });
  }
  return new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
}

/** The shell's status of a process SIGPIPE ended (128 + 13), as git and kubectl end. */
const PIPE_CLOSED = 141;

describe('a reader that goes away early ends the CLI quietly', () => {
  let g: TestGaffer;
  let url: string;
  before(async () => {
    g = await startGaffer({
      jobTypes: { held: { worker: { command: ['true'] }, scaling: { max: 0 } } },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
    for (let i = 0; i < 30; i++) await g.orch.service.submit({ type: 'held', payload: { i } });
  });
  after(() => g.close());

  it('gaffer jobs | (closed): no stack, exit 141', async () => {
    const r = await closedEarly(['jobs', '--url', url], 'at-once');
    assert.equal(r.stderr, '');
    assert.equal(r.code, PIPE_CLOSED);
  });

  it('gaffer gen-data -o - | head -1: no error, exit 141', async () => {
    const r = await closedEarly(['gen-data', '-n', '500000', '-o', '-'], 'first-line');
    assert.equal(r.stderr, '');
    assert.equal(r.code, PIPE_CLOSED);
  });

  it('gaffer --help | (closed): no stack, exit 141', async () => {
    const r = await closedEarly(['--help'], 'at-once');
    assert.equal(r.stderr, '');
    assert.equal(r.code, PIPE_CLOSED);
  });
});
