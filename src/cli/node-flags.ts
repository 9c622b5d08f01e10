/**
 * Flags for the node process that runs gaffer, given wherever gaffer is started: the shebang of
 * bin/gaffer.mjs and its re-run on an older Node, the npm scripts, the Dockerfiles, and the
 * benchmarks' launcher (bench/lib.ts). test/cli/node-flags.test.ts checks that each says the same.
 * Installed from the npm package, `gaffer` and `npx gaffer` run bin/gaffer.mjs through a link, so
 * its shebang gives them (test/package/package.test.ts reads the running CLI's flags); `node
 * path/to/bin/gaffer.mjs` does not.
 *
 * `--max-semi-space-size=16`: V8 sizes its young generation when the process starts (set at run
 * time, the flag changes nothing) and on this 64-bit Node lets it grow to 2 × 64 MB, which a
 * million-row CSV upload fills. 16 MB semi-spaces: measured on 1,000,000-row uploads (2-core
 * machine), gaffer's peak RSS 257–269 MB → 188–215 MB at the same rate (7.8–8.4 s against
 * 7.4–8.1 s); 8 MB was 8% slower. The library (createGaffer) runs in its host's process, whose
 * flags are the host's.
 */
export const NODE_FLAGS = ['--max-semi-space-size=16'] as const;
