/**
 * Strings decoded from protobuf keep a leading U+FEFF.
 *
 * protobuf-es decodes string fields with a default TextDecoder, and a default
 * TextDecoder drops a byte order mark at the start of its input: a quantity
 * sent as "\uFEFF1" arrived as "1" and was accepted, on both engines, though
 * the contract refuses anything around a decimal. A string field is not a
 * document; its first character is data. Upstream, protobuf-es's
 * text-encoding.ts would construct its decoders with `ignoreBOM: true`; until
 * then its public `configureTextEncoding` installs decoders that do, and
 * keeps everything else as the library's default (strict decoding throws on
 * invalid UTF-8, checkUtf8 by encodeURIComponent).
 */
import { configureTextEncoding } from "@bufbuild/protobuf/wire";

let installed = false;

/** Installs the BOM-preserving decoders for the whole process; idempotent. */
export function preserveByteOrderMarks(): void {
  if (installed) return;
  installed = true;
  const encoder = new TextEncoder();
  const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
  const strict = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
  configureTextEncoding({
    encodeUtf8: (text) => encoder.encode(text),
    decodeUtf8: (bytes, strictly) => (strictly ? strict : lenient).decode(bytes),
    checkUtf8: (text) => {
      try {
        encodeURIComponent(text);
        return true;
      } catch {
        return false;
      }
    },
  });
}
