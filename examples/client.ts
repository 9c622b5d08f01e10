/**
 * The typed client in a few lines (docs/client.md). Against a running gaffer:
 *
 *   npx node src/cli/main.ts up --config examples/gaffer.config.yaml &
 *   npx node examples/client.ts [csv-file]
 *
 * Submits a job and waits for it, uploads a CSV as a batch with a progress line, and prints the
 * queues. `GAFFER_URL` and `GAFFER_API_KEY` are read as the CLI reads them.
 */
import { createClient, GafferApiError, GafferConnectionError } from 'gaffer/client';

const gaffer = createClient({
  url: process.env['GAFFER_URL'] || 'http://127.0.0.1:8080',
  ...(process.env['GAFFER_API_KEY'] ? { apiKey: process.env['GAFFER_API_KEY'] } : {}),
});

try {
  const { job } = await gaffer.jobs.submit({ type: 'matrix-multiplication', payload: { size: 8 } });
  const end = await gaffer.waitFor(job.id, {
    signal: AbortSignal.timeout(60_000),
    onProgress: (t) => t.kind === 'job' && console.log(`${t.job.id}: ${t.job.state}`),
  });
  console.log(
    end.succeeded ? 'succeeded' : 'did not succeed',
    end.kind === 'job' && end.job.result,
  );

  const csv = process.argv[2];
  if (csv) {
    const { batch } = await gaffer.jobs.uploadCsv(csv, {
      type: 'csv-row',
      onProgress: (sent, total) => process.stderr.write(`\ruploaded ${sent} of ${total} bytes`),
    });
    console.log(`\nbatch ${batch.id}: ${batch.accepted} accepted, ${batch.rejected} rejected`);
  }

  for (const q of await gaffer.queues()) {
    console.log(`${q.type}: ${q.ready} ready, ${q.inFlight} in flight, desired ${q.desired}`);
  }
} catch (err) {
  if (err instanceof GafferApiError) console.error(`${err.status} ${err.code}: ${err.message}`);
  else if (err instanceof GafferConnectionError) console.error(err.message);
  else throw err;
  process.exitCode = 1;
}
