import { Prng } from '../../src/simulator/random';

/** The simulator's seeded generator with the choices a chaos run makes: one seed drives a whole run. */
export class Random extends Prng {
  constructor(readonly seed: number) {
    super(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = this.int(0, i);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
