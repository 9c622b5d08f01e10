import type { Command } from 'commander';

/**
 * Shell completion scripts generated from the commander program itself (its commands, their
 * subcommands, aliases and options), so a new command or option is completed without anyone
 * editing a script. Hand-written because commander has no completion support of its own, and the
 * completion packages (tabtab, omelette) are not dependencies here and need a runtime hook.
 */
export interface CompletionNode {
  name: string;
  aliases: string[];
  description: string;
  /** Long and short flags, e.g. ['--type', '-t']. */
  options: { flags: string[]; description: string }[];
  children: CompletionNode[];
}

/** The program as a tree: hidden commands and `help` left out; --help on every level. */
export function completionTree(cmd: Command): CompletionNode {
  const options = cmd.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      flags: [o.long, o.short].filter((f): f is string => Boolean(f)),
      description: o.description,
    }));
  options.push({ flags: ['--help', '-h'], description: 'show help' });
  return {
    name: cmd.name(),
    aliases: cmd.aliases(),
    description: cmd.description(),
    options,
    children: cmd.commands
      .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden && c.name() !== 'help')
      .map(completionTree),
  };
}

/** Every command path ('' for the root, ' dlq', ' dlq list'…) with its node. */
function paths(node: CompletionNode, prefix = ''): [string, CompletionNode][] {
  const out: [string, CompletionNode][] = [[prefix, node]];
  for (const c of node.children) {
    for (const name of [c.name, ...c.aliases]) out.push(...paths(c, `${prefix} ${name}`));
  }
  return out;
}

function words(node: CompletionNode): string[] {
  return [
    ...node.children.flatMap((c) => [c.name, ...c.aliases]),
    ...node.options.flatMap((o) => o.flags),
  ];
}

/** The program's global options apply under every command (commander accepts them anywhere). */
function withGlobals(root: CompletionNode, node: CompletionNode): CompletionNode {
  if (node === root) return node;
  const globals = root.options.filter(
    (o) => !o.flags.includes('--help') && !o.flags.includes('-V'),
  );
  return { ...node, options: [...node.options, ...globals] };
}

/** The command paths as a shell `case` pattern (`"a"|"a b"|…`). */
const knownPaths = (all: ReturnType<typeof paths>) =>
  all
    .filter(([p]) => p !== '')
    .map(([p]) => `"${p}"`)
    .join('|');

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function bashScript(root: CompletionNode): string {
  const all = paths(root);
  const name = root.name;
  const known = knownPaths(all);
  const cases = all
    .map(([p, n]) => `    "${p}") words=${quote(words(withGlobals(root, n)).join(' '))} ;;`)
    .join('\n');
  return `# ${name} completion for bash, generated from the command tree by \`${name} completion bash\`.
# Install: source <(${name} completion bash), or save it under /etc/bash_completion.d/
_${fn(name)}() {
  local cur path w i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case "$path $w" in
      ${known || '"-"'}) path="$path $w" ;;
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _${fn(name)} ${name}
`;
}

export function zshScript(root: CompletionNode): string {
  const all = paths(root);
  const name = root.name;
  const known = knownPaths(all);
  const entry = (word: string, description: string) =>
    quote(`${word.replaceAll(':', '\\:')}:${description.replace(/\s+/g, ' ')}`);
  const cases = all
    .map(([p, node]) => {
      const n = withGlobals(root, node);
      const items = [
        ...n.children.flatMap((c) => [c.name, ...c.aliases].map((w) => entry(w, c.description))),
        ...n.options.flatMap((o) => o.flags.map((f) => entry(f, o.description))),
      ];
      return `    "${p}") cands=(${items.join(' ')}) ;;`;
    })
    .join('\n');
  return `#compdef ${name}
# ${name} completion for zsh, generated from the command tree by \`${name} completion zsh\`.
# Install: source <(${name} completion zsh), or save it as _${name} in a directory of $fpath
_${fn(name)}() {
  local p="" w
  local -a cands
  for w in "\${(@)words[2,CURRENT-1]}"; do
    [[ $w == -* ]] && continue
    case "$p $w" in
      (${known || '"-"'}) p="$p $w" ;;
    esac
  done
  case "$p" in
${cases.replaceAll('    "', '    ("')}
  esac
  _describe -t commands '${name}' cands
}
if (( $+functions[compdef] )); then compdef _${fn(name)} ${name}; fi
`;
}

export function fishScript(root: CompletionNode): string {
  const name = root.name;
  const lines = [
    `# ${name} completion for fish, generated from the command tree by \`${name} completion fish\`.`,
    `# Install: ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `complete -c ${name} -f`,
  ];
  const opt = (cond: string, o: CompletionNode['options'][number]) => {
    const flags = o.flags
      .map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`))
      .join(' ');
    return `complete -c ${name}${cond} ${flags} -d ${quote(o.description)}`;
  };
  for (const o of root.options) lines.push(opt('', o));
  const walk = (node: CompletionNode, chain: string[]) => {
    // The subcommands of `node` are offered once the chain is typed and none of them yet.
    const subs = node.children.flatMap((c) => [c.name, ...c.aliases]);
    const seen = chain.map((c) => `__fish_seen_subcommand_from ${c}`);
    const none = subs.length ? [`not __fish_seen_subcommand_from ${subs.join(' ')}`] : [];
    const cond = chain.length === 0 ? ['__fish_use_subcommand'] : [...seen, ...none];
    for (const c of node.children) {
      for (const word of [c.name, ...c.aliases]) {
        lines.push(
          `complete -c ${name} -n ${quote(cond.join('; and '))} -a ${word} -d ${quote(c.description)}`,
        );
      }
      const here = [...chain, c.name];
      const at = ` -n ${quote(here.map((x) => `__fish_seen_subcommand_from ${x}`).join('; and '))}`;
      for (const o of c.options) lines.push(opt(at, o));
      walk(c, here);
    }
  };
  walk(root, []);
  return lines.join('\n') + '\n';
}

function fn(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}
