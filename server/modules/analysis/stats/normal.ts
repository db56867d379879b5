// Standard normal distribution function to full double precision.
//
// Algorithm: W. J. Cody, "Rational Chebyshev approximations for the error function",
// Math. Comp. 23 (1969) 631-637, in the form of his SPECFUN routine ANORM (Cody 1993,
// ACM TOMS Algorithm 715), which is also what R's pnorm() is built on. Three rational
// approximations cover |x| <= 0.66291, |x| <= sqrt(32) and the far tail; the last two
// return the *small* tail directly, so upper-tail p-values such as 1e-30 keep their
// relative precision instead of being lost in 1 - Φ(x).

const SQRT_1_2PI = 0.3989422804014327; // 1/sqrt(2π)
const SQRT_32 = 5.656854249492381;
const THRESHOLD = 0.66291; // Φ(THRESHOLD) ≈ 0.75 (Cody's split point)
const HALF_EPSILON = Number.EPSILON / 2;
// Beyond these |x| one tail underflows to 0 / the other rounds to 1 in binary64.
const TAIL_LIMIT = 37.519379347;

// Cody's ANORM coefficients, each written as its nearest double (shortest round-trip form).
const A = [2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356, 0.06568233791820745] as const;
const B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673] as const;
const C = [
  0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726,
  6848.190450536283, 11602.65143764735, 9842.714838383978, 1.0765576773720192e-8,
] as const;
const D = [
  22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097,
  34900.95272114598, 38912.00328609327, 19685.429676859992,
] as const;
const P = [0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934, 0.000029112874951168793, 0.023073441764940174] as const;
const Q = [1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824, 0.00007297515550839662] as const;

/** Both tails of Φ at x: `lower` = P(Z ≤ x), `upper` = P(Z > x), each with full relative precision. */
function normalTails(x: number): { lower: number; upper: number } {
  if (Number.isNaN(x)) return { lower: Number.NaN, upper: Number.NaN };
  const y = Math.abs(x);
  if (y <= THRESHOLD) {
    let xnum = 0;
    let xden = 0;
    if (y > HALF_EPSILON) {
      const xsq = x * x;
      xnum = A[4] * xsq;
      xden = xsq;
      for (let i = 0; i < 3; i++) {
        xnum = (xnum + A[i]!) * xsq;
        xden = (xden + B[i]!) * xsq;
      }
    }
    const t = (x * (xnum + A[3])) / (xden + B[3]);
    return { lower: 0.5 + t, upper: 0.5 - t };
  }
  let small: number; // the tail beyond |x|, i.e. Φ(-|x|)
  if (y <= SQRT_32) {
    let xnum = C[8] * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + C[i]!) * y;
      xden = (xden + D[i]!) * y;
    }
    small = expHalfSquare(y) * ((xnum + C[7]) / (xden + D[7]));
  } else if (y < TAIL_LIMIT) {
    const xsq = 1 / (x * x);
    let xnum = P[5] * xsq;
    let xden = xsq;
    for (let i = 0; i < 4; i++) {
      xnum = (xnum + P[i]!) * xsq;
      xden = (xden + Q[i]!) * xsq;
    }
    const r = (xsq * (xnum + P[4])) / (xden + Q[4]);
    small = expHalfSquare(y) * ((SQRT_1_2PI - r) / y);
  } else {
    small = 0;
  }
  return x > 0 ? { lower: 1 - small, upper: small } : { lower: small, upper: 1 - small };
}

/**
 * exp(-y²/2) evaluated as exp(-ỹ²/2)·exp(-(y-ỹ)(y+ỹ)/2) with ỹ = trunc(16y)/16, Cody's trick:
 * ỹ² is exact, so the rounding error of y² is not amplified by the exponential in the tail.
 */
function expHalfSquare(y: number): number {
  const ySplit = Math.trunc(y * 16) / 16;
  const del = (y - ySplit) * (y + ySplit);
  return Math.exp(-ySplit * ySplit * 0.5) * Math.exp(-del * 0.5);
}

/**
 * Standard normal cumulative distribution function Φ(x) = P(Z ≤ x).
 *
 * Cody's rational Chebyshev approximation (SPECFUN ANORM, as used by R's `pnorm`);
 * relative error near machine precision in both tails.
 *
 * @example normalCdf(-1.96) // 0.024997895148220435
 */
export function normalCdf(x: number): number {
  return normalTails(x).lower;
}

/**
 * Standard normal survival function 1 − Φ(x) = P(Z > x), computed directly (not as 1 − Φ)
 * so that small upper-tail probabilities keep their relative precision.
 */
export function normalSf(x: number): number {
  return normalTails(x).upper;
}

/** Two-sided normal p-value 2·P(Z > |z|), as R's `2 * pnorm(abs(z), lower.tail = FALSE)`. */
export function twoSidedP(z: number): number {
  return Math.min(1, 2 * normalTails(Math.abs(z)).upper);
}
