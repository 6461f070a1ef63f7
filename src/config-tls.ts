/**
 * The engines' TLS material, read once at start-up from the files the
 * configuration names. A file that cannot be read stops start-up with a
 * ConfigError naming the setting; the contents are never logged.
 */
import { readFileSync } from "node:fs";
import { ConfigError, envNameOf, type Config } from "./config.js";
import type { TlsMaterial } from "./server/tls-material.js";

/** The configured TLS material, or undefined for cleartext (no certificate configured). */
export function loadTlsMaterial(config: Pick<Config, "tlsCertFile" | "tlsKeyFile" | "tlsClientCaFile">): TlsMaterial | undefined {
  if (config.tlsCertFile === "" && config.tlsKeyFile === "") return undefined;
  const cert = readSetting("tls-cert-file", config.tlsCertFile);
  const key = readSetting("tls-key-file", config.tlsKeyFile);
  const clientCa = config.tlsClientCaFile === "" ? undefined : readSetting("tls-client-ca-file", config.tlsClientCaFile);
  return { cert, key, ...(clientCa ? { clientCa } : {}) };
}

function readSetting(flag: string, path: string): Buffer {
  if (path === "") throw new ConfigError(`${envNameOf(flag)} is required with the other TLS settings`);
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw new ConfigError(`${envNameOf(flag)}: cannot read ${path} (${reason})`);
  }
}
