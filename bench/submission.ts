/**
 * Submission at scale: `npm run bench:submission [-- --rows=1000000 --jobs=100000
 * --rounds=3 --chunks=1000,10000,50000 --lanes=64 --node-options=--max-old-space-size=128]`.
 *
 * Each part of each round starts a fresh `gaffer up` as its own process (its RSS is gaffer's alone)
 * on the default store (`synchronous=FULL`), with the example config's `csv-row` type (its payload schema, so
 * every row is validated) scaled to max 0: nothing runs, what is measured is acceptance. Then:
 *
 * - CSV upload: the `--rows` CSV written by `gaffer gen-data` is sent with the typed client's
 *   `uploadCsv(path)` (a file-backed Blob, read from disk as it is sent); rows/s = accepted / wall
 *   time of the request; gaffer's VmRSS is sampled every 100 ms during it and the peak reported.
 * - Batch vs one by one: `--jobs` jobs (`gaffer gen-data` rows as payloads) via POST /v1/jobs/batch in
 *   chunks of each `--chunks` size, one request at a time, as one NDJSON stream to POST
 *   /v1/batches, and via POST /v1/jobs with `--lanes` requests in flight (keep-alive). Which goes first alternates between rounds, so machine noise
 *   spreads over both.
 *
 * Prints medians with their spread and PASS/FAIL lines against gaffer's submission targets: upload ≥ 100,000
 * rows/s with peak RSS < 256 MB, batch ≥ 10× one by one (at the 10,000 chunk, or the first size).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '../src/client/index.ts';
import { CSV_HEADER, generateRows } from '../src/cli/commands/gen-data.ts';
import { inLanes, perSecond, procMemory, round, sampleRss, startGafferProcess } from './lib.ts';

const arg = (name: string, dflt: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const rows = Number(arg('rows', '1000000'));
const jobs = Number(arg('jobs', '100000'));
const rounds = Number(arg('rounds', '3'));
const chunks = arg('chunks', '1000,10000,50000').split(',').map(Number);
const lanes = Number(arg('lanes', '64'));
// Flags for gaffer's node, space-separated, e.g. --node-options=--max-old-space-size=128.
const nodeArgs = arg('node-options', '').split(' ').filter(Boolean);
const RATE_TARGET = 100_000;
const RSS_TARGET = 256 * 1024 * 1024;
const RATIO_TARGET = 10;
const ratioChunk = chunks.includes(10_000) ? 10_000 : chunks[0]!;

const repo = path.resolve(import.meta.dirname, '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-bench-submission-'));
const csv = path.join(dir, 'rows.csv');
const config = path.join(dir, 'gaffer.yaml');
// The `csv-row` type from examples/gaffer.config.yaml, with a handler that is never started.
writeFileSync(
  config,
  JSON.stringify({
    jobTypes: {
      'csv-row': {
        worker: { handler: 'bench/noop-handler.ts' },
        scaling: { min: 0, max: 0 },
        payloadSchema: {
          type: 'object',
          required: ['id', 'name', 'email', 'amount', 'created_at'],
          properties: {
            id: { type: 'string', pattern: '^[0-9]+$' },
            name: { type: 'string', minLength: 1 },
            email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' },
            amount: { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,2})?$' },
            currency: { type: 'string', pattern: '^[A-Z]{3}$' },
            country: { type: 'string', pattern: '^[A-Z]{2}$' },
            created_at: { type: 'string', minLength: 10 },
          },
        },
      },
    },
  }),
);
const MB = (bytes: number) => round(bytes / 1024 / 1024, 1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => x.toLocaleString('en-US');
const spread = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
// The machine is shared: every figure is printed with the 1-minute load average after it.
const load = () => `(load ${os.loadavg()[0]!.toFixed(2)})`;

const upload = { rate: [] as number[], peak: [] as number[], before: [] as number[] };
const batch = new Map<number, number[]>(chunks.map((c) => [c, []]));
const single: number[] = [];
const stream: number[] = [];

try {
  const t = performance.now();
  execFileSync(process.execPath, ['src/cli/main.ts', 'gen-data', '-n', String(rows), '-o', csv], {
    cwd: repo,
    stdio: 'ignore',
  });
  console.log(`gen-data: ${fmt(rows)} rows in ${round((performance.now() - t) / 1000, 1)} s`);
  const payloads = [...generateRows({ rows: jobs, seed: 7 })].map((cells) =>
    Object.fromEntries(CSV_HEADER.map((h, i) => [h, cells[i]!])),
  );

  // A fresh gaffer (own process, own store) for each part of each round: the upload's million
  // queued rows do not weigh on the batch vs one-by-one comparison.
  let fresh = 0;
  const withGaffer = async (fn: (pid: number, url: string) => Promise<void>) => {
    const data = path.join(dir, `data-${++fresh}`);
    const args = ['--config', config, '--data-dir', data, '--no-watch'];
    const gaffer = await startGafferProcess(args, nodeArgs);
    try {
      await fn(gaffer.pid, gaffer.url);
    } finally {
      await gaffer.stop();
      rmSync(data, { recursive: true, force: true });
    }
  };

  for (let r = 1; r <= rounds; r++) {
    console.log(`round ${r}/${rounds} (load ${os.loadavg()[0]!.toFixed(2)})`);
    await withGaffer(async (pid, url) => {
      const client = createClient({ url });
      const before = procMemory(pid).rss;
      const sampler = sampleRss(pid);
      const t0 = performance.now();
      const res = await client.jobs.uploadCsv(csv, { type: 'csv-row' });
      const ms = performance.now() - t0;
      const { peak, samples } = sampler.stop();
      if (res.batch.accepted !== rows) {
        throw new Error(`upload accepted ${res.batch.accepted} of ${rows} rows`);
      }
      upload.rate.push(perSecond(res.batch.accepted, ms));
      upload.peak.push(MB(peak));
      upload.before.push(MB(before));
      console.log(
        `  upload      ${fmt(rows)} rows in ${round(ms / 1000, 2)} s = ${fmt(perSecond(rows, ms))} rows/s; RSS ${MB(before)} → peak ${MB(peak)} MB (${samples} samples, VmHWM ${MB(procMemory(pid).hwm)} MB) ${load()}`,
      );
    });

    await withGaffer(async (_pid, url) => {
      const client = createClient({ url });
      const runBatch = async (chunk: number) => {
        const t0 = performance.now();
        for (let i = 0; i < jobs; i += chunk) {
          const body = {
            type: 'csv-row',
            jobs: payloads.slice(i, i + chunk).map((p) => ({ payload: p })),
          };
          const out = await client.jobs.submitBatch(body);
          if (out.accepted !== body.jobs.length) {
            throw new Error(`batch rejected ${out.rejected.length}`);
          }
        }
        const rate = perSecond(jobs, performance.now() - t0);
        batch.get(chunk)!.push(rate);
        console.log(
          `  batch       chunk ${String(chunk).padStart(6)}: ${fmt(rate).padStart(8)} jobs/s ${load()}`,
        );
      };
      // The same jobs as one streamed request (NDJSON): no body limit, committed in chunks.
      const runStream = async () => {
        const t0 = performance.now();
        const subs = payloads.map((p) => ({ payload: p }));
        const out = await client.jobs.submitStream(subs, { type: 'csv-row' });
        if (out.batch.accepted !== jobs) throw new Error(`stream rejected ${out.batch.rejected}`);
        const rate = perSecond(jobs, performance.now() - t0);
        stream.push(rate);
        console.log(`  stream      1 request:    ${fmt(rate).padStart(8)} jobs/s ${load()}`);
      };
      const runSingle = async () => {
        const t0 = performance.now();
        await inLanes(jobs, lanes, (i) =>
          client.jobs.submit({ type: 'csv-row', payload: payloads[i] }),
        );
        const rate = perSecond(jobs, performance.now() - t0);
        single.push(rate);
        console.log(`  one by one  ${lanes} in flight:  ${fmt(rate).padStart(8)} jobs/s ${load()}`);
      };
      // Which goes first alternates, so a slow stretch of the machine hits both.
      if (r % 2 === 1) {
        for (const c of chunks) await runBatch(c);
        await runStream();
        await runSingle();
      } else {
        await runSingle();
        await runStream();
        for (const c of [...chunks].reverse()) await runBatch(c);
      }
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
console.log(`\nmedian of ${rounds} rounds (min–max), ${os.cpus().length} cores`);
console.log('| measurement | median | min–max |');
console.log('| --- | --- | --- |');
console.log(
  `| CSV upload, ${fmt(rows)} rows, rows/s | ${fmt(median(upload.rate))} | ${spread(upload.rate)} |`,
);
console.log(
  `| gaffer peak RSS during upload, MB | ${median(upload.peak)} | ${spread(upload.peak)} |`,
);
console.log(
  `| gaffer RSS before upload, MB | ${median(upload.before)} | ${spread(upload.before)} |`,
);
for (const [c, rates] of batch) {
  console.log(
    `| POST /v1/jobs/batch, chunks of ${fmt(c)}, jobs/s | ${fmt(median(rates))} | ${spread(rates)} |`,
  );
}
console.log(
  `| POST /v1/batches (NDJSON), ${fmt(jobs)} jobs in 1 request, jobs/s | ${fmt(median(stream))} | ${spread(stream)} |`,
);
console.log(
  `| POST /v1/jobs, ${lanes} in flight, jobs/s | ${fmt(median(single))} | ${spread(single)} |`,
);
const rate = median(upload.rate);
// Memory: the worst round, not the median.
const peak = Math.max(...upload.peak);
const ratio = round(median(batch.get(ratioChunk)!) / median(single), 1);
console.log(
  `\n${verdict(rate >= RATE_TARGET)} upload rate: ${fmt(rate)} rows/s (target ≥ ${fmt(RATE_TARGET)})`,
);
console.log(
  `${verdict(peak * 1024 * 1024 < RSS_TARGET)} upload memory: peak RSS ${peak} MB, worst round (target < 256 MB)`,
);
console.log(
  `${verdict(ratio >= RATIO_TARGET)} batch vs one by one: ${ratio}× (chunks of ${fmt(ratioChunk)} vs ${lanes} in flight; target ≥ ${RATIO_TARGET}×)`,
);
