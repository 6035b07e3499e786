import type { Validator } from '@tangerine/contracts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}

/** Parses and validates; throws a TangerineError naming the field and the rule. */
export function decode<T>(data: Uint8Array, validator: Validator<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    value = undefined;
  }
  return validator.parse(value);
}
