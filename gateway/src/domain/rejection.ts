/**
 * Why a message was not accepted. These codes are a public contract: they label the
 * `gridwatch_messages_rejected_total{reason}` metric and every dead letter, and integrators
 * filter on them. Add codes; never rename one.
 */
export const REJECTION_REASONS = {
  topic_invalid: 'Topic is not gridwatch/v1/{deviceId}/{telemetry|event|status}',
  topic_device_mismatch: 'Topic names a different device than the authenticated publisher',
  unknown_device: 'No registered device has this id',
  device_disabled: 'The device is registered but disabled',
  unknown_kind: "The device's kind is not registered in this gateway",
  oversize_payload: 'Payload exceeds the configured maximum size',
  invalid_utf8: 'Payload is not valid UTF-8',
  malformed_json: 'Payload is not a JSON object',
  schema_violation: "Payload does not match the kind's schema for this channel",
  device_id_mismatch: 'Payload deviceId differs from the topic',
  timestamp_future: 'Device timestamp is too far in the future',
  timestamp_past: 'Device timestamp is too far in the past',
  duplicate: 'Same device, channel, seq and timestamp already accepted (redelivery)',
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

export interface Rejection {
  readonly reason: RejectionReason;
  /** Human-readable specifics: which field, which limit. Never contains secrets. */
  readonly detail: string;
}

export function reject(reason: RejectionReason, detail: string = REJECTION_REASONS[reason]): Rejection {
  return { reason, detail };
}
