/**
 * The V8 flags every `sbp` process runs with. bin/sbp.js's shebang (`npx sbp …`) and `npm start` pass them to node,
 * and the pipeline benchmark starts its `sbp hub` and `sbp worker` processes with them, so it measures what users
 * run; test/cli/node-flags.test.ts keeps the three the same. Started as `node bin/sbp.js …`, pass them yourself
 * (or through NODE_OPTIONS).
 *
 * `--max-semi-space-size=32` lets V8's young generation grow to 2 × 32 MB instead of its 2 × 16 MB default. The hub
 * allocates a few KB per probe (frame text, the parsed and validated message, results) that die within
 * milliseconds; with 16 MB semi-spaces it scavenged ~40 times a second at 80,000 probes/s, so many of those objects
 * were still alive at two scavenges in a row and were promoted, and V8 then pretenured their allocation sites: the old
 * generation filled with garbage at ~50 MB/s and a mark-compact ran about every second, each one followed by a
 * burst of 30–55 ms event-loop turns (the pipeline's periodic latency spikes). With 32 MB: GC time 55–60 ms/s
 * instead of 155–165 at 80,000 probes/s, 0.25–0.4 mark-compacts/s instead of ~0.9 (docs/pipeline.md, "Latency").
 * It is a cap: an idle process's young generation stays small. 64 MB saved no more GC time and made each scavenge
 * pause longer.
 */
export const SBP_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
