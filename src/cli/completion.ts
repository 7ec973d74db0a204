// warden completion bash|zsh: a completion script derived from the commander program itself, so
// every command, subcommand and flag added later completes without editing a list here.
import { Argument, type Command, type Option } from 'commander';

interface Node {
  /** The words typed so far, e.g. "warden tickets". */
  path: string;
  /** Subcommands, and the allowed values of a positional argument (`completion <shell>`). */
  commands: { name: string; description: string }[];
  options: { flag: string; description: string; takesValue: boolean }[];
}

function optionsOf(c: Command): Option[] {
  // Commander adds --help itself; --version only where it was asked for.
  return [...c.options, c.createOption('-h, --help', 'display help for command')];
}

/** Every command path of the program, breadth first, with what may follow it. */
export function commandTree(program: Command): Node[] {
  const out: Node[] = [];
  const walk = (c: Command, path: string): void => {
    const options = optionsOf(c).flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)
      .map((flag) => ({ flag, description: o.description, takesValue: o.required || o.optional })));
    const choices = c.registeredArguments.flatMap((a) => a.argChoices ?? []).map((v) => ({ name: v, description: v }));
    out.push({ path, commands: [...c.commands.map((s) => ({ name: s.name(), description: s.description() })), ...choices], options });
    for (const s of c.commands) walk(s, `${path} ${s.name()}`);
  };
  walk(program, program.name());
  return out;
}

const words = (n: Node): string => [...n.commands.map((c) => c.name), ...n.options.map((o) => o.flag)].join(' ');
const valued = (tree: Node[]): string => [...new Set(tree.flatMap((n) => n.options.filter((o) => o.takesValue).map((o) => o.flag)))].join('|');
const fn = (program: Command): string => `_${program.name().replace(/[^A-Za-z0-9_]/g, '_')}`;

export function bashCompletion(program: Command): string {
  const tree = commandTree(program);
  const name = program.name();
  const paths = tree.filter((n) => n.path !== name).map((n) => `"${n.path}"`).join('|');
  return `# bash completion for ${name}; load with: source <(${name} completion bash)
${fn(program)}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" key="${name}" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "$key \${COMP_WORDS[i]}" in
      ${paths}) key="$key \${COMP_WORDS[i]}" ;;
    esac
  done
  case "$prev" in
    ${valued(tree)}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  local words=""
  case "$key" in
${tree.map((n) => `    "${n.path}") words="${words(n)}" ;;`).join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F ${fn(program)} ${name}
`;
}

/** A zsh single-quoted "word:description" item for _describe. */
const zq = (word: string, description: string): string => `'${`${word.replace(/:/g, '\\:')}:${description}`.replace(/'/g, `'\\''`)}'`;

export function zshCompletion(program: Command): string {
  const tree = commandTree(program);
  const name = program.name();
  const paths = tree.filter((n) => n.path !== name).map((n) => `"${n.path}"`).join('|');
  return `#compdef ${name}
# zsh completion for ${name}; load with: source <(${name} completion zsh), or save as _${name} on $fpath
${fn(program)}() {
  local key="${name}" i
  for ((i = 2; i < CURRENT; i++)); do
    case "$key \${words[i]}" in
      ${paths}) key="$key \${words[i]}" ;;
    esac
  done
  case "\${words[CURRENT-1]}" in
    ${valued(tree)}) _files; return ;;
  esac
  local -a items
  case "$key" in
${tree.map((n) => `    "${n.path}") items=(${[...n.commands.map((c) => zq(c.name, c.description)), ...n.options.map((o) => zq(o.flag, o.description))].join(' ')}) ;;`).join('\n')}
  esac
  _describe -t commands '${name}' items
}
if [[ "\${zsh_eval_context[-1]}" == loadautoload ]]; then
  ${fn(program)} "$@"
else
  compdef ${fn(program)} ${name}
fi
`;
}

export function registerCompletion(program: Command): void {
  program.command('completion')
    .description('print a shell completion script; e.g. source <(warden completion bash)')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}
