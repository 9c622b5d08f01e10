import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { bashScript, completionTree, fishScript, zshScript } from '../../src/cli/completion.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { EXIT, EXIT_TABLE } from '../../src/cli/exit.ts';
import { ROUTES } from '../../src/client/index.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

/** Every command of the program, with its path ('dlq list'), depth first. */
function walk(cmd: Command, prefix: string[] = []): [string, Command][] {
  return cmd.commands.flatMap((c) => {
    const here = [...prefix, c.name()];
    return [[here.join(' '), c] as [string, Command], ...walk(c, here)];
  });
}

describe('the command tree', () => {
  let program: Command;
  let commands: [string, Command][];
  before(async () => {
    // '--help' in argv loads `up` too, so the tree is the whole program.
    program = await buildProgram(['node', 'gaffer', '--help']);
    commands = walk(program);
  });

  it('has the commands the API needs', () => {
    const names = new Set(commands.map(([p]) => p));
    const wanted = [
      'submit',
      'submit-batch',
      'upload',
      'jobs',
      'job',
      'logs',
      'cancel',
      'retry',
      'wait',
      'dlq list',
      'dlq show',
      'dlq edit',
      'dlq replay',
      'batch show',
      'batch rejected',
      'batch retry-failed',
      'batches',
      'queues',
      'workers list',
      'workers events',
      'decisions',
      'desired',
      'top',
      'events',
      'stats',
      'config',
      'health',
      'metrics',
      'openapi',
      'login',
      'whoami',
      'logout',
      'audit',
      'completion',
      'up',
      'worker',
      'gen-data',
      'trace',
    ];
    for (const name of wanted) assert.ok(names.has(name), `missing command: ${name}`);
    assert.deepEqual(
      commands.find(([p]) => p === 'top')![1].aliases(),
      ['watch'],
      '`watch` stays as an alias of `top`',
    );
  });

  it('every command has a description and takes --json', () => {
    const rows = commands.map(([p, c]) => ({
      path: p,
      description: c.description(),
      json: /^\s+--json\b/m.test(c.helpInformation()),
    }));
    for (const row of rows) {
      assert.ok(row.description.length > 10, `${row.path}: no description`);
      assert.ok(row.json, `${row.path}: --json not offered`);
    }
  });

  it('--help ends with the exit code table', () => {
    let help = '';
    program.configureOutput({ writeOut: (s) => void (help += s) });
    program.outputHelp();
    for (const [code, meaning] of EXIT_TABLE) assert.ok(help.includes(`  ${code}  ${meaning}`));
    assert.deepEqual(
      EXIT_TABLE.map(([c]) => c),
      Object.values(EXIT),
      'the table lists every code once, in order',
    );
  });

  it('docs/cli.md names every command, and docs/client.md every client method', () => {
    const cliDoc = readFileSync(path.join(REPO, 'docs/cli.md'), 'utf8');
    for (const [p] of commands) assert.ok(cliDoc.includes(`gaffer ${p}`), `docs/cli.md: ${p}`);
    const flat = cliDoc.replaceAll('`', '').replaceAll(/ +/g, ' ');
    for (const [code, meaning] of EXIT_TABLE) {
      assert.ok(flat.includes(`| ${code} | ${meaning} |`), `docs/cli.md: exit ${code}`);
    }
    const clientDoc = readFileSync(path.join(REPO, 'docs/client.md'), 'utf8');
    for (const name of Object.keys(ROUTES)) {
      assert.ok(clientDoc.includes(`\`${name}(`), `docs/client.md: ${name}`);
    }
  });

  describe('completion scripts', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-completion-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const scripts = () => {
      const tree = completionTree(program);
      return { bash: bashScript(tree), zsh: zshScript(tree), fish: fishScript(tree) };
    };

    it('name every command, subcommand and option', () => {
      for (const [shell, script] of Object.entries(scripts())) {
        for (const [p, c] of commands) {
          assert.ok(script.includes(c.name()), `${shell}: ${p}`);
          for (const o of c.options) {
            const flag = o.long!.slice(shell === 'fish' ? 2 : 0);
            assert.ok(script.includes(flag), `${shell}: ${p} ${o.long}`);
          }
        }
      }
    });

    it('bash accepts the bash script, and it completes', async () => {
      const file = path.join(dir, 'gaffer.bash');
      writeFileSync(file, scripts().bash);
      await promisify(execFile)('bash', ['-n', file]);
      // Run the completion function as bash would, for `gaffer dlq re<TAB>` and `gaffer jobs --st`.
      const complete = async (line: string[]) => {
        const words = line.map((w) => `'${w}'`).join(' ');
        const { stdout } = await promisify(execFile)('bash', [
          '-c',
          `source ${file}; COMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _gaffer; echo "\${COMPREPLY[*]}"`,
        ]);
        return stdout.trim().split(' ');
      };
      assert.deepEqual(await complete(['gaffer', 'dlq', 're']), ['replay']);
      assert.deepEqual(await complete(['gaffer', 'jobs', '--st']), ['--state']);
      assert.ok((await complete(['gaffer', 'wa'])).includes('wait'));
      assert.ok((await complete(['gaffer', 'wa'])).includes('watch'), 'aliases too');
      assert.deepEqual(await complete(['gaffer', 'batch', 'retry-failed', '--ap']), ['--api-key']);
    });
  });
});
