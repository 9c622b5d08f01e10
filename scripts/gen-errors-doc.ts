// Regenerates docs/errors.md from the catalogue: `node scripts/gen-errors-doc.ts`.
import { writeFileSync } from 'node:fs';
import { ERRORS } from '../src/errors.ts';

const rows = Object.entries(ERRORS).map(
  ([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} |`,
);
writeFileSync(
  new URL('../docs/errors.md', import.meta.url),
  `# Error catalogue

Every error the API returns has a stable code. The body is
\`{ "error": { "code", "message", "details"? } }\`. This page is generated from \`src/errors.ts\`
by \`node scripts/gen-errors-doc.ts\`; \`test/unit/errors.test.ts\` checks they agree.

| code | HTTP status | meaning |
| --- | --- | --- |
${rows.join('\n')}

A 503 \`GAFFER_UNAVAILABLE\` carries \`Retry-After\`; nothing of that request was committed.
`,
);
