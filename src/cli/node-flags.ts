/**
 * The V8 flags `protogate serve` and `protogate demo` run with: bin/protogate.js's `#!` line and
 * the `npm start` script pass them (V8 reads them at start-up only: `v8.setFlagsFromString` later
 * has no effect on these, and NODE_OPTIONS does not accept them). Anything that starts the gateway
 * with `node` itself (a container's command, the benchmarks) should pass them too.
 *
 * `--no-memory-reducer`: V8's memory reducer shrinks the young generation when it judges the
 * heap idle. Under steady load it still fired, about 105 s after start in every run, shrinking
 * the new space from 32 to 1 MB; from then on every scavenge promoted the objects of the requests
 * in flight, the old generation swung between 30 and 80 MB with a mark-compact every 4 s, RSS
 * rose by half (119 to 180 MB) and scavenges cost 3.5 times as much CPU. A gateway's load is
 * steady, so the reducer has nothing to give back; with it off the heap stays at its warm size.
 */
export const SERVING_NODE_FLAGS: readonly string[] = Object.freeze(["--no-memory-reducer"]);
