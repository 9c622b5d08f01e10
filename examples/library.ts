/**
 * gaffer as a library (docs/library.md): job types given as functions, run in this process, on
 * the embedded store. Uses only the package's public exports.
 *
 *   npx node examples/library.ts [data-dir]
 *
 * Resizes three "images", shows a job that fails for good, and the results, typed by the handler.
 */
import { createGaffer, JobFailedError, NonRetryableError, type JobContext } from 'gaffer';

interface Resize {
  url: string;
  width: number;
}

const gaffer = await createGaffer({
  config: { store: { dataDir: process.argv[2] ?? '.gaffer-example' } },
  jobs: {
    resize: {
      concurrency: 4,
      retry: { maxAttempts: 3 },
      timeoutSeconds: 30,
      handler: async (ctx: JobContext<Resize>) => {
        ctx.log(`resizing ${ctx.payload.url} to ${ctx.payload.width} px`);
        if (!ctx.payload.url.startsWith('https://')) {
          throw new NonRetryableError(`not an https URL: ${ctx.payload.url}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10)); // the work
        return { url: ctx.payload.url, width: ctx.payload.width, bytes: ctx.payload.width * 120 };
      },
    },
  },
});

gaffer.on('job:succeeded', ({ job }) => console.log(`event: ${job.type} ${job.id} succeeded`));

const widths = [100, 200, 400];
const handles = await Promise.all(
  widths.map((width) => gaffer.submit('resize', { url: 'https://example.com/cat.png', width })),
);
for (const handle of handles) {
  const { width, bytes } = await handle.result(); // typed: the handler's return value
  console.log(`resized to ${width} px: ${bytes} bytes`);
}

const bad = await gaffer.submit('resize', { url: 'ftp://example.com/cat.png', width: 10 });
try {
  await bad.result();
} catch (err) {
  if (!(err instanceof JobFailedError)) throw err;
  console.log(
    `${err.job.id} ended ${err.job.state} after ${err.job.attempt} attempt: ${err.job.error?.message}`,
  );
}
const logs = await gaffer.logs(handles[0]!.id);
console.log(`log of ${handles[0]!.id}: ${logs.map((l) => l.data.trim()).join(' | ')}`);

await gaffer.close();
