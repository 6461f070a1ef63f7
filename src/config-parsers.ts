/**
 * The parsers of configuration values: each turns a flag's or variable's text
 * into a typed value or throws an Error that says what is wrong with it (the
 * loader adds the setting's name).
 */
/** Reads one setting's text; throws an Error saying what is wrong with it. */
export type Parser<T> = (text: string) => T;

export const integer = (min: number, max: number): Parser<number> => (text) => {
  if (!/^\d+$/.test(text.trim())) throw new Error(`"${text}" is not a whole number`);
  const value = Number(text);
  if (value < min || value > max) throw new Error(`${value} is outside ${min}..${max}`);
  return value;
};

export const rate: Parser<number> = (text) => {
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(text.trim())) throw new Error(`"${text}" is not a rate between 0 and 1`);
  return Number(text);
};

export const oneOf = <T extends string>(...values: T[]): Parser<T> => (text) => {
  if (!values.includes(text as T)) throw new Error(`"${text}" is not one of ${values.join(", ")}`);
  return text as T;
};

export const text: Parser<string> = (value) => value;

export const bool: Parser<boolean> = (value) => {
  const normal = value.trim().toLowerCase();
  if (["true", "1", "yes"].includes(normal)) return true;
  if (["false", "0", "no"].includes(normal)) return false;
  throw new Error(`"${value}" is not true or false`);
};

export const url: Parser<string> = (value) => {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error(`"${value}" is not an http(s) URL`);
  return value;
};

export const redisUrl: Parser<string> = (value) => {
  let parsed: URL;
  try {
    parsed = new URL(value.trim());
  } catch {
    throw new Error(`"${value}" is not a URL`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") throw new Error(`"${parsed.protocol}//…" is not a redis:// or rediss:// URL`);
  if (!parsed.hostname) throw new Error("the URL names no host");
  return value.trim();
};

export const redisUrls: Parser<string[]> = (value) => {
  const urls = value.split(",").map((part) => part.trim()).filter((part) => part.length > 0);
  if (urls.length === 0) throw new Error("no URL given");
  return urls.map((url, i) => {
    try {
      return redisUrl(url);
    } catch (error) {
      throw new Error(`URL ${i + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
};
