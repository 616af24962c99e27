/**
 * Signal classes: one vocabulary for every kind, every alert and every screen.
 * Order is priority: alarm > supervisory > trouble > info (fire panels: 火警 > 监管 > 故障).
 */
export const SIGNAL_CLASSES = ['alarm', 'supervisory', 'trouble', 'info'] as const;
export type SignalClass = (typeof SIGNAL_CLASSES)[number];

/** Lower number = higher priority. */
export function signalPriority(signalClass: SignalClass): number {
  return SIGNAL_CLASSES.indexOf(signalClass);
}
