import { InvalidArgumentError, type Command } from 'commander';
import YAML from 'yaml';
import { ROLES, type Role } from '../../api/auth/access.ts';
import { createKey, KEY_ID_FORM } from '../../api/auth/keys.ts';

/**
 * `gaffer keys create --id ID --role ROLE [--types a,b]`: makes an API key (docs/security.md). The
 * key is printed once and kept nowhere; the printed config entry holds only its SHA-256 hash. Runs
 * offline: nothing is sent to a server.
 */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys (docs/security.md)');
  keys
    .command('create')
    .description('make an API key: prints the key once, and the auth.keys entry to configure')
    .requiredOption(
      '--id <id>',
      'the key id (letters, digits, dashes): who acted, in the audit log',
      keyIdOption,
    )
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, roleOption)
    .option('--types <a,b>', 'only these job types (default: every type)', typesOption)
    .action((opts: { id: string; role: Role; types?: string[] }, cmd: Command) => {
      const { key, hash } = createKey(opts.id);
      const entry = {
        id: opts.id,
        hash,
        role: opts.role,
        ...(opts.types ? { types: opts.types } : {}),
      };
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) {
        process.stdout.write(`${JSON.stringify({ key, entry })}\n`);
        return;
      }
      process.stdout.write(
        [
          `key (shown once; give it to its holder, gaffer keeps only its hash):`,
          `  ${key}`,
          ``,
          `add to the config file under auth.keys (or to the GAFFER_API_KEYS JSON array):`,
          YAML.stringify([entry]).trimEnd().replace(/^/gm, '  '),
          ``,
          `JSON: ${JSON.stringify(entry)}`,
          ``,
        ].join('\n'),
      );
    });
}

function keyIdOption(value: string): string {
  if (!KEY_ID_FORM.test(value)) throw new InvalidArgumentError('1 to 64 letters, digits or dashes');
  return value;
}

function roleOption(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

function typesOption(value: string): string[] {
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (types.length === 0) throw new InvalidArgumentError('name at least one job type');
  return [...new Set(types)];
}
