import type { Payload } from '@temporalio/common';
import { z } from 'zod';

/**
 * Payloads as the codec server protocol carries them: the proto3 JSON form of `temporal.api.common.v1.Payloads`,
 * `{"payloads": [{"metadata": {"<key>": "<base64>"}, "data": "<base64>"}]}`, what the Web UI and the `temporal`
 * CLI send to `/encode` and `/decode` and expect back.
 */
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');

const payloadJson = z.looseObject({
  metadata: z.record(z.string(), base64).nullish(),
  data: base64.nullish(),
});

export const payloadsJson = z.looseObject({ payloads: z.array(payloadJson) });

export type PayloadsJson = z.input<typeof payloadsJson>;

export function payloadsFromJson(body: z.output<typeof payloadsJson>): Payload[] {
  return body.payloads.map((payload) => ({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  }));
}

export function payloadsToJson(payloads: readonly Payload[]): {
  payloads: { metadata: Record<string, string>; data: string }[];
} {
  return {
    payloads: payloads.map((payload) => ({
      metadata: Object.fromEntries(
        Object.entries(payload.metadata ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value ?? []).toString('base64'),
        ]),
      ),
      data: Buffer.from(payload.data ?? []).toString('base64'),
    })),
  };
}
