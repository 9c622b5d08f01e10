/**
 * The CLI's exit codes: one table, printed by `gaffer --help` and in docs/cli.md. Scripts branch
 * on these, so a code keeps its meaning once given.
 */
export const EXIT = {
  ok: 0,
  /** gaffer answered with an error (any but 401/403); `submit --wait`: the job did not succeed. */
  api: 1,
  usage: 2,
  connect: 3,
  /** 401/403: no valid API key, or its role or types do not allow this. */
  auth: 4,
  /** `gaffer wait`: the job ended without succeeding, or the batch has jobs that did not. */
  unsuccessful: 5,
  /** `gaffer wait --timeout` ran out before the job or batch ended. */
  timeout: 6,
  /** `gaffer up` refused to start: its port is taken, or another gaffer holds its data folder. */
  startup: 7,
  /** Ctrl-C (SIGINT) while `submit --wait` waited: the job keeps running (128 + SIGINT's 2). */
  interrupted: 130,
  /** stdout's or stderr's reader went away (`gaffer jobs | head -1`): pipe.ts. */
  pipeClosed: 141,
} as const;

export const EXIT_TABLE: [code: number, meaning: string][] = [
  [EXIT.ok, 'success (a waited-for job or batch succeeded)'],
  [
    EXIT.api,
    'gaffer answered with an error (the code is printed, e.g. GAFFER_JOB_NOT_FOUND); ' +
      'submit --wait: the job did not succeed',
  ],
  [EXIT.usage, 'usage error: unknown command or option, bad value, unreadable file'],
  [EXIT.connect, 'cannot connect to gaffer (is it up? --url / GAFFER_URL)'],
  [EXIT.auth, 'authentication refused (401) or not allowed (403): --api-key / GAFFER_API_KEY'],
  [EXIT.unsuccessful, 'gaffer wait: the job or batch ended, and not every job succeeded'],
  [EXIT.timeout, 'gaffer wait: --timeout ran out before the job or batch ended'],
  [
    EXIT.startup,
    'gaffer up: refused to start: its port is taken, or another gaffer holds its data folder',
  ],
  [
    EXIT.interrupted,
    'submit --wait: interrupted (Ctrl-C); the job keeps running, and the message says how to ' +
      'follow or cancel it',
  ],
  [
    EXIT.pipeClosed,
    "the reader of gaffer's output went away (head -1 in a pipe): ended quietly, as git does",
  ],
];

export function exitCodesHelp(): string {
  return ['', 'Exit codes:', ...EXIT_TABLE.map(([c, m]) => `  ${c}  ${m}`)].join('\n');
}
