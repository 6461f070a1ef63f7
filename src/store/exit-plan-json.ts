/**
 * Exit plans and triggers as JSON text, for stores that keep a tracker as
 * strings (a Redis hash field each). Decimals are written as plain decimal
 * strings (decimal.js's toJSON) and read back as decimals, never as floats.
 */
import type { DistanceSpec, ExitPlan, ExitTrigger, PeakDrawdownSpec, PriceLevelSpec, TrailingStopSpec } from "../domain/exit-plan.js";
import { Money } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";

type Json = Record<string, unknown>;

export function encodeExitPlan(plan: ExitPlan): string {
  return JSON.stringify(plan);
}

export function decodeExitPlan(text: string): ExitPlan {
  const json = parse(text, "exit plan");
  const stopLoss = optional(json.stopLoss, level);
  const takeProfit = optional(json.takeProfit, level);
  const trailingStop = optional(json.trailingStop, trailing);
  const peakDrawdown = optional(json.peakDrawdown, peak);
  return {
    ...(stopLoss ? { stopLoss } : {}),
    ...(takeProfit ? { takeProfit } : {}),
    ...(trailingStop ? { trailingStop } : {}),
    ...(peakDrawdown ? { peakDrawdown } : {}),
    ...(json.timeExit ? { timeExit: json.timeExit as ExitPlan["timeExit"] & object } : {}),
    ...(json.sessionEnd ? { sessionEnd: json.sessionEnd as ExitPlan["sessionEnd"] & object } : {}),
    version: Number(json.version),
  };
}

export function encodeExitTrigger(trigger: ExitTrigger): string {
  return JSON.stringify(trigger);
}

export function decodeExitTrigger(text: string): ExitTrigger {
  const json = parse(text, "exit trigger");
  return {
    rule: Number(json.rule),
    ...(json.level === undefined ? {} : { level: decimal(json.level) }),
    ...(json.tickPrice === undefined ? {} : { tickPrice: decimal(json.tickPrice) }),
    tickTimeMs: Number(json.tickTimeMs),
    planVersion: Number(json.planVersion),
  };
}

function level(json: Json): PriceLevelSpec {
  return { kind: json.kind as PriceLevelSpec["kind"], value: decimal(json.value) };
}

function distance(json: Json): DistanceSpec {
  return { kind: json.kind as DistanceSpec["kind"], value: decimal(json.value) };
}

function trailing(json: Json): TrailingStopSpec {
  const activation = optional(json.activation, level);
  return {
    distance: distance(json.distance as Json),
    ...(activation ? { activation } : {}),
    ...(json.step === undefined ? {} : { step: decimal(json.step) }),
  };
}

function peak(json: Json): PeakDrawdownSpec {
  const minProfit = optional(json.minProfit, distance);
  return { giveBackPercent: decimal(json.giveBackPercent), ...(minProfit ? { minProfit } : {}) };
}

function optional<T>(value: unknown, read: (json: Json) => T): T | undefined {
  return value === undefined || value === null ? undefined : read(value as Json);
}

function decimal(value: unknown): Money {
  if (typeof value !== "string")
    throw new TradingCoreError("internal", `stored exit plan has a decimal that is not a string: ${String(value)}`);
  return new Money(value);
}

function parse(text: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new TradingCoreError("internal", `stored ${what} is not JSON`, { cause: error });
  }
}
