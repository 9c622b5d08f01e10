import { type Command, Argument } from 'commander';
import { bashScript, completionTree, fishScript, zshScript } from '../completion.ts';
import { contextOf, printJson } from '../context.ts';

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/** `gaffer completion bash|zsh|fish`: the script, generated from the program tree when run. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(gaffer completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(Object.keys(SHELLS)))
    .action((shell: keyof typeof SHELLS, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const script = SHELLS[shell](completionTree(program));
      if (ctx.json) return printJson(ctx, { shell, script });
      process.stdout.write(script);
    });
}
