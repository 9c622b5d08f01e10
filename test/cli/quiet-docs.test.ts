import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO } from '../helpers/gaffer.ts';

/**
 * `npm run gaffer -- …` writes npm's banner (`> gaffer@0.1.0 gaffer`, the command line) to stdout
 * before gaffer's output, which breaks `| jq` and `id=$(…)`; `npm run -s gaffer -- …` prints only
 * gaffer's. The docs use the quiet form wherever a command's output is piped or captured, and name
 * it as the way to run the CLI from a clone.
 */

/** `npm run gaffer` without `-s`/`--silent`: the form whose stdout starts with npm's banner. */
const NOISY = /\bnpm run gaffer\b/;

/**
 * The shell snippets of a Markdown text: each logical line of a fenced code block (continuation
 * lines joined), and each inline code span outside them.
 */
export function snippets(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  let pending = '';
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      pending += line;
      if (line.endsWith('\\')) continue;
      out.push(pending);
      pending = '';
    } else {
      for (const m of line.matchAll(/`([^`]+)`/g)) out.push(m[1]!);
    }
  }
  return out;
}

/** A snippet that pipes or captures the output of the noisy form. */
export function pipesNoisyOutput(snippet: string): boolean {
  const at = snippet.search(NOISY);
  if (at < 0) return false;
  const captured = snippet.slice(0, at).includes('$(');
  const piped = /(^|[^|])\|([^|]|$)/.test(snippet.slice(at).replace(/#.*$/, ''));
  return captured || piped;
}

function docs(): string[] {
  const md = (dir: string) =>
    readdirSync(path.join(REPO, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join(dir, f));
  return ['README.md', ...md('docs'), ...md('examples')];
}

describe('the docs run the CLI in the form that prints only its output', () => {
  it('npm run gaffer prints npm’s banner on stdout; npm run -s gaffer only gaffer’s output', async () => {
    // Run as a user would: not with the log level of an npm that may be running these tests.
    const env = { ...process.env, npm_config_loglevel: undefined };
    const run = (args: string[]) =>
      promisify(execFile)('npm', args, { cwd: REPO, env }).then((r) => r.stdout);
    const version = (
      JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    assert.equal(await run(['run', '-s', 'gaffer', '--', '--version']), `${version}\n`);
    assert.notEqual(await run(['run', 'gaffer', '--', '--version']), `${version}\n`);
  });

  it('the check finds piped and captured output of the noisy form, and only that', () => {
    const flagged = [
      'id=$(npm run gaffer -- submit x)',
      'npm run gaffer -- --json jobs | jq .jobs',
      'model=$(npm run gaffer -- --json submit t --wait \\  --payload "{}" | jq -c .job.result)',
    ];
    const fine = [
      'id=$(npm run -s gaffer -- submit x)',
      'npm run -s gaffer -- --json jobs | jq .jobs',
      'npm run gaffer -- jobs --state failed',
      'npm run gaffer -- top   # live view (like dashboard.sh -w)',
      'npm run gaffer -- jobs || echo down',
      'id=$(gaffer submit x)',
    ];
    for (const s of flagged) assert.ok(pipesNoisyOutput(s), s);
    for (const s of fine) assert.ok(!pipesNoisyOutput(s), s);
    assert.deepEqual(snippets('text `a | b`\n```sh\nx=$(npm run gaffer -- job \\\n  1)\n```\n'), [
      'a | b',
      'x=$(npm run gaffer -- job \\  1)',
    ]);
  });

  it('no doc pipes or captures the output of npm run gaffer without -s', () => {
    const bad: string[] = [];
    for (const file of docs()) {
      for (const s of snippets(readFileSync(path.join(REPO, file), 'utf8'))) {
        if (pipesNoisyOutput(s)) bad.push(`${file}: ${s}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('docs/cli.md and examples/README.md name the quiet form for a clone', () => {
    const cli = readFileSync(path.join(REPO, 'docs/cli.md'), 'utf8');
    assert.ok(cli.split('\n## ')[0]!.includes('npm run -s gaffer --'), 'docs/cli.md intro');
    const examples = readFileSync(path.join(REPO, 'examples/README.md'), 'utf8');
    assert.match(examples, /^alias gaffer='npm run -s gaffer --'$/m);
    for (const file of ['docs/cli.md', 'examples/README.md']) {
      const text = readFileSync(path.join(REPO, file), 'utf8');
      assert.doesNotMatch(text, NOISY, `${file} uses only the quiet form`);
    }
  });
});
