/**
 * The band a trail's new high leaves, followed in doubles from the band
 * before it: its firing edge is never on the quiet side of the exact trail,
 * even where the double subtraction cancels most of its digits.
 */
import { describe, expect, it } from "vitest";
import { Money } from "../../../src/domain/money.js";
import { followedTrailBand, isQuiet } from "../../../src/protection/quiet-band.js";

describe("followedTrailBand", () => {
  it("keeps a LONG's trail out of the band when best and distance nearly cancel", () => {
    const best = new Money("100000000.07");
    const distance = new Money("100000000");
    const trail = best.minus(distance);
    const band = followedTrailBand({ low: 0, high: 0 }, true, best.toNumber(), distance.toNumber(), undefined);
    expect(new Money(band.low).greaterThanOrEqualTo(trail)).toBe(true);
    expect(isQuiet(band, trail.toNumber())).toBe(false);
    expect(band.high).toBe(best.toNumber());
  });

  it("keeps a SHORT's trail out of the band, and the band's profit edge at the take profit when nearer", () => {
    const best = new Money("0.07");
    const distance = new Money("100000000");
    const trail = best.plus(distance);
    const band = followedTrailBand({ low: 0, high: Number.POSITIVE_INFINITY }, false, best.toNumber(), distance.toNumber(), 0.09);
    expect(new Money(band.high).lessThanOrEqualTo(trail)).toBe(true);
    expect(isQuiet(band, trail.toNumber())).toBe(false);
    expect(band.low).toBe(0.09);
  });

  it("keeps the old firing edge when it is further than the new candidate (a stop loss above the trail)", () => {
    const band = followedTrailBand({ low: 95, high: 101 }, true, 102, 10, undefined);
    expect(band).toEqual({ low: 95, high: 102 });
    expect(followedTrailBand({ low: 99, high: 105 }, false, 98, 10, undefined)).toEqual({ low: 98, high: 105 });
  });
});
