/**
 * TLS material for the engines: the PEM bytes, already read. Reading them
 * from the configured files is config-tls.ts's job, at start-up in main.ts.
 */
export interface TlsMaterial {
  /** PEM certificate chain. */
  readonly cert: Buffer;
  /** PEM private key. */
  readonly key: Buffer;
  /** PEM CA bundle; when present, callers must present a certificate it signed (mTLS). */
  readonly clientCa?: Buffer;
}
