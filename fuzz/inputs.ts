// Input number i of a run: the seeds themselves first (they must all be accepted), then seeded mutations. A pure
// function of (target, seeds, seed, i), so the parent can rebuild any input the child was killed on.
import { createRng, hashString, mutateInput } from './mutate.ts';
import type { FuzzTarget } from './target.ts';

export function inputAt(target: FuzzTarget, seeds: readonly Uint8Array[], seed: number, i: number): Uint8Array {
  if (i < seeds.length) return seeds[i] as Uint8Array;
  const rng = createRng(hashString(`${target.name}:${seed}:${i}`));
  return mutateInput(seeds, rng, target.mutate ? (input, r) => target.mutate!(input, r) : undefined);
}
