import type { SettingsFile } from '../config/schema';

/**
 * Settings whose secrets may be read again: after ServiceNow refuses the credentials (a password rotated in the
 * vault), one re-read from every store. Re-reads are coalesced (one in flight, shared by every caller) and
 * spaced (not more than once per `minIntervalMs`), so a wrong password never turns into a storm of vault calls.
 */
export interface LiveSettings {
  current(): SettingsFile;
  /** Whether a re-read would happen now (one is in flight, or the last one is old enough). */
  canReread(): boolean;
  /** Reads the stores again; true when new settings were read (they may hold the same values). */
  reread(): Promise<boolean>;
}

export interface LiveSettingsOptions {
  /** Default 30 s. */
  readonly minIntervalMs?: number;
  readonly now?: () => number;
  /** Told when a re-read fails (the message names the store and setting, never a value). */
  readonly onError?: (error: unknown) => void;
}

export function liveSettings(
  initial: SettingsFile,
  read: () => Promise<SettingsFile>,
  options: LiveSettingsOptions,
): LiveSettings {
  const minIntervalMs = options.minIntervalMs ?? 30_000;
  const now = options.now ?? Date.now;
  let settings = initial;
  let lastStart: number | undefined;
  let pending: Promise<boolean> | undefined;
  const due = () => lastStart === undefined || now() - lastStart >= minIntervalMs;
  return {
    current: () => settings,
    canReread: () => pending !== undefined || due(),
    reread() {
      if (pending !== undefined) return pending;
      if (!due()) return Promise.resolve(false);
      lastStart = now();
      pending = read()
        .then((fresh) => {
          settings = fresh;
          return true;
        })
        .catch((error: unknown) => {
          // The old settings stay: the caller reports its own authentication failure.
          (
            options.onError ??
            ((failure) => console.error(failure instanceof Error ? failure.message : failure))
          )(error);
          return false;
        })
        .finally(() => (pending = undefined));
      return pending;
    },
  };
}

/** Settings that are read once and never again (tests, and callers without stores). */
export function fixedSettings(settings: SettingsFile): LiveSettings {
  return { current: () => settings, canReread: () => false, reread: async () => false };
}
