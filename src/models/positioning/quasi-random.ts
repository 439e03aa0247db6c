// Fixed quasi-random points (Halton sequences): integrals over a Gaussian or a rectangle that are deterministic and
// smooth in their inputs, with fewer points than pseudo-random draws need. Used for room probabilities (rooms.ts)
// and the posterior mean of a fix (multilateration-posterior.ts).

/** The i-th element (i ≥ 1) of the Halton sequence in `base`, in [0, 1). */
export function halton(i: number, base: number): number {
  let f = 1;
  let r = 0;
  let n = i;
  while (n > 0) {
    f /= base;
    r += f * (n % base);
    n = Math.floor(n / base);
  }
  return r;
}

/** 512 standard-normal points in 2-D: Halton bases 2 and 3 through Box–Muller. */
export const NORMALS: ReadonlyArray<readonly [number, number]> = Array.from({ length: 512 }, (_, i) => {
  const u1 = halton(i + 1, 2);
  const u2 = halton(i + 1, 3);
  const r = Math.sqrt(-2 * Math.log(1 - u1 * 0.999999));
  return [r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2)] as const;
});
