import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRef, refProblem } from '../../src/storage/reference.ts';

test('object, prefix and local references parse', () => {
  assert.deepEqual(parseRef('s3://bucket/in/x.csv'), {
    scheme: 's3',
    bucket: 'bucket',
    key: 'in/x.csv',
    prefix: false,
  });
  assert.deepEqual(parseRef('s3://bucket/results/'), {
    scheme: 's3',
    bucket: 'bucket',
    key: 'results/',
    prefix: true,
  });
  assert.deepEqual(parseRef('s3://bucket'), {
    scheme: 's3',
    bucket: 'bucket',
    key: '',
    prefix: true,
  });
  assert.deepEqual(parseRef('file:///data/in/'), {
    scheme: 'file',
    path: '/data/in/',
    prefix: true,
  });
  assert.deepEqual(parseRef('/data/x.csv'), { scheme: 'file', path: '/data/x.csv', prefix: false });
});

test('invalid references say what is wrong', () => {
  assert.match(refProblem('data/x.csv') ?? '', /expected s3:\/\/bucket\/key/);
  assert.match(refProblem('s3://Bad_Bucket/x') ?? '', /not a valid bucket name/);
  assert.match(refProblem('/data/../etc/passwd') ?? '', /"\.\." is not allowed/);
  assert.match(refProblem('http://host/x') ?? '', /expected/);
  assert.equal(refProblem('s3://bucket/x'), null);
});
