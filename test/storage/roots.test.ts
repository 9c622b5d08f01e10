import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confine, dataRefProblem } from '../../src/storage/roots.ts';

const ROOTS = ['/srv/data', '/mnt/shared/'];

test('confine: a path is allowed at or below a root, lexically', () => {
  const table: [string, readonly string[], ReturnType<typeof confine>][] = [
    ['/srv/data', ROOTS, { allowed: true, root: '/srv/data' }],
    ['/srv/data/', ROOTS, { allowed: true, root: '/srv/data' }],
    ['/srv/data/in/x.csv', ROOTS, { allowed: true, root: '/srv/data' }],
    ['/mnt/shared/a', ROOTS, { allowed: true, root: '/mnt/shared/' }],
    ['/mnt/shared', ROOTS, { allowed: true, root: '/mnt/shared/' }],
    // A sibling that merely starts with the root's name is outside it.
    ['/srv/data-other/x', ROOTS, { allowed: false, reason: 'outside' }],
    ['/srv/dat', ROOTS, { allowed: false, reason: 'outside' }],
    ['/srv', ROOTS, { allowed: false, reason: 'outside' }],
    ['/', ROOTS, { allowed: false, reason: 'outside' }],
    ['/etc/passwd', ROOTS, { allowed: false, reason: 'outside' }],
    // Normalised before comparing: `..` cannot climb out (parseRef refuses it anyway).
    ['/srv/data/../../etc/passwd', ROOTS, { allowed: false, reason: 'outside' }],
    ['/srv/data//in', ROOTS, { allowed: true, root: '/srv/data' }],
    ['/srv/data/in', [], { allowed: false, reason: 'no-roots' }],
    ['/etc/passwd', ['/'], { allowed: true, root: '/' }],
  ];
  for (const [path, roots, expected] of table) {
    assert.deepEqual(confine(path, roots), expected, `${path} in ${roots.join(', ')}`);
  }
});

test('dataRefProblem: what submit answers for each reference', () => {
  const table: [string, readonly string[], 'invalid' | 'forbidden' | null, RegExp?][] = [
    ['s3://bucket/in/x.csv', [], null],
    ['s3://bucket/in/', [], null],
    ['/srv/data/x.csv', ROOTS, null],
    ['file:///srv/data/x.csv', ROOTS, null],
    ['file://localhost/srv/data/x.csv', ROOTS, null],
    ['/srv/data/x.csv', [], 'forbidden', /local paths are off/],
    ['file:///etc/passwd', [], 'forbidden', /local paths are off/],
    ['/etc/passwd', ROOTS, 'forbidden', /outside every local data root/],
    ['/', ROOTS, 'forbidden', /outside/],
    ['file:///', ROOTS, 'forbidden', /outside/],
    ['/root/', ROOTS, 'forbidden', /outside/],
    ['/srv/data-other/x', ROOTS, 'forbidden', /outside/],
    // `..` in every spelling, whatever the roots: the URL parser would resolve these away.
    ['file:///etc/../etc/passwd', ROOTS, 'invalid', /"\.\." is not allowed/],
    ['file:///srv/data/../../etc/passwd', ROOTS, 'invalid', /"\.\."/],
    ['file:///srv/data/%2e%2e/%2E%2E/etc/passwd', ROOTS, 'invalid', /"\.\."/],
    ['file:///srv/data/.%2e/x', ROOTS, 'invalid', /"\.\."/],
    ['file:///srv/data\\..\\..\\etc\\passwd', ROOTS, 'invalid', /"\.\."/],
    ['file:///srv/data/.\t./x', ROOTS, 'invalid', /control characters/],
    ['/srv/data/../../etc/passwd', ROOTS, 'invalid', /"\.\."/],
    ['/srv/data/x\0.csv', ROOTS, 'invalid', /NUL/],
    ['file:///srv/data/x%00.csv', ROOTS, 'invalid', /control characters|NUL/],
    ['file:///srv/data/x?y', ROOTS, 'invalid', /query or fragment/],
    ['file://evil.example/srv/data/x', ROOTS, 'invalid', /host/],
    ['file:///srv/data/a%2Fb', ROOTS, 'invalid', /encoded \//],
    ['srv/data/x', ROOTS, 'invalid', /expected/],
    ['./x', ROOTS, 'invalid', /expected/],
    ['s3://bucket/a/../b', [], 'invalid', /"\.\." is not allowed in a key/],
    ['s3://bucket/../x', [], 'invalid', /"\.\."/],
    ['s3://bucket/a/..', [], 'invalid', /"\.\."/],
    ['s3://bucket/a\0b', [], 'invalid', /NUL/],
    ['s3://bucket/a..b/c', [], null],
  ];
  for (const [ref, roots, kind, message] of table) {
    const problem = dataRefProblem(ref, roots);
    assert.equal(problem?.kind ?? null, kind, `${JSON.stringify(ref)}: ${problem?.message}`);
    if (message) assert.match(problem!.message, message, JSON.stringify(ref));
  }
});
