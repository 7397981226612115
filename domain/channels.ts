// The channels the product sends on (SPEC §1). The one list: the API's schema,
// the configuration's task queues, the database's types and the channel
// registry (channels/registry.ts) all take their names from here.
// Pure data: safe to import from workflow code.

export const CHANNELS = ['email', 'sms', 'line'] as const;

export type Channel = (typeof CHANNELS)[number];

export function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}
